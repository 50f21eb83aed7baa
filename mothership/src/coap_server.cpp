// The MotherShip's GET /.well-known/tte?urn=… on tte::server's CoAP/DTLS server (coap_server.h).
#include "tte/mothership/coap_server.h"

#include <condition_variable>
#include <mutex>

#include "tte/protocol/ids.h"
#include "tte/protocol/mothership_messages.h"
#include "tte/protocol/query.h"
#include "tte/server/coap_server.h"
#include "tte/server/tls.h"

namespace tte::mothership {
namespace {

constexpr unsigned kFormatJson = 50;  // RFC 7252 Content-Format application/json
constexpr unsigned kFormatCbor = 60;  // application/cbor

class MotherShipCoap final : public CoapServer {
public:
    MotherShipCoap(Registry& registry, Clock& clock, Metrics& metrics, std::shared_ptr<spdlog::logger> log,
                   const OtpHasher* hasher)
        : m_registry(registry), m_clock(clock), m_metrics(metrics), m_log(log), m_hasher(hasher) {}

    ~MotherShipCoap() override { stop(); }

    Status init(const CoapOptions& o) {
        auto identity = server::loadCertifiedKey(o.certFile, o.keyFile);
        if (!identity)
            return fail(Errc::invalidArgument,
                        "cannot load the DTLS certificate " + o.certFile + " / key " + o.keyFile + " (or they do not match)");
        server::CoapServerOptions options{o.address, o.port, o.maxIdleSessions, o.maxHandshakeSessions,
                                          o.sessionTimeoutSeconds};
        options.handshakesPerAddressPerSecond = o.handshakesPerAddressPerSecond;
        if (m_hasher != nullptr) options.pskLookup = [this](std::string_view identity) { return devicePsk(identity); };
        server::CoapObserver observer;
        observer.session = [this](bool opened) {
            if (opened) {
                m_metrics.coapSessions++;
                m_metrics.coapSessionsOpened++;
            } else {
                m_metrics.coapSessions--;
            }
        };
        observer.replied = [this](int code) { m_metrics.coapResponse(code); };
        observer.gate = [this](const server::CoapGateCounts& added) {
            m_metrics.dtlsHelloVerifyRequests.add(added.helloVerifyRequests);
            m_metrics.dtlsHandshakesAdmitted.add(added.admitted);
            m_metrics.dtlsHandshakesRateLimited.add(added.rateLimited);
            m_metrics.dtlsMalformedHellos.add(added.malformedDropped);
        };
        auto log = [log = m_log](server::LogLevel level, std::string_view text) {
            const auto lvl = level == server::LogLevel::error     ? spdlog::level::err
                             : level == server::LogLevel::warning ? spdlog::level::warn
                             : level == server::LogLevel::info    ? spdlog::level::info
                                                                  : spdlog::level::debug;
            log->log(lvl, "event=libcoap message=\"{}\"", text);
        };
        observer.replyDropped = [this] {
            m_log->info("event=coap-reply-dropped note=\"the device closed its session before its registration was "
                        "committed; it asks again\"");
        };
        auto coap = server::CoapServer::create(options, std::move(*identity), log, std::move(observer));
        if (!coap) return std::unexpected(coap.error());
        m_coap = std::move(*coap);
        m_coap->addResource(".well-known/tte", server::CoapMethod::get,
                            [this](const server::CoapRequest& r) -> server::CoapAnswer {
                                const auto started = std::chrono::steady_clock::now();
                                auto answer = this->answer(r, started);
                                if (std::holds_alternative<server::CoapReply>(answer))
                                    m_metrics.coapRequest(std::chrono::steady_clock::now() - started);
                                return answer;
                            });
        return {};
    }

