// ZPL II for Zebra-class thermal printers (raw queue): the same layout as the PDF, with
// the code as a native ^BQ QR code, model 2, error correction H (draft 2).
#pragma once

#include <string>

#include "tte/base/error.h"
#include "tte/labels/layout.h"

namespace tte::labels {

/// One ZPL label: `^XA ^CI28 ^PW<w> ^LL<h> ^LH0,0`, the code as
/// `^FO<x>,<y>^BQN,2,<mag>,H^FDHA,<url>^FS` (mag = module size in dots, 1–10), each text
/// line as `^FO^A0N^FB^FH^FD…^FS`, and `^PQ1^XZ`. Errors: outOfRange when the module
/// size is over 10 dots (the largest ^BQ magnification).
Result<std::string> renderZpl(const LabelLayout& layout);

}  // namespace tte::labels
