// The QA verify sheet as PDF (cairo): the same content as formatHtml() – title, verdict, the
// table and the label image – on one A4 page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tte/station/verify.h"

namespace tte::station {

/// The sheet as PDF bytes; `labelPng` empty: "no label image". Errors: internal (cairo),
/// corrupt (the label PNG does not decode).
Result<std::vector<std::uint8_t>> formatPdf(const UnitReport& report, const std::vector<std::uint8_t>& labelPng,
                                            const std::string& when);

}  // namespace tte::station
