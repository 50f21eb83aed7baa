// Where a server listens, and how it tells scripts what it got: the listen address (one
// ADDR:PORT form, port 0 for any free port) and the ports file written once listening.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tte/base/error.h"
#include "tte/protocol/address.h"

namespace tte::server {

/// "ADDR:PORT" or "[IPv6]:PORT" with an IP literal (the servers bind no host names), port 0
/// allowed. Errors: those of protocol::parseHostPort() naming `what`, and invalidArgument
/// "<what>: '<host>' is not an IP address".
Result<protocol::HostPort> parseListenAddress(std::string_view text, std::string_view what);

/// Writes the ports file, atomically: one JSON object of the given names and values, e.g.
/// {"https": "127.0.0.1:41234", "coaps": "127.0.0.1:39122", "fingerprint": "…"}. Errors: io.
Status writePortsFile(const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries);

}  // namespace tte::server
