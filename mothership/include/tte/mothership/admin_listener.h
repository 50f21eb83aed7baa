// The MotherShip's admin listener: plain HTTP/1.1 for Prometheus and probes (GET /metrics,
// /healthz, /readyz), apart from the public HTTPS port and on loopback by default
// (`admin.listen`). One thread serves every connection asynchronously; each read and write
// has a timeout, so a stuck scraper cannot hold a connection for long.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "tte/base/error.h"
#include "tte/mothership/service.h"

namespace tte::mothership {

struct AdminListenerOptions {
    std::string address = "127.0.0.1";
    std::uint16_t port = 9474;  ///< 0: any free port, see AdminListener::port()
    std::chrono::seconds readTimeout{10};
};

class AdminListener {
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;
    /// Binds. Errors: invalidArgument (address), io (bind).
    static Result<std::unique_ptr<AdminListener>> create(const AdminListenerOptions& options, Handler handler,
                                                         std::shared_ptr<spdlog::logger> log);
    virtual ~AdminListener() = default;
    [[nodiscard]] virtual std::uint16_t port() const = 0;
    /// Starts the thread.
    virtual void start() = 0;
    /// Closes the listener and every connection, joins the thread.
    virtual void stop() = 0;
};

}  // namespace tte::mothership
