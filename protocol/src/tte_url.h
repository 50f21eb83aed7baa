// Private: the shared shape of the `tte` URLs (enrollment and box, docs/PROTOCOL.md §2, §3).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "tte/base/error.h"
#include "tte/protocol/ids.h"
#include "tte/protocol/query.h"

namespace tte::protocol::detail {

inline constexpr std::size_t kMaxTteUrlLength = 256;

struct TteUrlParts {
    MsId ms;
    QueryParams params;
};

/// Splits `https://<MS host>[:443]<path>?<query>`; errors name `what` ("enrollment URL").
Result<TteUrlParts> splitTteUrl(std::string_view url, std::string_view path, std::string_view what, MsIdUse use);

/// Refuses a parameter not in `known` (nor in `alsoAllowed`): "unknown parameter '<name>'".
Status onlyKnownParams(const QueryParams& params, std::initializer_list<std::string_view> known,
                       std::initializer_list<std::string_view> alsoAllowed);

/// The value of a required parameter: "missing parameter '<name>'", "empty parameter '<name>'".
Result<std::string_view> requiredParam(const QueryParams& params, std::string_view name);

}  // namespace tte::protocol::detail
