// The MotherShip's CoAP over DTLS endpoint (draft 3.1, messages 9/10; PROTOCOL §7) on
// tte::server's libcoap DTLS server: GET /.well-known/tte?urn=… answered from the registry.
//
// Authentication: the DTLS handshake requires a client certificate and accepts any
// self-signed one (the URN, and so the expected key, is known only once the request
// arrives); the handler compares the SHA-256 of the client's SPKI, taken from the session's
// peer certificate, with the fingerprint recorded for the URN, and answers 4.03 when they
// differ. A device's first 2.05 is a separate response (RFC 7252 §5.2.2): an empty ACK at
// once, the 2.05 once its `registered` mark is committed by the registry's writer (grouped with
// other marks in one commit), while the CoAP thread serves other devices.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "tte/base/clock.h"
#include "tte/base/error.h"
#include "tte/mothership/crypto.h"
#include "tte/mothership/metrics.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {

struct CoapOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 5684;  ///< 0: any free port, see CoapServer::port()
    std::string certFile;       ///< the MotherShip's self-signed P-256 DTLS certificate (PEM)
    std::string keyFile;
    /// Sized for many devices (libcoap's defaults: 100 handshakes, unlimited idle sessions
    /// kept 300 s): a session is dropped 60 s after its last message. Handshakes beyond the
    /// limit are ignored until one finishes (the device retransmits its ClientHello); each
    /// packet costs libcoap a walk over every session, so a higher limit serves a burst of
    /// devices more slowly, not faster (docs/MOTHERSHIP.md, "CoAP/DTLS sizing").
    unsigned maxIdleSessions = 20000;
    unsigned maxHandshakeSessions = 500;
    unsigned sessionTimeoutSeconds = 60;
    /// The DTLS cookie gate's limit: new handshakes per second from one source IP address,
    /// server::kHandshakeBurstSeconds (8) seconds' worth at once (docs/SECURITY.md, threat 7).
    unsigned handshakesPerAddressPerSecond = 8;
};

class CoapServer {
public:
    /// Binds the DTLS endpoint. Errors: invalidArgument (address, key/certificate), io (bind).
    /// With `hasher` the endpoint also serves DTLS-PSK devices (PROTOCOL §11): their PSKs are
    /// unwrapped with it (crypto.h unwrapPsk) for the handshake.
    static Result<std::unique_ptr<CoapServer>> create(const CoapOptions& options, Registry& registry, Clock& clock,
                                                      Metrics& metrics, std::shared_ptr<spdlog::logger> log,
                                                      const OtpHasher* hasher = nullptr);
    virtual ~CoapServer() = default;
    [[nodiscard]] virtual std::uint16_t port() const = 0;
    /// Starts the CoAP thread.
    virtual void start() = 0;
    /// Stops the thread, then waits until every `registered` mark handed to the registry is
    /// committed (or refused).
    virtual void stop() = 0;
};

}  // namespace tte::mothership
