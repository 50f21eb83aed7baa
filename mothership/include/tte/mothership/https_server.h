// The MotherShip's HTTPS listener: Boost.Beast over Asio with OpenSSL, TLS 1.2/1.3 only,
// HTTP/1.1 keep-alive, a few I/O threads, a larger pool of request handlers (a handler may
// wait for a durable commit; the I/O threads never do), request size limits and timeouts
// for slow clients. A client certificate is requested but not required; its SPKI fingerprint is
// handed to the Service, which pins station certificates (PROTOCOL §10).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "tte/base/error.h"
#include "tte/mothership/service.h"

namespace tte::mothership {

struct HttpsOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8443;  ///< 0: any free port, see HttpsServer::port()
    std::string certFile;       ///< PEM chain for the tte-XXXXXX.net name
    std::string keyFile;
    int threads = 4;    ///< I/O threads: TLS and HTTP
    int handlers = 64;  ///< request handlers; each claim waiting for its commit holds one
    std::size_t bodyLimit = 1 << 20;   ///< bytes; larger requests get 413
    std::size_t headerLimit = 8192;
    std::chrono::seconds readTimeout{30};  ///< handshake, request and idle keep-alive
};

class HttpsServer {
public:
    /// Binds and loads the certificate. Errors: invalidArgument (address, certificate/key), io (bind).
    static Result<std::unique_ptr<HttpsServer>> create(const HttpsOptions& options, Service& service,
                                                       Metrics& metrics, std::shared_ptr<spdlog::logger> log);
    virtual ~HttpsServer() = default;
    /// The bound port (useful with port 0).
    [[nodiscard]] virtual std::uint16_t port() const = 0;
    /// Starts the I/O threads.
    virtual void start() = 0;
    /// Stops accepting, lets requests in flight finish (up to `grace`), closes, joins.
    virtual void stop(std::chrono::milliseconds grace) = 0;
};

}  // namespace tte::mothership
