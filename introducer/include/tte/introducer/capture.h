// Getting the Enrollment URL (or box URL) off a device (draft 2 message 3, draft 5.1):
// a QR code in a label image (PNG, JPEG, or a PDF page), or an LED recording.
#pragma once

#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/protocol/freestanding/led_frame.h"

namespace tte::introducer {

/// The text of the one QR code in an image file: PNG, JPEG (by content), or PDF (page
/// `page`, 1-based, rasterized at 300 dpi with pdftoppm). The payload is secret (it holds the
/// OTP). Errors: notFound (no file), invalidArgument "<file>: not a PNG, JPEG or PDF file",
/// corrupt "<file>: no QR code found" / "<file>: N QR codes found, expected 1",
/// unavailable (pdftoppm failed, with its exit status), io.
Result<Secret> readQrImage(const std::filesystem::path& file, int page = 1);

/// An LED capture file (docs/PROTOCOL.md §8.1): a first line `fps <number>`, then one
/// brightness per line (any unit; blank lines and lines starting with '#' are ignored).
struct LedCapture {
    double fps = 0;
    std::vector<float> brightness;
};

/// Parses an LED capture. Errors: invalidArgument "<file>: first line must be 'fps <number>'",
/// "<file>:<line>: not a number: '<text>'", notFound, io.
Result<LedCapture> readLedCapture(const std::filesystem::path& file);

/// Decodes a capture into the LED frame (protocol decoder, draft 5.1); errors of
/// protocol::decodeLedTrace().
Result<protocol::LedFrameData> decodeLedCapture(const LedCapture& capture);

}  // namespace tte::introducer