    [[nodiscard]] std::uint16_t port() const override { return m_coap->port(); }
    void start() override { m_coap->start(); }
    void stop() override {
        if (m_coap) m_coap->stop();
        // The registrations handed to the registry call back into this object: wait for them
        // (the writer commits its queue; no new one starts once the CoAP thread stopped).
        std::unique_lock lock(m_pendingMutex);
        m_pendingDone.wait(lock, [this] { return m_pending == 0; });
    }

private:
    server::CoapAnswer answer(const server::CoapRequest& r, std::chrono::steady_clock::time_point started);
    server::CoapDeferred registerThenAnswer(std::uint32_t devId, const std::string& client, std::int64_t now,
                                            server::CoapReply reply, std::chrono::steady_clock::time_point started);

    /// PROTOCOL §11: the PSK identity of a DTLS-PSK device is its Dev URN; the key is its
    /// device–MotherShip PSK, unwrapped for this handshake. A revoked device gets none.
    std::optional<Secret> devicePsk(std::string_view identity) {
        if (!protocol::parseDevUrn(identity)) return std::nullopt;
        auto row = m_registry.deviceByUrn(identity);
        if (!row || !row->pskWrapped || row->state == DeviceState::revoked) return std::nullopt;
        auto psk = unwrapPsk(*m_hasher, row->devId, PskRole::device, *row->pskWrapped);
        if (!psk) {
            m_log->error("event=coap-psk-error devid={:08x} error=\"{}\"", row->devId, psk.error().toString());
            return std::nullopt;
        }
        return Secret(std::span<const std::uint8_t>(psk->bytes()));
    }

    /// The device–Controller PSK to hand a DTLS-PSK device in its 2.05 (message 10, §11).
    Result<std::optional<protocol::Psk>> controllerPsk(const DeviceRow& row) const {
        if (!row.pskWrapped) return std::optional<protocol::Psk>();
        if (!row.controller || !row.controller->pskWrapped)
            return fail(Errc::internal, "the DTLS-PSK device has no Controller PSK stored");
        auto psk = unwrapPsk(*m_hasher, row.devId, PskRole::controller, *row.controller->pskWrapped);
        if (!psk) return std::unexpected(psk.error());
        return std::optional<protocol::Psk>(*psk);
    }

