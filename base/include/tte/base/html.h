// Text for HTML pages: every value escaped.
#pragma once

#include <string>
#include <string_view>

namespace tte {

/// &, <, >, ", ' escaped, for text and attribute values.
std::string escapeHtml(std::string_view s);

}  // namespace tte
