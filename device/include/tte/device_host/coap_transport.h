// The firmware core's Transport seam on a host: CoAP over DTLS 1.2 with libcoap (OpenSSL),
// certificate mode, the server authenticated only by its pinned key fingerprint.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "tte/device/enrollment.h"

namespace tte::devicehost {

class CoapTransport final : public device::Transport {
public:
    struct Options {
        std::chrono::milliseconds timeout{10000};  ///< per request, handshake included
        /// FOR TESTS ONLY: send what is addressed to `redirectFrom` (the block's MotherShip
        /// address and port) to `redirectTo` instead (e.g. a MotherShip on 127.0.0.1:PORT).
        std::optional<std::pair<std::string, std::uint16_t>> redirectFrom, redirectTo;
    };

    explicit CoapTransport(Options options);
    ~CoapTransport();

    device::TransportResult get(const device::Credentials& self, const device::Endpoint& server,
                                const device::Fingerprint& pinned, const char* path, const char* query,
                                std::uint16_t accept, device::Buffer& response) override;
    device::TransportResult post(const device::Credentials& self, const device::Endpoint& server,
                                 const device::Fingerprint& pinned, const char* path, std::uint16_t contentFormat,
                                 std::span<const std::uint8_t> payload, device::Buffer& response) override;

private:
    struct Request;
    device::TransportResult exchange(const Request& request, device::Buffer& response);
    Options m_options;
};

}  // namespace tte::devicehost