    Registry& m_registry;
    Clock& m_clock;
    Metrics& m_metrics;
    std::shared_ptr<spdlog::logger> m_log;
    const OtpHasher* m_hasher;  ///< null: certificate devices only
    std::unique_ptr<server::CoapServer> m_coap;
    std::mutex m_pendingMutex;
    std::condition_variable m_pendingDone;
    int m_pending = 0;  ///< registrations handed to the registry, not yet called back
};

server::CoapAnswer MotherShipCoap::answer(const server::CoapRequest& r, std::chrono::steady_clock::time_point started) {
    const unsigned format = r.accept.value_or(kFormatCbor);
    if (format != kFormatJson && format != kFormatCbor) return server::CoapReply{406, {}, {}};
    // PROTOCOL §7: `urn` must be the only parameter and a valid Dev URN.
    const auto params = protocol::parseQuery(r.query);
    const std::string* urnParam = params && params->size() == 1 ? params->find("urn") : nullptr;
    if (urnParam == nullptr || !protocol::parseDevUrn(*urnParam)) return server::CoapReply{400, {}, {}};
    auto row = m_registry.deviceByUrn(*urnParam);
    if (!row) {
        if (row.error().code != Errc::notFound) {
            m_log->error("event=coap-registry-error error=\"{}\"", row.error().toString());
            return server::CoapReply{503, {}, {}};
        }
        return server::CoapReply{404, {}, {}};
    }
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(m_clock.wallNow().time_since_epoch()).count();
    // §11: a DTLS-PSK session proved the key of its identity; the URN asked for must be that
    // identity. A certificate session must present the key recorded for the URN.
    const bool pskSession = r.pskIdentity.has_value();
    const bool keyMatches = pskSession ? *r.pskIdentity == *urnParam && row->pskWrapped.has_value()
                                       : r.peerFingerprint && !row->pskWrapped && *r.peerFingerprint == row->fingerprint;
    if (!keyMatches) {
        (void)m_registry.recordFailure(row->devId, "coap-fingerprint-mismatch", "coap " + r.client,
                                       pskSession ? "PSK identity of another device"
                                                  : "client key " + r.peerFingerprint.value_or("none"), now);
        m_log->warn("event=coap-forbidden devid={:08x} client={} reason=fingerprint", row->devId, r.client);
        return server::CoapReply{403, {}, {}};
    }
    if (row->state == DeviceState::revoked) {
        (void)m_registry.recordFailure(row->devId, "coap-revoked", "coap " + r.client, "the device is revoked", now);
        m_log->warn("event=coap-forbidden devid={:08x} client={} reason=revoked", row->devId, r.client);
        return server::CoapReply{403, {}, {}};
    }
    if (row->state == DeviceState::notMapped || !row->controller) return server::CoapReply{404, {}, {}};
    auto cfp = protocol::parseFingerprint(row->controller->fingerprint);
    if (!cfp) {
        m_log->error("event=coap-registry-error devid={:08x} error=\"the stored controller fingerprint does not parse\"", row->devId);
        return server::CoapReply{500, {}, {}};
    }
    auto cpsk = m_hasher != nullptr ? controllerPsk(*row) : Result<std::optional<protocol::Psk>>();
    if (!cpsk) {
        m_log->error("event=coap-registry-error devid={:08x} error=\"{}\"", row->devId, cpsk.error().toString());
        return server::CoapReply{500, {}, {}};
    }
    const protocol::ControllerInfo body{row->controller->ip, row->controller->port, *cfp, *cpsk};  // message 10
    server::CoapReply reply{205, format, {}};
    if (format == kFormatJson) {
        const std::string text = body.toJson();
        reply.payload.assign(text.begin(), text.end());
    } else {
        reply.payload = body.toCbor();
    }
    // The first answer waits for the registered mark to be committed: a 2.05 is never lost in
    // a crash (MOTHERSHIP.md, "Crash consistency"). markRegistered is idempotent, so a
    // retransmission or a new attempt after a lost answer changes nothing.
    if (row->state == DeviceState::mapped) return registerThenAnswer(row->devId, r.client, now, std::move(reply), started);
    m_log->info("event=coap-enrolled devid={:08x} client={}", row->devId, r.client);
    return reply;
}

/// A separate response (PROTOCOL §7): the device gets an empty ACK now, the 2.05 once the
/// registry's writer has committed the mark in one of its group commits – the CoAP thread
/// serves other devices meanwhile – or a 5.03 with a diagnostic payload when it could not.
server::CoapDeferred MotherShipCoap::registerThenAnswer(std::uint32_t devId, const std::string& client, std::int64_t now,
                                                       server::CoapReply reply,
                                                       std::chrono::steady_clock::time_point started) {
    return {[this, devId, client, now, reply = std::move(reply), started](server::CoapResponder respond) {
        {
            std::lock_guard lock(m_pendingMutex);
            ++m_pending;
        }
        m_registry.markRegisteredAsync(
            devId, "coap " + client, now, [this, devId, client, reply, started, respond](Status committed) {
                if (committed) {
                    m_metrics.registrations++;
                    m_log->info("event=coap-enrolled devid={:08x} client={}", devId, client);
                    respond(reply);
                } else {
                    m_log->error("event=coap-registry-error devid={:08x} error=\"{}\"", devId, committed.error().toString());
                    const std::string text = "the registration could not be recorded; try again later";
                    respond(server::CoapReply{503, std::nullopt, {text.begin(), text.end()}});
                }
                m_metrics.coapRequest(std::chrono::steady_clock::now() - started);
                std::lock_guard lock(m_pendingMutex);
                --m_pending;
                m_pendingDone.notify_all();  // under the lock: stop() may return and destroy it
            });
    }};
}

}  // namespace

Result<std::unique_ptr<CoapServer>> CoapServer::create(const CoapOptions& options, Registry& registry, Clock& clock,
                                                       Metrics& metrics, std::shared_ptr<spdlog::logger> log,
                                                       const OtpHasher* hasher) {
    auto server = std::make_unique<MotherShipCoap>(registry, clock, metrics, std::move(log), hasher);
    if (auto s = server->init(options); !s) return std::unexpected(s.error());
    return server;
}

}  // namespace tte::mothership
