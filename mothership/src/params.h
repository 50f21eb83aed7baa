// Request parameters of the MotherShip's HTTPS endpoints: the query of an Enrollment URL
// (`,` or `&` between parameters, names in any case) and form bodies, each value checked
// with a message that names the parameter (PROTOCOL §2, §6).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tte/base/error.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {

/// Parameter name (lower-case) → decoded value.
using Params = std::map<std::string, std::string>;

/// Splits a target into path and query (without the `?`).
std::pair<std::string_view, std::string_view> splitTarget(std::string_view target);

/// Parses `a=1,b=2` / `a=1&b=2` (percent-decoding; `+` is a space when `form`), adding to
/// `out`. Errors: invalidArgument (duplicate parameter, bad escape, missing `=`).
Status parseParams(std::string_view text, bool form, Params& out);

/// Errors: invalidArgument naming the parameter and the problem.
Result<std::uint64_t> requireOtp(const Params& p);
Result<std::uint32_t> requireDevId(const Params& p);
/// cip, cport, cfingerprint. Errors: invalidArgument.
Result<ControllerAddress> requireController(const Params& p);
/// The optional description: at most 200 bytes of UTF-8 without control characters.
Result<std::string> optionalDescription(const Params& p);
/// Refuses a parameter outside `allowed` (comma-separated). Errors: invalidArgument.
Status onlyKnown(const Params& p, std::string_view allowed);

/// A Dev URN's Dev ID (PROTOCOL §1): `urn:dev:ops:<PEN>-<product>-<serial>`.
/// Errors: invalidArgument.
Result<std::uint32_t> devIdOfUrn(std::string_view urn);

/// Lower-case copy.
std::string lower(std::string_view s);

}  // namespace tte::mothership
