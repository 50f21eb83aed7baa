// ADDR:PORT text, as every program takes it (listen addresses, a Controller's address, a test
// override of the MotherShip's): "192.0.2.1:5684", "[2001:db8::1]:5684", "localhost:8443".
// The one parser of that form in the project.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tte/base/error.h"

namespace tte::protocol {

struct HostPort {
    std::string host;  ///< without the brackets of an IPv6 literal
    std::uint16_t port = 0;
    friend bool operator==(const HostPort&, const HostPort&) = default;
};

/// Whether port 0 ("any free port", for listening) is accepted.
enum class PortZero { refused, allowed };

/// Parses "HOST:PORT" or "[IPv6]:PORT"; `what` names the setting in messages. A bare host is
/// 1 or more of [A-Za-z0-9._-]: a DNS name or IPv4 literal, not resolved (server::
/// parseListenAddress() is where only an IP literal will do). A bracketed host is hex digits,
/// ':' and '.' with at least one ':': an IPv6 literal, which must be bracketed.
/// Errors: invalidArgument "<what> must be ADDR:PORT or [IPv6]:PORT, got '<text>'",
/// "<what>: port must be 1 to 65535, got '<port>'" (0 to 65535 with PortZero::allowed).
Result<HostPort> parseHostPort(std::string_view text, std::string_view what, PortZero zero = PortZero::refused);

/// "host:port", or "[host]:port" for an IPv6 literal.
std::string formatHostPort(std::string_view host, std::uint16_t port);

}  // namespace tte::protocol
