// Introductions, device list, check-in decisions and metrics of the Controller.
#include "tte/controller/service.h"

#include <algorithm>
#include <map>
#include <optional>

#include "tte/base/hex.h"
#include "tte/protocol/controller_messages.h"

namespace tte::controller {
namespace {

/// Message 6 read by protocol/, as the store keeps it. The OTP text is secret.
Result<Introduction> parseIntroduction(std::string_view body) {
    auto doc = protocol::Introduction::fromJson(body);
    if (!doc) return std::unexpected(doc.error());
    Introduction intro;
    intro.urn = doc->urn.text;
    intro.fingerprint = doc->fingerprint.hex();
    std::string otpText = doc->otp.hex();
    intro.otp = Secret(otpText);
    secureZero(otpText.data(), otpText.size());
    intro.devid = doc->devId.hex();
    intro.ms = protocol::msHostName(doc->ms);
    intro.description = doc->description;
    if (doc->psk) {
        std::string pskText = doc->psk->hex();
        intro.psk = Secret(pskText);
        secureZero(pskText.data(), pskText.size());
    }
    return intro;
}

/// A stored device as the Controller lists it (the 201 answer, GET /tte/v1/devices).
/// Errors: internal when a stored field does not parse.
Result<protocol::ControllerDevice> listed(const DeviceRecord& r) {
    protocol::ControllerDevice d;
    auto urn = protocol::parseDevUrn(r.urn);
    auto fp = protocol::parseFingerprint(r.fingerprint);
    auto state = protocol::parseControllerDeviceState(r.state);
    if (!urn || !fp || !state) return fail(Errc::internal, "the stored device " + r.urn + " does not parse");
    d.urn = std::move(*urn);
    d.fingerprint = *fp;
    d.state = *state;
    if (!r.devid.empty()) {
        auto devId = protocol::parseDevId(r.devid);
        if (!devId) return fail(Errc::internal, "the stored device " + r.urn + " has a bad devid");
        d.devId = *devId;
    }
    if (!r.ms.empty()) {
        auto ms = protocol::parseMsHostName(r.ms, protocol::MsIdUse::operational);
        if (!ms) return fail(Errc::internal, "the stored device " + r.urn + " has a bad MotherShip");
        d.ms = *ms;
    }
    if (r.msState != "unknown") {
        auto msState = protocol::parseEnrollmentState(r.msState);
        if (!msState) return fail(Errc::internal, "the stored device " + r.urn + " has a bad MotherShip state");
        d.msState = *msState;
    }
    d.description = r.description;
    d.introduced = r.introduced;
    d.expiresAt = r.expiresAt;
    d.lastSeen = r.lastSeen;
    return d;
}

HttpResponse jsonAnswer(int status, std::string body) { return HttpResponse{status, "application/json", std::move(body), {}}; }

int httpStatusOf(Errc code) {
    switch (code) {
        case Errc::invalidArgument: return 400;
        case Errc::conflict: return 409;
        case Errc::notFound: return 404;
        default: return 500;
    }
}

}  // namespace

std::string errorBody(Errc code, std::string_view message) { return protocol::ErrorBody{code, std::string(message)}.toJson(); }

UnixSeconds ControllerService::now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(m_clock.wallNow().time_since_epoch()).count();
}

HttpResponse ControllerService::introduce(std::string_view body) {
    auto intro = parseIntroduction(body);
    if (!intro) {
        m_introductionsRejected++;
        return jsonAnswer(400, errorBody(intro.error().code, intro.error().message));
    }
    auto stored = m_store.introduce(*intro, now(), m_options.introductionTtl.count());
    if (!stored) {
        m_introductionsRejected++;
        return jsonAnswer(httpStatusOf(stored.error().code), errorBody(stored.error().code, stored.error().message));
    }
    m_introductions++;
    auto device = listed(*stored);
    if (!device) return jsonAnswer(500, errorBody(device.error().code, device.error().message));
    return jsonAnswer(201, device->toJson());
}

HttpResponse ControllerService::devices() {
    auto rows = m_store.list(now());
    if (!rows) return jsonAnswer(500, errorBody(rows.error().code, rows.error().message));
    protocol::DeviceList list;
    for (const auto& r : *rows) {
        auto device = listed(r);
        if (!device) return jsonAnswer(500, errorBody(device.error().code, device.error().message));
        list.devices.push_back(std::move(*device));
    }
    return jsonAnswer(200, list.toJson());
}

