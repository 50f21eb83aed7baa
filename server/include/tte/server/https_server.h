// The HTTPS/1.1 server of the MotherShip and the Controller (Boost.Beast over Asio, OpenSSL):
// TLS 1.2/1.3, keep-alive, a few I/O threads and, when a request may wait (a durable commit),
// a larger pool of request handlers so the I/O threads never do; request size limits and a
// timeout for slow clients; a client certificate asked for and its fingerprint handed on. A
// request in, a response out: what the answer is, is the application's Handler. The same
// server without TLS (createPlain) serves a loopback admin port: metrics and probes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tte/base/error.h"
#include "tte/server/tls.h"

namespace tte::server {

struct HttpRequest {
    std::string method;       ///< "GET", "POST", …
    std::string target;       ///< path and query as sent
    std::string body;
    std::string contentType;
    std::string accept;
    std::string client;       ///< peer IP address (rate limits, audit)
    std::optional<std::string> clientFingerprint;  ///< SPKI SHA-256 of a TLS client certificate
};

struct HttpResponse {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

/// Answers one request; called on a handler thread (or an I/O thread with handlers = 0). Must
/// not throw.
using Handler = std::function<HttpResponse(const HttpRequest&)>;

/// What the server reports besides the answers (all optional, called on any thread).
struct HttpsObserver {
    /// A connection whose TLS handshake failed: client address, OpenSSL's reason.
    std::function<void(const std::string& client, const std::string& reason)> handshakeFailed;
    /// A request answered by the handler, and how long the handler took.
    std::function<void(const HttpRequest&, const HttpResponse&, std::chrono::microseconds)> served;
    /// A request refused before the handler: 400 (malformed HTTP) or 413 (too large).
    std::function<void(int status)> refused;
};

struct HttpsServerOptions {
    std::string address = "127.0.0.1";  ///< IP literal
    std::uint16_t port = 0;             ///< 0: any free port, see HttpsServer::port()
    std::string serverName;             ///< the Server header
    int threads = 2;                    ///< I/O threads: TLS and HTTP
    int handlers = 0;                   ///< request handler threads; 0: handle on the I/O thread
    std::size_t bodyLimit = 1 << 20;    ///< bytes; larger requests get 413
    std::size_t headerLimit = 8192;
    std::chrono::seconds readTimeout{30};  ///< handshake, request and idle keep-alive
    ClientCertificates clientCertificates = ClientCertificates::none;
    std::vector<std::pair<std::string, std::string>> headers;  ///< on every response, a refused one too
};

class HttpsServer {
public:
    /// Binds and sets up TLS with `identity` (shared by every connection). Errors:
    /// invalidArgument (address, certificate/key), io (cannot bind; errno kept).
    static Result<std::unique_ptr<HttpsServer>> create(const HttpsServerOptions& options, const CertifiedKey& identity,
                                                       Handler handler, HttpsObserver observer = {});
    virtual ~HttpsServer() = default;
    /// The same server speaking plain HTTP/1.1 (no TLS, no client certificates: for an admin
    /// listener on loopback). Errors: invalidArgument (address), io (cannot bind; errno kept).
    static Result<std::unique_ptr<HttpsServer>> createPlain(const HttpsServerOptions& options, Handler handler,
                                                            HttpsObserver observer = {});
    /// The bound port (useful with port 0).
    [[nodiscard]] virtual std::uint16_t port() const = 0;
    /// Starts the I/O threads.
    virtual void start() = 0;
    /// Stops accepting, lets requests in flight finish (up to `grace`), closes, joins. Idempotent.
    virtual void stop(std::chrono::milliseconds grace) = 0;
};

}  // namespace tte::server
