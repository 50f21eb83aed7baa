// The public HTTPS endpoints (PROTOCOL §6): the introducer page, the mapping (claim), the
// status query, /healthz and /readyz; the dispatch to the station API; and the admin
// listener's /metrics, /healthz and /readyz.
#include "tte/mothership/service.h"

#include "html.h"
#include "request_target.h"
#include "responses.h"
#include "tte/base/hex.h"
#include "tte/protocol/enrollment_url.h"
#include "tte/protocol/mothership_messages.h"

namespace tte::mothership {

namespace {
const std::string kNotFound = "no device with this Dev ID and OTP";  // the same for both causes

bool wantsHtml(const HttpRequest& r) { return r.accept.find("text/html") != std::string::npos; }

/// The device's URN and key as messages 5 and 8 carry them. Errors: internal when the stored
/// row does not parse.
Result<protocol::MappingResponse> mappingAnswer(const DeviceRow& d) {
    auto urn = protocol::parseDevUrn(d.urn);
    auto fp = protocol::parseFingerprint(d.fingerprint);
    if (!urn || !fp) return fail(Errc::internal, "the registry's row of Dev ID " + toHex(d.devId, 8) + " does not parse");
    return protocol::MappingResponse{std::move(*urn), *fp, d.pskWrapped.has_value()};
}

/// The form body of a mapping POST: only application/x-www-form-urlencoded (PROTOCOL §6).
Result<std::string_view> formBody(const HttpRequest& r) {
    if (r.body.empty()) return std::string_view();
    if (r.contentType.find("application/x-www-form-urlencoded") == std::string::npos)
        return fail(Errc::invalidArgument, "body must be application/x-www-form-urlencoded");
    return std::string_view(r.body);
}

}  // namespace

Service::Service(Registry& registry, const OtpHasher& hasher, Clock& clock, FailureLimiter& limiter, Metrics& metrics,
                 ServiceOptions options)
    : m_registry(registry), m_hasher(hasher), m_clock(clock), m_limiter(limiter), m_metrics(metrics),
      m_options(options) {}

std::int64_t Service::nowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(m_clock.wallNow().time_since_epoch()).count();
}

HttpResponse Service::handle(const HttpRequest& r) {
    const auto started = std::chrono::steady_clock::now();
    HttpResponse response;
    Metrics::Route route = Metrics::Route::other;
    const auto [path, query] = splitTarget(r.target);
    if (path == protocol::kEnrollmentPath) {
        route = r.method == "POST" ? Metrics::Route::mapping : Metrics::Route::enrollPage;
        if (r.method == "GET") response = enrollmentPage(r);
        else if (r.method == "POST") response = mapping(r);
        else response = errorResponse(Errc::invalidArgument, "method not allowed");
        if (r.method != "GET" && r.method != "POST") response.status = 405;
    } else if (path == protocol::kStatusPath && r.method == "GET") {
        route = Metrics::Route::status;
        response = status(r);
    } else if ((path == "/healthz" || path == "/readyz") && r.method == "GET") {
        route = Metrics::Route::health;
        response = probe(path, false);
    } else if (path.starts_with("/api/v1/")) {
        route = Metrics::Route::stationApi;
        response = stationApi(r);
    } else {
        response = errorResponse(Errc::notFound, "no such resource");
    }
    m_metrics.httpResponse(response.status);
    if (response.contentType.starts_with("text/html"))
        response.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    m_metrics.httpRequest(route, std::chrono::steady_clock::now() - started);
    return response;
}

HttpResponse Service::handleAdmin(const HttpRequest& r) {
    const auto path = splitTarget(r.target).first;
    if (r.method != "GET") return HttpResponse{405, "text/plain; charset=utf-8", "only GET\n", {{"Allow", "GET"}}};
    if (path == "/metrics") return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", m_metrics.render(), {}};
    if (path == "/healthz" || path == "/readyz") return probe(path, true);
    return HttpResponse{404, "text/plain; charset=utf-8", "no such resource (/metrics, /healthz, /readyz)\n", {}};
}

std::vector<Service::NotReady> Service::readiness() {
    std::vector<NotReady> out;
    if (auto s = m_registry.ping(); !s) out.push_back({"database", s.error()});
    if (auto s = m_hasher.check(); !s) out.push_back({"otp-hash-key", s.error()});
    return out;
}

