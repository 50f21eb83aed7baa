// Prometheus text exposition of the MotherShip's counters (metrics.h).
#include "tte/mothership/metrics.h"

#include <algorithm>

namespace tte::mothership {

namespace {
template <std::size_t N>
std::size_t slot(const std::array<int, N>& codes, int code) {
    auto it = std::find(codes.begin(), codes.end(), code);
    return static_cast<std::size_t>(it - codes.begin());  // N = "other"
}

void counter(std::string& out, const char* name, const char* help, std::uint64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           std::to_string(value) + "\n";
}
}  // namespace

void Metrics::httpResponse(int status) { m_http[slot(kHttpCodes, status)].fetch_add(1, std::memory_order_relaxed); }
void Metrics::coapResponse(int code) { m_coap[slot(kCoapCodes, code)].fetch_add(1, std::memory_order_relaxed); }

std::string Metrics::render() const {
    std::string out;
    out += "# HELP tte_http_responses_total HTTPS responses by status code.\n# TYPE tte_http_responses_total counter\n";
    for (std::size_t i = 0; i <= kHttpCodes.size(); ++i) {
        const std::string code = i < kHttpCodes.size() ? std::to_string(kHttpCodes[i]) : "other";
        out += "tte_http_responses_total{code=\"" + code + "\"} " + std::to_string(m_http[i].load()) + "\n";
    }
    out += "# HELP tte_coap_responses_total CoAP responses by code.\n# TYPE tte_coap_responses_total counter\n";
    for (std::size_t i = 0; i <= kCoapCodes.size(); ++i) {
        std::string code = "other";
        if (i < kCoapCodes.size()) code = std::to_string(kCoapCodes[i] / 100) + "." + std::to_string(kCoapCodes[i] % 100 / 10) + std::to_string(kCoapCodes[i] % 10);
        out += "tte_coap_responses_total{code=\"" + code + "\"} " + std::to_string(m_coap[i].load()) + "\n";
    }
    counter(out, "tte_claims_total", "Mappings committed (message 5).", claims.load());
    counter(out, "tte_otp_failures_total", "Wrong OTP or unknown Dev ID.", otpFailures.load());
    counter(out, "tte_lockouts_total", "Requests refused with 429.", lockouts.load());
    counter(out, "tte_registrations_total", "Devices that fetched their controller (message 10).", registrations.load());
    counter(out, "tte_records_stored_total", "Station records stored.", recordsStored.load());
    counter(out, "tte_records_duplicate_total", "Station records seen before (idempotent).", recordsDuplicate.load());
    counter(out, "tte_records_rejected_total", "Station records refused.", recordsRejected.load());
    counter(out, "tte_tls_handshake_failures_total", "Failed TLS handshakes.", tlsHandshakeFailures.load());
    counter(out, "tte_coap_sessions_opened_total", "CoAP/DTLS server sessions created.", coapSessionsOpened.load());
    out += "# HELP tte_coap_sessions Open CoAP/DTLS sessions.\n# TYPE tte_coap_sessions gauge\ntte_coap_sessions " +
           std::to_string(coapSessions.load()) + "\n";
    return out;
}

}  // namespace tte::mothership
