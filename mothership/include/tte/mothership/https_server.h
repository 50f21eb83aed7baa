// The MotherShip's HTTPS listener: tte::server's Beast server (TLS 1.2/1.3, keep-alive, I/O
// threads apart from a larger pool of request handlers, size limits and timeouts) answering
// with the Service, its requests logged and counted. A client certificate is requested but not
// required; its SPKI fingerprint is handed to the Service, which pins station certificates
// (PROTOCOL §10).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "tte/base/error.h"
#include "tte/mothership/service.h"
#include "tte/server/https_server.h"

namespace tte::mothership {

struct HttpsOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8443;  ///< 0: any free port, see server::HttpsServer::port()
    std::string certFile;       ///< PEM chain for the tte-XXXXXX.net name
    std::string keyFile;
    int threads = 4;    ///< I/O threads: TLS and HTTP
    int handlers = 64;  ///< request handlers; each claim waiting for its commit holds one
    std::size_t bodyLimit = 1 << 20;   ///< bytes; larger requests get 413
    std::size_t headerLimit = 8192;
    std::chrono::seconds readTimeout{30};  ///< handshake, request and idle keep-alive
};

/// Loads the certificate chain and key, binds, and wires the Service (not started yet).
/// Errors: invalidArgument (address, certificate/key), io (bind).
Result<std::unique_ptr<server::HttpsServer>> makeHttpsServer(const HttpsOptions& options, Service& service,
                                                             Metrics& metrics, std::shared_ptr<spdlog::logger> log);

}  // namespace tte::mothership
