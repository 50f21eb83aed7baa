// The path and the query of an HTTP request target (`/path?query`).
#pragma once

#include <string_view>
#include <utility>

namespace tte::mothership {

/// Splits a target into path and query (without the `?`); the query is empty when there is none.
inline std::pair<std::string_view, std::string_view> splitTarget(std::string_view target) {
    const auto q = target.find('?');
    if (q == std::string_view::npos) return {target, {}};
    return {target.substr(0, q), target.substr(q + 1)};
}

}  // namespace tte::mothership
