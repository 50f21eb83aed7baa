// Listen addresses and the ports file (listen.h).
#include "tte/server/listen.h"

#include <nlohmann/json.hpp>

#include "tte/base/atomic_file.h"
#include "tte/protocol/mothership_messages.h"

namespace tte::server {

Result<protocol::HostPort> parseListenAddress(std::string_view text, std::string_view what) {
    auto address = protocol::parseHostPort(text, what, protocol::PortZero::allowed);
    if (!address) return std::unexpected(address.error());
    if (!protocol::checkIpLiteral(address->host))
        return fail(Errc::invalidArgument, std::string(what) + ": '" + address->host + "' is not an IP address");
    return address;
}

Status writePortsFile(const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries) {
    nlohmann::json doc = nlohmann::json::object();
    for (const auto& [name, value] : entries) doc[name] = value;
    return writeFileAtomic(path, doc.dump() + "\n", 0644);
}

}  // namespace tte::server
