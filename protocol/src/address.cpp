// ADDR:PORT parsing (address.h).
#include "tte/protocol/address.h"

#include "tte/protocol/ids.h"

#include <algorithm>

namespace tte::protocol {

Result<HostPort> parseHostPort(std::string_view text, std::string_view what, PortZero zero) {
    const auto shape = [&] {
        return fail(Errc::invalidArgument,
                    std::string(what) + " must be ADDR:PORT or [IPv6]:PORT, got " + quoteForError(text));
    };
    std::string_view host;
    std::string_view port;
    if (text.starts_with('[')) {
        const auto close = text.find("]:");
        if (close == std::string_view::npos) return shape();
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.find(':');
        if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) return shape();
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    // A bracketed host is an IPv6 literal (hex digits, ':' and an embedded IPv4's '.'); a bare
    // one a DNS name or IPv4 literal. Anything else could not be printed back unambiguously.
    const bool bracketed = text.starts_with('[');
    const auto allowed = [&](char c) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (bracketed) return hex || c == ':' || c == '.';
        return hex || (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z') || c == '.' || c == '-' || c == '_';
    };
    if (host.empty() || (bracketed && host.find(':') == std::string_view::npos) ||
        !std::all_of(host.begin(), host.end(), allowed)) {
        return shape();
    }
    const unsigned min = zero == PortZero::allowed ? 0 : 1;
    unsigned value = 0;
    bool ok = !port.empty() && port.size() <= 5;
    for (char c : port) {
        ok = ok && c >= '0' && c <= '9';
        if (ok) value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (!ok || value < min || value > 65535) {
        return fail(Errc::invalidArgument, std::string(what) + ": port must be " + std::to_string(min) +
                                               " to 65535, got " + quoteForError(port));
    }
    return HostPort{std::string(host), static_cast<std::uint16_t>(value)};
}

std::string formatHostPort(std::string_view host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string_view::npos;
    return (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

}  // namespace tte::protocol
