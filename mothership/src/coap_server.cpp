// The MotherShip's GET /.well-known/tte?urn=… on tte::server's CoAP/DTLS server (coap_server.h).
#include "tte/mothership/coap_server.h"


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
        auto log = [log = m_log](server::LogLevel level, std::string_view text) {
            const auto lvl = level == server::LogLevel::error     ? spdlog::level::err
                             : level == server::LogLevel::warning ? spdlog::level::warn
                             : level == server::LogLevel::info    ? spdlog::level::info
                                                                  : spdlog::level::debug;
            log->log(lvl, "event=libcoap message=\"{}\"", text);
        };
        auto coap = server::CoapServer::create(options, std::move(*identity), log, std::move(observer));
        if (!coap) return std::unexpected(coap.error());
        m_coap = std::move(*coap);
        m_coap->addResource(".well-known/tte", server::CoapMethod::get,
                            [this](const server::CoapRequest& r) {
                                const auto started = std::chrono::steady_clock::now();
                                auto reply = answer(r);
                                m_metrics.coapRequest(std::chrono::steady_clock::now() - started);
                                return reply;
                            });
        return {};
    }

    [[nodiscard]] std::uint16_t port() const override { return m_coap->port(); }
    void start() override { m_coap->start(); }
    void stop() override {
        if (m_coap) m_coap->stop();
    }

private:
    server::CoapReply answer(const server::CoapRequest& r);

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
};

server::CoapReply MotherShipCoap::answer(const server::CoapRequest& r) {
    const unsigned format = r.accept.value_or(kFormatCbor);
    if (format != kFormatJson && format != kFormatCbor) return {406, {}, {}};
    // PROTOCOL §7: `urn` must be the only parameter and a valid Dev URN.
    const auto params = protocol::parseQuery(r.query);
    const std::string* urnParam = params && params->size() == 1 ? params->find("urn") : nullptr;
    if (urnParam == nullptr || !protocol::parseDevUrn(*urnParam)) return {400, {}, {}};
    auto row = m_registry.deviceByUrn(*urnParam);
    if (!row) {
        if (row.error().code != Errc::notFound) {
            m_log->error("event=coap-registry-error error=\"{}\"", row.error().toString());
            return {503, {}, {}};
        }
        return {404, {}, {}};
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
        return {403, {}, {}};
    }
    if (row->state == DeviceState::revoked) {
        (void)m_registry.recordFailure(row->devId, "coap-revoked", "coap " + r.client, "the device is revoked", now);
        m_log->warn("event=coap-forbidden devid={:08x} client={} reason=revoked", row->devId, r.client);
        return {403, {}, {}};
    }
    if (row->state == DeviceState::notMapped || !row->controller) return {404, {}, {}};
    auto cfp = protocol::parseFingerprint(row->controller->fingerprint);
    if (!cfp) {
        m_log->error("event=coap-registry-error devid={:08x} error=\"the stored controller fingerprint does not parse\"", row->devId);
        return {500, {}, {}};
    }
    auto cpsk = m_hasher != nullptr ? controllerPsk(*row) : Result<std::optional<protocol::Psk>>();
    if (!cpsk) {
        m_log->error("event=coap-registry-error devid={:08x} error=\"{}\"", row->devId, cpsk.error().toString());
        return {500, {}, {}};
    }
    const protocol::ControllerInfo body{row->controller->ip, row->controller->port, *cfp, *cpsk};  // message 10
    server::CoapReply reply{205, format, {}};
    if (format == kFormatJson) {
        const std::string text = body.toJson();
        reply.payload.assign(text.begin(), text.end());
    } else {
        reply.payload = body.toCbor();
    }
    // Committed before the answer leaves: a 2.05 is never lost in a crash (MOTHERSHIP.md,
    // "Crash consistency"). markRegistered is idempotent, so a retransmission or a new attempt
    // after a lost answer changes nothing.
    if (row->state == DeviceState::mapped) {
        if (auto s = m_registry.markRegistered(row->devId, "coap " + r.client, now); !s) {
            m_log->error("event=coap-registry-error devid={:08x} error=\"{}\"", row->devId, s.error().toString());
            return {503, {}, {}};
        }
        m_metrics.registrations++;
    }
    m_log->info("event=coap-enrolled devid={:08x} client={}", row->devId, r.client);
    return reply;
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
