// Counters the MotherShip exposes at /metrics in the Prometheus text format (hand-written:
// Debian 12 has no prometheus-cpp). Lock-free atomics; render() takes a snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace tte::mothership {

class Metrics {
public:
    void httpResponse(int status);
    void coapResponse(int code);  ///< CoAP code as class*100+detail (205, 404, …)
    std::atomic<std::uint64_t> claims{0};
    std::atomic<std::uint64_t> otpFailures{0};
    std::atomic<std::uint64_t> lockouts{0};
    std::atomic<std::uint64_t> registrations{0};
    std::atomic<std::uint64_t> recordsStored{0};
    std::atomic<std::uint64_t> recordsDuplicate{0};
    std::atomic<std::uint64_t> recordsRejected{0};
    std::atomic<std::uint64_t> tlsHandshakeFailures{0};
    std::atomic<std::int64_t> coapSessions{0};        ///< open CoAP/DTLS server sessions (gauge)
    std::atomic<std::uint64_t> coapSessionsOpened{0};  ///< server sessions ever created

    /// The whole exposition, `# HELP`/`# TYPE` lines included.
    [[nodiscard]] std::string render() const;

private:
    static constexpr std::array<int, 12> kHttpCodes{200, 201, 400, 401, 403, 404, 405, 409, 413, 429, 500, 503};
    static constexpr std::array<int, 8> kCoapCodes{205, 400, 403, 404, 405, 406, 500, 503};
    std::array<std::atomic<std::uint64_t>, kHttpCodes.size() + 1> m_http{};
    std::array<std::atomic<std::uint64_t>, kCoapCodes.size() + 1> m_coap{};
};

}  // namespace tte::mothership