/// /healthz: the process answers (liveness). /readyz: the database and the OTP-hash key's
/// token answer too; the public answer names the failed checks, the admin one also why.
HttpResponse Service::probe(std::string_view path, bool detailed) {
    const auto text = [](int st, std::string body) { return HttpResponse{st, "text/plain; charset=utf-8", std::move(body), {}}; };
    if (path == "/healthz") return text(200, "ok\n");
    const auto failed = readiness();
    if (failed.empty()) return text(200, "ready\n");
    std::string body = "not ready:";
    for (const auto& f : failed) body += " " + f.check + (detailed ? " (" + f.error.toString() + ")" : "");
    return text(503, body + "\n");
}

std::variant<DeviceRow, HttpResponse> Service::authenticate(std::uint32_t devId, std::uint64_t otp,
                                                            const HttpRequest& r, bool html) {
    // The same registry work on every path up to the answer: the lockout read, the OTP-hash
    // read (one row, whether or not the Dev ID is stored), one HMAC, and for any failure the one
    // countFailure transaction (PROTOCOL §6: an unknown Dev ID and a wrong OTP look the same,
    // body and timing). The device row, whose failure count grows with every wrong OTP, is read
    // only once the OTP matched.
    auto locked = m_limiter.lockedFor(devId, r.client);
    if (!locked) return errorResponse(locked.error(), html);
    if (*locked) {
        m_metrics.lockouts++;
        const auto seconds = std::to_string((*locked)->count());
        auto resp = errorResponse(Errc::rateLimited, "too many failed attempts; try again in " + seconds + " s", html);
        resp.headers.emplace_back("Retry-After", seconds);
        return resp;
    }
    auto stored = m_registry.otpHash(devId);
    if (!stored) return errorResponse(stored.error(), html);
    // Unknown IDs compare against a hash no OTP produces, after the same HMAC work.
    std::array<std::uint8_t, 32> dummy{};
    dummy.fill(0xA5);
    const auto computed = m_hasher.hash(devId, otp);
    if (!computed) return errorResponse(computed.error(), html);  // the token holding the key: 503
    const std::span<const std::uint8_t> expected = *stored ? std::span<const std::uint8_t>(**stored) : dummy;
    const bool match = constantTimeEqual(*computed, expected) && stored->has_value();
    if (match) {
        auto row = m_registry.deviceRow(devId);
        if (!row) return errorResponse(row.error(), html);
        return std::move(*row);
    }
    m_metrics.otpFailures++;
    auto counted = m_limiter.recordFailure(devId, r.client, *stored ? "otp-wrong" : "devid-unknown",
                                           r.method + " " + std::string(splitTarget(r.target).first));
    if (!counted) return errorResponse(counted.error(), html);
    return errorResponse(Errc::notFound, kNotFound, html);
}

HttpResponse Service::enrollmentPage(const HttpRequest& r) {
    auto parsed = protocol::parseCredentialsQuery(splitTarget(r.target).second);
    if (!parsed) return errorResponse(parsed.error(), true);
    auto auth = authenticate(parsed->devId.value, parsed->otp.value(), r, true);
    if (auto* resp = std::get_if<HttpResponse>(&auth)) return *resp;
    const auto& device = std::get<DeviceRow>(auth);
    const auto html = [](int st, std::string body) { return HttpResponse{st, "text/html; charset=utf-8", std::move(body), {}}; };
    switch (device.state) {
        case DeviceState::notMapped: return html(200, formPage(device, r.target));
        case DeviceState::revoked: return html(403, revokedPage(device));
        default: return html(200, device.preEnrolledBy.empty() ? alreadyUsedPage(device) : preEnrolledPage(device));
    }
}

