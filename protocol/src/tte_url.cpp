// Splitting and checking the `tte` URLs (docs/PROTOCOL.md §2, §3).
#include "tte_url.h"

#include <algorithm>

namespace tte::protocol::detail {
namespace {

bool startsWithIgnoreCase(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

std::unexpected<Error> failIn(std::string_view what, std::string message) {
    return fail(Errc::invalidArgument, std::string(what) + ": " + std::move(message));
}

}  // namespace

Result<TteUrlParts> splitTteUrl(std::string_view url, std::string_view path, std::string_view what, MsIdUse use) {
    if (url.size() > kMaxTteUrlLength) return failIn(what, "longer than 256 bytes");
    constexpr std::string_view kScheme = "https://";
    if (!startsWithIgnoreCase(url, kScheme)) return failIn(what, "scheme must be https");
    std::string_view rest = url.substr(kScheme.size());
    if (rest.find('#') != std::string_view::npos) return failIn(what, "a fragment is not allowed");
    const std::size_t authorityEnd = std::min(rest.find_first_of("/?"), rest.size());
    std::string_view host = rest.substr(0, authorityEnd);
    rest = rest.substr(authorityEnd);
    if (host.find('@') != std::string_view::npos) return failIn(what, "user info is not allowed");
    if (const std::size_t colon = host.find(':'); colon != std::string_view::npos) {
        const std::string_view port = host.substr(colon + 1);
        if (port != "443") {
            return failIn(what, "port " + quoteForError(port) + " is not allowed (draft 2: the default port)");
        }
        host = host.substr(0, colon);
    }
    auto ms = parseMsHostName(host, use);
    if (!ms) return withContext(ms.error(), what);
    const std::size_t q = rest.find('?');
    const std::string_view gotPath = rest.substr(0, q);
    if (gotPath != path) return failIn(what, "path must be " + std::string(path) + ", got " + quoteForError(gotPath));
    if (q == std::string_view::npos) return failIn(what, "missing query");
    auto params = parseQuery(rest.substr(q + 1));
    if (!params) return withContext(params.error(), what);
    return TteUrlParts{*ms, std::move(*params)};
}

Status onlyKnownParams(const QueryParams& params, std::initializer_list<std::string_view> known,
                       std::initializer_list<std::string_view> alsoAllowed) {
    for (const auto& [name, value] : params.entries()) {
        const bool ok = std::find(known.begin(), known.end(), name) != known.end() ||
                        std::find(alsoAllowed.begin(), alsoAllowed.end(), name) != alsoAllowed.end();
        if (!ok) return fail(Errc::invalidArgument, "unknown parameter " + quoteForError(name));
    }
    return {};
}

Result<std::string_view> requiredParam(const QueryParams& params, std::string_view name) {
    const std::string* value = params.find(name);
    if (value == nullptr) return fail(Errc::invalidArgument, "missing parameter '" + std::string(name) + "'");
    if (value->empty()) return fail(Errc::invalidArgument, "empty parameter '" + std::string(name) + "'");
    return std::string_view(*value);
}

}  // namespace tte::protocol::detail
