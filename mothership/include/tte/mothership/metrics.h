// What the MotherShip exposes at /metrics on its admin listener, in the Prometheus text
// format through prometheus-cpp (Debian's prometheus-cpp-dev): response counters, request
// latency histograms, build information, the process start time, and gauges of what the
// registry holds, read from the database at scrape time (cached for a few seconds).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/clock.h"
#include "tte/mothership/registry.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace tte::mothership {

class Metrics {
    // First: the counters below are made in it.
    std::shared_ptr<prometheus::Registry> m_registry;

public:
    /// A counter `++` increments (thread-safe).
    class CounterRef {
    public:
        explicit CounterRef(prometheus::Counter& counter) : m_counter(&counter) {}
        CounterRef& operator++();
        void operator++(int) { ++*this; }
        /// Adds `n` (a count reported in batches).
        void add(std::uint64_t n);
        [[nodiscard]] double value() const;

    private:
        prometheus::Counter* m_counter;
    };
    /// A gauge `++` and `--` move (thread-safe).
    class GaugeRef {
    public:
        explicit GaugeRef(prometheus::Gauge& gauge) : m_gauge(&gauge) {}
        GaugeRef& operator++();
        GaugeRef& operator--();
        void operator++(int) { ++*this; }
        void operator--(int) { --*this; }
        [[nodiscard]] double value() const;

    private:
        prometheus::Gauge* m_gauge;
    };

    /// The routes of the HTTPS latency histogram (label `route`).
    enum class Route { enrollPage, mapping, status, stationApi, health, other };

    Metrics();
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    void httpResponse(int status);
    void coapResponse(int code);  ///< CoAP code as class*100+detail (205, 404, …)
    /// One HTTPS request handled (Service::handle), for the latency histogram.
    void httpRequest(Route route, std::chrono::nanoseconds took);
    /// One CoAP request answered (the DTLS handshake before it not included).
    void coapRequest(std::chrono::nanoseconds took);

    /// Registry gauges (tte_registry_*) read from `registry` when scraped, at most every
    /// `maxAge`; `tte_registry_up` is 0 when the read failed. Both must outlive the metrics.
    void watchRegistry(Registry& registry, Clock& clock, std::chrono::milliseconds maxAge = std::chrono::seconds(10));

    CounterRef claims;
    CounterRef otpFailures;
    CounterRef lockouts;
    CounterRef registrations;
    CounterRef recordsStored;
    CounterRef recordsDuplicate;
    CounterRef recordsRejected;
    CounterRef tlsHandshakeFailures;
    GaugeRef coapSessions;        ///< open CoAP/DTLS server sessions
    CounterRef coapSessionsOpened;  ///< server sessions ever created
    /// The DTLS cookie gate in front of libcoap (docs/SECURITY.md threat 7), as
    /// server::CoapGateCounts: ClientHellos answered with its HelloVerifyRequest, handed to
    /// libcoap with a valid cookie, dropped by the per-address limit; malformed ones dropped.
    CounterRef dtlsHelloVerifyRequests;
    CounterRef dtlsHandshakesAdmitted;
    CounterRef dtlsHandshakesRateLimited;
    CounterRef dtlsMalformedHellos;

    /// The whole exposition, `# HELP`/`# TYPE` lines included.
    [[nodiscard]] std::string render();

private:
    struct Families;
    std::unique_ptr<Families> m_families;
    Registry* m_source = nullptr;
    Clock* m_clock = nullptr;
    std::chrono::milliseconds m_maxAge{0};
    std::mutex m_statsMutex;
    std::optional<Clock::TimePoint> m_statsAt;
    std::optional<RegistryStats> m_stats;  ///< nothing: the last read failed
};

}  // namespace tte::mothership
