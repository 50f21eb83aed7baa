// The Controller's behaviour behind its two servers: introductions and the device list over
// HTTPS (draft msg 6), device check-in over CoAP/DTLS (msg 11/12), and its metrics.
// Transport-free, so unit tests drive it directly.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "tte/base/clock.h"
#include "tte/controller/store.h"
#include "tte/server/https_server.h"

namespace tte::controller {

struct ServiceOptions {
    std::chrono::seconds introductionTtl{std::chrono::hours(24 * 30)};  ///< docs §8 default 30 days
    bool acceptUnintroduced = false;  ///< draft 2, last paragraph
};

using server::HttpRequest;
using server::HttpResponse;

/// The check-in refusals a device tells apart (docs/PROTOCOL.md §8): 4.04 "wait for message
/// 6" and 4.03 "this key is not the introduced one".
inline constexpr std::string_view kNotIntroducedYet = "not introduced yet: no introduction for this device key";
inline constexpr std::string_view kWrongKey = "wrong key: the urn was introduced with another device key";

/// A CoAP answer: code as class*100+detail (204 = 2.04, 403 = 4.03) and a diagnostic payload.
struct CoapAnswer {
    int code = 204;
    std::string payload;
};

class ControllerService {
public:
    ControllerService(DeviceStore& store, const Clock& clock, ServiceOptions options)
        : m_store(store), m_clock(clock), m_options(options) {}

    /// POST /tte/v1/introductions: 201 with the stored device; 400 naming the bad field;
    /// 409 when the URN or the fingerprint is introduced with another partner; 500 on I/O.
    HttpResponse introduce(std::string_view body);

    /// GET /tte/v1/devices: 200 {"devices": [...]}.
    HttpResponse devices();

    /// HTTP routing: method and target (path + query) to an answer (404/405 otherwise).
    HttpResponse handle(const HttpRequest& request);

    /// CoAP POST /tte/v1/checkin from a DTLS peer whose key has `peerFingerprint`:
    /// 2.04 if introduced (or accepted unintroduced); 4.04 kNotIntroducedYet when nothing is
    /// introduced for this key or URN yet (the device asks again); 4.03 kWrongKey when the URN
    /// was introduced with another key, 4.03 for an expired introduction or a URN that does
    /// not match the key (the device stops); 4.00 for a malformed payload.
    CoapAnswer checkin(const std::string& peerFingerprint, std::string_view payload);

    /// PROTOCOL §11: the PSK of the DTLS-PSK device whose PSK identity (its URN) is
    /// `identity`, for the handshake; nullopt refuses it (no such introduction).
    std::optional<Secret> devicePsk(std::string_view identity);

    /// CoAP POST /tte/v1/checkin in a DTLS-PSK session of `identity`: as checkin() with the
    /// fingerprint the device was introduced with (the handshake proved its PSK).
    CoapAnswer checkinWithPsk(const std::string& identity, std::string_view payload);

    /// Prometheus text exposition of the counters.
    std::string metrics();

    /// Counts a MotherShip status query (for /metrics).
    void countStatusQuery(bool ok) { (ok ? m_statusOk : m_statusFailed)++; }

private:
    UnixSeconds now() const;
    CoapAnswer refuseUnknownKey(const std::string& urn);

    DeviceStore& m_store;
    const Clock& m_clock;
    ServiceOptions m_options;
    std::atomic<long> m_introductions{0}, m_introductionsRejected{0}, m_checkins{0}, m_checkinsRefused{0},
        m_statusOk{0}, m_statusFailed{0}, m_httpRequests{0};
};

/// JSON error body `{"error": "<errc name>", "message": "..."}` (docs §6 Errors).
std::string errorBody(Errc code, std::string_view message);

}  // namespace tte::controller