HttpResponse ControllerService::handle(const HttpRequest& request) {
    m_httpRequests++;
    const std::string_view method = request.method;
    const std::string_view target = request.target;
    const std::string_view body = request.body;
    std::string_view path = target.substr(0, target.find('?'));
    auto only = [&](std::string_view allowed) -> std::optional<HttpResponse> {
        if (method == allowed) return std::nullopt;
        return jsonAnswer(405, errorBody(Errc::invalidArgument, "method not allowed, use " + std::string(allowed)));
    };
    if (path == "/tte/v1/introductions") {
        if (auto bad = only("POST")) return *bad;
        return introduce(body);
    }
    if (path == "/tte/v1/devices") {
        if (auto bad = only("GET")) return *bad;
        return devices();
    }
    if (path == "/metrics") {
        if (auto bad = only("GET")) return *bad;
        return HttpResponse{200, "text/plain; version=0.0.4", metrics(), {}};
    }
    if (path == "/healthz") return HttpResponse{200, "text/plain", "ok\n", {}};
    return jsonAnswer(404, errorBody(Errc::notFound, "no such resource: " + std::string(path)));
}

CoapAnswer ControllerService::refuseUnknownKey(const std::string& urn) {
    m_checkinsRefused++;
    // docs/PROTOCOL.md §8: the URN introduced with another key is a wrong key (the device
    // stops); nothing introduced for it yet is "not yet" (the device keeps asking, so a late
    // message 6 takes effect without a reboot).
    auto byUrn = m_store.findByUrn(urn, now());
    if (byUrn) return {403, std::string(kWrongKey)};
    if (byUrn.error().code != Errc::notFound) return {500, byUrn.error().message};
    return {404, std::string(kNotIntroducedYet)};
}

CoapAnswer ControllerService::checkin(const std::string& peerFingerprint, std::string_view payload) {
    auto refuse = [&](int code, std::string message) {
        m_checkinsRefused++;
        return CoapAnswer{code, std::move(message)};
    };
    auto doc = protocol::Checkin::fromCbor(std::span(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()));
    if (!doc) return refuse(400, doc.error().message);
    const std::string& urn = doc->urn.text;
    auto known = m_store.findByFingerprint(peerFingerprint, now());
    if (!known) {
        if (known.error().code != Errc::notFound) return refuse(500, known.error().message);
        if (!m_options.acceptUnintroduced) return refuseUnknownKey(urn);
        auto added = m_store.addUnintroduced(urn, peerFingerprint, now());
        if (!added) return refuse(403, added.error().message);
        known = *added;
    }
    if (known->urn != urn) return refuse(403, "urn does not match the introduced device key");
    if (known->introduced && known->state == "expired") return refuse(403, "introduction expired");
    if (auto st = m_store.markRegistered(urn, now()); !st) return refuse(500, st.error().message);
    m_checkins++;
    return {204, ""};
}

std::optional<Secret> ControllerService::devicePsk(std::string_view identity) {
    auto hex = m_store.psk(std::string(identity));
    if (!hex) return std::nullopt;
    auto psk = protocol::parsePsk(hex->view());
    if (!psk) return std::nullopt;
    return Secret(std::span<const std::uint8_t>(psk->bytes()));
}

CoapAnswer ControllerService::checkinWithPsk(const std::string& identity, std::string_view payload) {
    // The handshake proved the key introduced for `identity` (a URN): the device is the one
    // introduced under it, and the check-in must name that URN (checkin()'s match).
    auto known = m_store.findByUrn(identity, now());
    if (!known) {
        m_checkinsRefused++;
        return {403, "no DTLS-PSK introduction for this identity"};
    }
    return checkin(known->fingerprint, payload);
}

std::string ControllerService::metrics() {
    std::string out;
    auto counter = [&](const char* name, const char* help, long value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
               std::to_string(value) + "\n";
    };
    counter("tte_controller_http_requests_total", "HTTPS requests handled.", m_httpRequests.load());
    counter("tte_controller_introductions_total", "Introductions stored (msg 6).", m_introductions.load());
    counter("tte_controller_introductions_rejected_total", "Introductions refused.", m_introductionsRejected.load());
    counter("tte_controller_checkins_total", "Device check-ins accepted (msg 11).", m_checkins.load());
    counter("tte_controller_checkins_refused_total", "Device check-ins refused.", m_checkinsRefused.load());
    counter("tte_controller_status_queries_ok_total", "MotherShip status queries answered (msg 7/8).", m_statusOk.load());
    counter("tte_controller_status_queries_failed_total", "MotherShip status queries failed.", m_statusFailed.load());
    if (auto rows = m_store.list(now())) {
        std::map<std::string, long> byState;
        for (const auto& r : *rows) byState[r.state]++;
        out += "# HELP tte_controller_devices Devices by state.\n# TYPE tte_controller_devices gauge\n";
        for (const char* s : {"introduced", "expired", "registered"})
            out += std::string("tte_controller_devices{state=\"") + s + "\"} " + std::to_string(byState[s]) + "\n";
    }
    return out;
}

}  // namespace tte::controller
