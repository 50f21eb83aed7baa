// ADDR:PORT parsing (address.h).
#include "tte/protocol/address.h"

#include "tte/protocol/ids.h"

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
    if (host.empty()) return shape();
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
