// Query strings of the `tte` URLs (draft 2: `otp=…,devid=…`) and form bodies
// (application/x-www-form-urlencoded), parsed strictly (docs/PROTOCOL.md §2, §6).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tte/base/error.h"

namespace tte::protocol {

inline constexpr std::size_t kMaxQueryLength = 4096;
inline constexpr std::size_t kMaxQueryParams = 32;

/// Parameters in their order of appearance; names lower-cased, values percent-decoded.
class QueryParams {
public:
    using Entry = std::pair<std::string, std::string>;

    /// The value of `name` (lower-case), or nullptr.
    [[nodiscard]] const std::string* find(std::string_view name) const;
    [[nodiscard]] const std::vector<Entry>& entries() const { return m_entries; }
    [[nodiscard]] std::size_t size() const { return m_entries.size(); }
    [[nodiscard]] bool empty() const { return m_entries.empty(); }

    /// Adds a parameter. Errors: invalidArgument "duplicate parameter '<name>'".
    Status add(std::string name, std::string value);

private:
    std::vector<Entry> m_entries;
};

/// Parses the query of a `tte` URL (without the `?`): `name=value` pairs separated by `,` or
/// `&`; names of [A-Za-z0-9._-] in any case (returned lower-cased); values percent-decoded
/// (`+` stays `+`). Errors (invalidArgument): "query longer than 4096 bytes", "more than 32
/// parameters", "empty parameter at position P", "parameter '<name>' has no '='", "empty
/// parameter name at position P", "bad character in parameter name at position P", "bad
/// percent-escape at position P", "duplicate parameter '<name>'".
Result<QueryParams> parseQuery(std::string_view query);

/// Parses an application/x-www-form-urlencoded body: as parseQuery() but separated by `&`
/// only and with `+` decoding to a space (WHATWG URL standard). Same errors.
Result<QueryParams> parseFormBody(std::string_view body);

/// Decodes %XX escapes (either case of hex), and `+` to a space when `plusIsSpace` (form
/// bodies). The one percent-decoder of the project: libcurl's curl_easy_unescape() passes a
/// malformed escape such as "%zz" or a trailing "%4" through unchanged, where every caller here
/// must refuse it. Errors: invalidArgument "bad percent-escape at position P" (1-based).
Result<std::string> percentDecode(std::string_view text, bool plusIsSpace = false);

/// Percent-encodes every byte outside [A-Za-z0-9._~-] (RFC 3986 unreserved) as %XX.
std::string percentEncode(std::string_view text);

}  // namespace tte::protocol
