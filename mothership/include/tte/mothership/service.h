// What the MotherShip answers over HTTPS, independent of the transport: a request in,
// a response out. tte::server's HTTPS server only moves bytes; unit tests call
// Service::handle() directly with an in-memory registry and a manual clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tte/base/clock.h"
#include "tte/mothership/crypto.h"
#include "tte/mothership/limiter.h"
#include "tte/mothership/metrics.h"
#include "tte/mothership/registry.h"
#include "tte/server/https_server.h"

namespace tte::mothership {

using server::HttpRequest;
using server::HttpResponse;

struct ServiceOptions {
    std::uint32_t msId = 1;
    std::size_t maxRecordsPerUpload = 500;
};

class Service {
public:
    /// All references must outlive the service.
    Service(Registry& registry, const OtpHasher& hasher, Clock& clock, FailureLimiter& limiter, Metrics& metrics,
            ServiceOptions options);

    /// Answers one request on the public HTTPS listener (PROTOCOL §6, §10, /healthz,
    /// /readyz); an HTML page carries a script-free
    /// Content-Security-Policy. Never throws for bad input.
    HttpResponse handle(const HttpRequest& request);

    /// Answers one request on the admin listener: GET /metrics, /healthz and /readyz (with
    /// the reason of a failed check, which the public /readyz keeps to the log).
    HttpResponse handleAdmin(const HttpRequest& request);

    /// One readiness check that failed: what (`database`, `otp-hash-key`) and why.
    struct NotReady {
        std::string check;
        Error error;
    };
    /// Reads the database and, when the OTP-hash key is in a token, has the token compute
    /// one hash. Empty: ready.
    std::vector<NotReady> readiness();

private:
    struct Credential;  // a parsed, checked otp + devid
    HttpResponse enrollmentPage(const HttpRequest& r);
    HttpResponse mapping(const HttpRequest& r);
    HttpResponse status(const HttpRequest& r);
    HttpResponse refuseRevoked(const DeviceRow& device, const HttpRequest& r, bool html);
    HttpResponse stationApi(const HttpRequest& r);
    HttpResponse records(const HttpRequest& r, const StationRow& station);
    HttpResponse deviceLookup(std::string_view devIdHex);
    HttpResponse revoke(const HttpRequest& r, std::string_view devIdHex, const StationRow& station);
    HttpResponse preEnroll(const HttpRequest& r, std::string_view devIdHex, const StationRow& station);
    HttpResponse lot(std::string_view lotName);
    HttpResponse probe(std::string_view path, bool detailed);
    HttpResponse box(const HttpRequest& r);
    /// The OTP check shared by page, mapping and status: lockout, constant-time compare,
    /// dummy hash for unknown IDs, failure accounting. Returns the row or the error response.
    std::variant<DeviceRow, HttpResponse> authenticate(std::uint32_t devId, std::uint64_t otp, const HttpRequest& r,
                                                       bool html);
    [[nodiscard]] std::int64_t nowMs() const;

    Registry& m_registry;
    const OtpHasher& m_hasher;
    Clock& m_clock;
    FailureLimiter& m_limiter;
    Metrics& m_metrics;
    ServiceOptions m_options;
};

}  // namespace tte::mothership
