// A small HTTPS/1.1 server (Boost.Beast over Asio, OpenSSL): keep-alive, TLS 1.2+, one
// io_context on a few threads; every request goes to one handler function.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/controller/service.h"

namespace tte::controller {

class HttpsServer {
public:
    using Handler = std::function<HttpAnswer(std::string_view method, std::string_view target, std::string_view body)>;

    HttpsServer(Handler handler);
    ~HttpsServer();
    HttpsServer(const HttpsServer&) = delete;
    HttpsServer& operator=(const HttpsServer&) = delete;

    /// Binds `address:port` (port 0: any free port), serves with the PEM certificate and key
    /// on `threads` threads and returns the bound port. Errors: invalidArgument (bad address,
    /// certificate or key), unavailable (cannot bind; errno kept).
    Result<std::uint16_t> start(const std::string& address, std::uint16_t port, const std::string& certPem,
                                const Secret& keyPem, int threads = 2);

    /// Stops accepting, closes connections and joins the threads. Idempotent.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace tte::controller
