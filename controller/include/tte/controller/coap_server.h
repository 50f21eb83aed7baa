// The Controller's CoAP over DTLS server (libcoap, OpenSSL, certificate mode) for device
// check-in (draft msg 11/12). Devices present self-signed certificates; the server records
// each peer's key fingerprint at the handshake and the service decides by fingerprint.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/controller/service.h"

namespace tte::controller {

class CoapServer {
public:
    explicit CoapServer(ControllerService& service);
    ~CoapServer();
    CoapServer(const CoapServer&) = delete;
    CoapServer& operator=(const CoapServer&) = delete;

    /// Listens for DTLS on udp `address:port` (0: any free port) with the PEM identity and
    /// serves in its own thread; returns the bound port. Errors: invalidArgument (bad address),
    /// unsupported (libcoap without DTLS), unavailable (cannot bind).
    Result<std::uint16_t> start(const std::string& address, std::uint16_t port, const std::string& certPem,
                                const Secret& keyPem);

    /// Stops serving and joins the thread. Idempotent.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace tte::controller
