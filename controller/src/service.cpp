// Introductions, device list, check-in decisions and metrics of the Controller.
#include "tte/controller/service.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>

#include "tte/base/hex.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/ids.h"

namespace tte::controller {
namespace {

using nlohmann::json;

/// The string member `name`, or an error naming it. Absent optional members give "".
Result<std::string> member(const json& doc, const char* name, bool required) {
    auto it = doc.find(name);
    if (it == doc.end()) {
        if (required) return fail(Errc::invalidArgument, std::string("missing field \"") + name + "\"");
        return std::string();
    }
    if (!it->is_string()) return fail(Errc::invalidArgument, std::string("field \"") + name + "\" must be a string");
    return it->get<std::string>();
}

Result<Introduction> parseIntroduction(std::string_view body) {
    json doc = json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return fail(Errc::invalidArgument, "body is not a JSON object");
    auto urn = member(doc, "urn", true);
    auto fp = member(doc, "fingerprint", true);
    auto otp = member(doc, "otp", true);
    auto devid = member(doc, "devid", true);
    auto ms = member(doc, "ms", true);
    auto desc = member(doc, "description", false);
    for (auto* r : {&urn, &fp, &otp, &devid, &ms, &desc})
        if (!*r) return std::unexpected(r->error());
    auto devUrn = protocol::parseDevUrn(*urn);
    if (!devUrn) return std::unexpected(devUrn.error());
    auto fingerprint = protocol::parseFingerprint(*fp);
    if (!fingerprint) return std::unexpected(fingerprint.error());
    auto otpValue = protocol::parseOtp(*otp);
    secureZero(otp->data(), otp->size());
    if (!otpValue) return std::unexpected(otpValue.error());
    auto devId = protocol::parseDevId(*devid);
    if (!devId) return std::unexpected(devId.error());
    if (!(*devId == devUrn->devId())) return fail(Errc::invalidArgument, "devid does not match the Dev URN's serial");
    auto msId = protocol::parseMsHostName(*ms, protocol::MsIdUse::operational);
    if (!msId) return std::unexpected(msId.error());
    if (desc->size() > 200) return fail(Errc::invalidArgument, "description is longer than 200 bytes");
    Introduction intro;
    intro.urn = devUrn->text;
    intro.fingerprint = fingerprint->hex();
    std::string otpText = otpValue->hex();
    intro.otp = Secret(otpText);
    secureZero(otpText.data(), otpText.size());
    intro.devid = devId->hex();
    intro.ms = protocol::msHostName(*msId);
    intro.description = *desc;
    return intro;
}

json toJson(const DeviceRecord& r) {
    json j = {{"urn", r.urn},         {"devid", r.devid},   {"fingerprint", r.fingerprint},
              {"description", r.description}, {"state", r.state}, {"ms_state", r.msState},
              {"ms", r.ms},           {"introduced", r.introduced}, {"expires_at", r.expiresAt}};
    j["last_seen"] = r.lastSeen ? json(*r.lastSeen) : json(nullptr);
    return j;
}

int httpStatusOf(Errc code) {
    switch (code) {
        case Errc::invalidArgument: return 400;
        case Errc::conflict: return 409;
        case Errc::notFound: return 404;
        default: return 500;
    }
}

}  // namespace

std::string errorBody(Errc code, std::string_view message) {
    return json{{"error", errcName(code)}, {"message", message}}.dump();
}

UnixSeconds ControllerService::now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(m_clock.wallNow().time_since_epoch()).count();
}

HttpAnswer ControllerService::introduce(std::string_view body) {
    auto intro = parseIntroduction(body);
    if (!intro) {
        m_introductionsRejected++;
        return {400, "application/json", errorBody(intro.error().code, intro.error().message)};
    }
    auto stored = m_store.introduce(*intro, now(), m_options.introductionTtl.count());
    if (!stored) {
        m_introductionsRejected++;
        return {httpStatusOf(stored.error().code), "application/json", errorBody(stored.error().code, stored.error().message)};
    }
    m_introductions++;
    return {201, "application/json", toJson(*stored).dump()};
}

HttpAnswer ControllerService::devices() {
    auto rows = m_store.list(now());
    if (!rows) return {500, "application/json", errorBody(rows.error().code, rows.error().message)};
    json list = json::array();
    for (const auto& r : *rows) list.push_back(toJson(r));
    return {200, "application/json", json{{"devices", list}}.dump()};
}

HttpAnswer ControllerService::handleHttp(std::string_view method, std::string_view target, std::string_view body) {
    m_httpRequests++;
    std::string_view path = target.substr(0, target.find('?'));
    auto only = [&](std::string_view allowed) -> std::optional<HttpAnswer> {
        if (method == allowed) return std::nullopt;
        return HttpAnswer{405, "application/json", errorBody(Errc::invalidArgument, "method not allowed, use " + std::string(allowed))};
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
        return {200, "text/plain; version=0.0.4", metrics()};
    }
    if (path == "/healthz") return {200, "text/plain", "ok\n"};
    return {404, "application/json", errorBody(Errc::notFound, "no such resource: " + std::string(path))};
}

CoapAnswer ControllerService::checkin(const std::string& peerFingerprint, std::string_view payload) {
    auto refuse = [&](int code, std::string message) {
        m_checkinsRefused++;
        return CoapAnswer{code, std::move(message)};
    };
    json doc = json::from_cbor(payload, true, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("urn") || !doc["urn"].is_string())
        return refuse(400, "payload must be CBOR {\"urn\": text}");
    auto devUrn = protocol::parseDevUrn(doc["urn"].get<std::string>());
    if (!devUrn) return refuse(400, devUrn.error().message);
    const std::string& urn = devUrn->text;
    auto known = m_store.findByFingerprint(peerFingerprint, now());
    if (!known) {
        if (known.error().code != Errc::notFound) return refuse(500, known.error().message);
        if (!m_options.acceptUnintroduced) return refuse(403, "device key was not introduced to this controller");
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
