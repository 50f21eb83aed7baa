// The MotherShip's metrics on prometheus-cpp (metrics.h).
#include "tte/mothership/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>

#include "tte/base/build_info.h"

namespace tte::mothership {

namespace {
constexpr std::array<int, 12> kHttpCodes{200, 201, 400, 401, 403, 404, 405, 409, 413, 429, 500, 503};
constexpr std::array<int, 7> kCoapCodes{205, 400, 403, 404, 405, 406, 500};
constexpr std::array<const char*, 6> kRoutes{"enroll-page", "mapping", "status", "station-api", "health", "other"};

/// 0.5 ms to 5 s: a status query answers in about a millisecond, a claim waits for its
/// durable commit (a few ms on a good disk), anything past a second is an incident.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                               0.1,    0.25,  0.5,    1,     2.5,  5};

std::string coapCodeText(int code) {
    return std::to_string(code / 100) + "." + std::to_string(code % 100 / 10) + std::to_string(code % 10);
}

prometheus::Counter& counter(prometheus::Registry& r, const char* name, const char* help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}

prometheus::MetricFamily gaugeFamily(std::string name, std::string help) {
    prometheus::MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = prometheus::MetricType::Gauge;
    return f;
}

void addGauge(prometheus::MetricFamily& f, double value, std::vector<prometheus::ClientMetric::Label> labels = {}) {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = value;
    f.metric.push_back(std::move(m));
}

/// SQLite's write-ahead log: a log that keeps growing, or a checkpoint that fails, is commits
/// waiting to be copied into the database file (MOTHERSHIP.md, "Database").
void addWal(std::vector<prometheus::MetricFamily>& families, const WalState& wal) {
    auto frames = gaugeFamily("tte_registry_wal_frames",
                              "SQLite: pages (about 4 KiB each) in the write-ahead log at its last checkpoint.");
    addGauge(frames, static_cast<double>(wal.frames));
    families.push_back(std::move(frames));
    auto uncopied = gaugeFamily("tte_registry_wal_uncopied_frames",
                                "SQLite: of them, pages its last checkpoint could not copy into the database file "
                                "(a reader's snapshot needs them; all of them after a failed checkpoint).");
    addGauge(uncopied, static_cast<double>(wal.uncopied));
    families.push_back(std::move(uncopied));
    prometheus::MetricFamily failures;
    failures.name = "tte_registry_checkpoint_failures_total";
    failures.help = "SQLite: checkpoints of the write-ahead log that failed (the disk); the log keeps the commits.";
    failures.type = prometheus::MetricType::Counter;
    prometheus::ClientMetric m;
    m.counter.value = static_cast<double>(wal.failures);
    failures.metric.push_back(std::move(m));
    families.push_back(std::move(failures));
}

template <std::size_t N>
std::size_t slot(const std::array<int, N>& codes, int code) {
    return static_cast<std::size_t>(std::find(codes.begin(), codes.end(), code) - codes.begin());  // N = "other"
}
}  // namespace

struct Metrics::Families {
    std::vector<prometheus::Counter*> http;  ///< by kHttpCodes, then "other"
    std::vector<prometheus::Counter*> coap;
    std::vector<prometheus::Histogram*> httpLatency;  ///< by kRoutes
    prometheus::Histogram* coapLatency = nullptr;
};

Metrics::CounterRef& Metrics::CounterRef::operator++() {
    m_counter->Increment();
    return *this;
}
void Metrics::CounterRef::add(std::uint64_t n) {
    if (n != 0) m_counter->Increment(static_cast<double>(n));
}
double Metrics::CounterRef::value() const { return m_counter->Value(); }
Metrics::GaugeRef& Metrics::GaugeRef::operator++() {
    m_gauge->Increment();
    return *this;
}
Metrics::GaugeRef& Metrics::GaugeRef::operator--() {
    m_gauge->Decrement();
    return *this;
}
double Metrics::GaugeRef::value() const { return m_gauge->Value(); }

Metrics::Metrics()
    : m_registry(std::make_shared<prometheus::Registry>()),
      claims(counter(*m_registry, "tte_claims_total", "Mappings committed (message 5).")),
      otpFailures(counter(*m_registry, "tte_otp_failures_total", "Wrong OTP or unknown Dev ID.")),
      lockouts(counter(*m_registry, "tte_lockouts_total", "Requests refused with 429 (a Dev ID or client locked out).")),
      registrations(counter(*m_registry, "tte_registrations_total", "Devices that fetched their controller (message 10).")),
      recordsStored(counter(*m_registry, "tte_records_stored_total", "Station records stored.")),
      recordsDuplicate(counter(*m_registry, "tte_records_duplicate_total", "Station records seen before (idempotent).")),
      recordsRejected(counter(*m_registry, "tte_records_rejected_total", "Station records refused.")),
      tlsHandshakeFailures(counter(*m_registry, "tte_tls_handshake_failures_total", "Failed TLS handshakes.")),
      coapSessions(prometheus::BuildGauge().Name("tte_coap_sessions").Help("Open CoAP/DTLS sessions.").Register(*m_registry).Add({})),
      coapSessionsOpened(counter(*m_registry, "tte_coap_sessions_opened_total", "CoAP/DTLS server sessions created.")),
      dtlsHelloVerifyRequests(counter(*m_registry, "tte_dtls_hello_verify_requests_total",
                                      "DTLS ClientHellos without a valid cookie, answered by the cookie gate with a "
                                      "HelloVerifyRequest; nothing kept for their source (a spoofed flood shows here).")),
      dtlsHandshakesAdmitted(counter(*m_registry, "tte_dtls_handshakes_admitted_total",
                                     "DTLS ClientHellos returning the cookie gate's cookie, handed to libcoap (handshakes started).")),
      dtlsHandshakesRateLimited(counter(*m_registry, "tte_dtls_handshakes_rate_limited_total",
                                        "DTLS ClientHellos with a valid cookie dropped because their source address had used "
                                        "its coaps.handshakes_per_address_per_s (the client retransmits).")),
      dtlsMalformedHellos(counter(*m_registry, "tte_dtls_malformed_hellos_total",
                                  "Datagrams that look like a DTLS ClientHello but are none (fragment, other epoch, bad "
                                  "lengths), from peers without a session, dropped by the cookie gate.")),
      m_families(std::make_unique<Families>()) {
    auto& http = prometheus::BuildCounter().Name("tte_http_responses_total").Help("HTTPS responses by status code.").Register(*m_registry);
    for (int code : kHttpCodes) m_families->http.push_back(&http.Add({{"code", std::to_string(code)}}));
    m_families->http.push_back(&http.Add({{"code", "other"}}));
    auto& coap = prometheus::BuildCounter().Name("tte_coap_responses_total").Help("CoAP responses by code.").Register(*m_registry);
    for (int code : kCoapCodes) m_families->coap.push_back(&coap.Add({{"code", coapCodeText(code)}}));
    m_families->coap.push_back(&coap.Add({{"code", "other"}}));
    auto& httpLatency = prometheus::BuildHistogram()
                            .Name("tte_http_request_duration_seconds")
                            .Help("Time to handle an HTTPS request (after TLS and parsing, before the answer is sent), by route.")
                            .Register(*m_registry);
    for (const char* route : kRoutes) m_families->httpLatency.push_back(&httpLatency.Add({{"route", route}}, kLatencyBuckets));
    m_families->coapLatency = &prometheus::BuildHistogram()
                                   .Name("tte_coap_request_duration_seconds")
                                   .Help("Time to answer a device's CoAP request (after its DTLS handshake).")
                                   .Register(*m_registry)
                                   .Add({}, kLatencyBuckets);
    prometheus::BuildGauge()
        .Name("tte_build_info")
        .Help("The running build: version, git revision, build type (always 1).")
        .Register(*m_registry)
        .Add({{"version", kVersion}, {"revision", kGitRevision}, {"build_type", kBuildType}})
        .Set(1);
    const auto started = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    prometheus::BuildGauge()
        .Name("process_start_time_seconds")
        .Help("Start time of the process since the Unix epoch, seconds.")
        .Register(*m_registry)
        .Add({})
        .Set(started);
}

Metrics::~Metrics() = default;

void Metrics::httpResponse(int status) { m_families->http[slot(kHttpCodes, status)]->Increment(); }
void Metrics::coapResponse(int code) { m_families->coap[slot(kCoapCodes, code)]->Increment(); }

void Metrics::httpRequest(Route route, std::chrono::nanoseconds took) {
    m_families->httpLatency[static_cast<std::size_t>(route)]->Observe(std::chrono::duration<double>(took).count());
}
void Metrics::coapRequest(std::chrono::nanoseconds took) {
    m_families->coapLatency->Observe(std::chrono::duration<double>(took).count());
}

void Metrics::watchRegistry(Registry& registry, Clock& clock, std::chrono::milliseconds maxAge) {
    std::lock_guard lock(m_statsMutex);
    m_source = &registry;
    m_clock = &clock;
    m_maxAge = maxAge;
    m_statsAt.reset();
}

std::string Metrics::render() {
    auto families = m_registry->Collect();
    std::lock_guard lock(m_statsMutex);
    if (m_source != nullptr) {
        const auto now = m_clock->now();
        if (!m_statsAt || now - *m_statsAt >= m_maxAge) {
            const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(m_clock->wallNow().time_since_epoch()).count();
            auto stats = m_source->stats(wall);
            m_stats = stats ? std::optional(*stats) : std::nullopt;
            m_statsAt = now;
        }
        auto up = gaugeFamily("tte_registry_up", "1 when the registry answered the last read of these gauges, else 0.");
        addGauge(up, m_stats ? 1 : 0);
        families.push_back(std::move(up));
        if (m_stats) {
            auto devices = gaugeFamily("tte_registry_devices", "Devices in the registry, by enrollment state.");
            for (int s = 0; s < 4; ++s)
                addGauge(devices, static_cast<double>(m_stats->devices[s]),
                         {{"state", std::string(stateName(static_cast<DeviceState>(s)))}});
            families.push_back(std::move(devices));
            auto stations = gaugeFamily("tte_registry_stations", "Station certificates registered.");
            addGauge(stations, static_cast<double>(m_stats->stations));
            families.push_back(std::move(stations));
            auto lots = gaugeFamily("tte_registry_lots", "Lots with a quota.");
            addGauge(lots, static_cast<double>(m_stats->lots));
            families.push_back(std::move(lots));
            auto locked = gaugeFamily("tte_registry_locked_out", "Dev IDs and client addresses locked out right now.");
            addGauge(locked, static_cast<double>(m_stats->lockedSubjects));
            families.push_back(std::move(locked));
            if (m_stats->wal) addWal(families, *m_stats->wal);
        }
    }
    return prometheus::TextSerializer().Serialize(families);
}

}  // namespace tte::mothership