HttpResponse Service::mapping(const HttpRequest& r) {
    const bool html = wantsHtml(r);
    auto body = formBody(r);
    if (!body) return errorResponse(body.error(), html);
    auto request = protocol::parseMappingRequest(splitTarget(r.target).second, *body);
    if (!request) return errorResponse(request.error(), html);
    const protocol::ControllerInfo& c = request->controller.controller;
    ControllerAddress controller{c.cip, c.cport, c.cfingerprint.hex()};
    auto auth = authenticate(request->credentials.devId.value, request->credentials.otp.value(), r, html);
    if (auto* resp = std::get_if<HttpResponse>(&auth)) return *resp;
    const auto& device = std::get<DeviceRow>(auth);
    if (device.state == DeviceState::revoked) return refuseRevoked(device, r, html);
    // PROTOCOL §11 (draft 5.3): the introducer gives a DTLS-PSK device's Controller PSK here. A
    // certificate device has no use for one: it is dropped, never stored.
    if (device.pskWrapped && device.state == DeviceState::notMapped) {
        if (!c.cpsk) {
            return errorResponse(Errc::invalidArgument,
                                 "missing parameter 'cpsk': the device uses DTLS-PSK and needs the Controller's PSK "
                                 "(enroll it with tte-introducer)",
                                 html);
        }
        auto wrapped = wrapPsk(m_hasher, device.devId, PskRole::controller, *c.cpsk);
        if (!wrapped) return errorResponse(wrapped.error(), html);
        controller.pskWrapped = std::move(*wrapped);
    }
    auto claimed = m_registry.claim(device.devId, controller, request->controller.description, r.client, nowMs());
    if (!claimed) {
        if (claimed.error().code == Errc::permissionDenied) return refuseRevoked(device, r, html);  // revoked meanwhile
        if (claimed.error().code == Errc::conflict && !device.preEnrolledBy.empty()) {
            // Not a used OTP: its station mapped the device for the customer (PROTOCOL §10).
            (void)m_registry.recordFailure(device.devId, "claim-pre-enrolled", r.client, "the device is pre-enrolled",
                                           nowMs());
            if (html) return HttpResponse{409, "text/html; charset=utf-8", preEnrolledPage(device), {}};
            return errorResponse(Errc::conflict, "the device is pre-enrolled to Controller " +
                                                     (device.controller ? device.controller->fingerprint : std::string()) +
                                                     " by its manufacturer: nothing to do");
        }
        if (claimed.error().code == Errc::conflict) {
            (void)m_registry.recordFailure(device.devId, "claim-conflict", r.client, "OTP already used", nowMs());
            if (html) return HttpResponse{409, "text/html; charset=utf-8", alreadyUsedPage(device), {}};
            return errorResponse(Errc::conflict, "the OTP was already used: the device is mapped");
        }
        return errorResponse(claimed.error(), html);
    }
    m_metrics.claims++;
    if (html) return HttpResponse{200, "text/html; charset=utf-8", mappedPage(device, controller, request->controller.web), {}};
    auto answer = mappingAnswer(device);
    if (!answer) return errorResponse(answer.error());
    return jsonResponse(200, answer->toJson());
}

/// A mapping of a revoked device is answered as an unknown Dev ID or a wrong OTP are (404, the
/// same body): the POST tells nobody that the label is a real one. It is audited
/// (`claim-revoked`) but not counted as a failure: the OTP was right, and whoever holds it can
/// read `revoked` from the status query anyway.
HttpResponse Service::refuseRevoked(const DeviceRow& device, const HttpRequest& r, bool html) {
    (void)m_registry.recordFailure(device.devId, "claim-revoked", r.client, "mapping refused: the device is revoked",
                                   nowMs());
    return errorResponse(Errc::notFound, kNotFound, html);
}

HttpResponse Service::status(const HttpRequest& r) {
    auto parsed = protocol::parseCredentialsQuery(splitTarget(r.target).second);
    if (!parsed) return errorResponse(parsed.error());
    auto auth = authenticate(parsed->devId.value, parsed->otp.value(), r, false);
    if (auto* resp = std::get_if<HttpResponse>(&auth)) return *resp;
    const auto& device = std::get<DeviceRow>(auth);
    auto answer = mappingAnswer(device);
    if (!answer) return errorResponse(answer.error());
    protocol::StatusResponse st{std::move(answer->urn), answer->fingerprint, device.state, std::nullopt};
    // A device its station pre-enrolled: `pre-enrolled` until it fetched its Controller, then
    // `registered`, both with the Controller's fingerprint (PROTOCOL §6, §10).
    if (!device.preEnrolledBy.empty() && device.controller &&
        (device.state == DeviceState::mapped || device.state == DeviceState::registered)) {
        auto cfp = protocol::parseFingerprint(device.controller->fingerprint);
        if (!cfp) return errorResponse(Errc::internal, "the registry's controller of Dev ID " + toHex(device.devId, 8) + " does not parse");
        st.preEnrolledTo = *cfp;
        if (device.state == DeviceState::mapped) st.state = DeviceState::preEnrolled;
    }
    return jsonResponse(200, st.toJson());
}

}  // namespace tte::mothership
