// The public HTTPS endpoints (PROTOCOL §6): the introducer page, the mapping (claim), the
// status query, /healthz and /readyz; the dispatch to the station API; and the admin
// listener's /metrics, /healthz and /readyz.
#include "tte/mothership/service.h"

#include <initializer_list>

#include <nlohmann/json.hpp>

#include "html.h"
#include "request_target.h"
#include "responses.h"
#include "tte/base/hex.h"
#include "tte/protocol/enrollment_url.h"
#include "tte/protocol/mothership_messages.h"
#include "tte/protocol/query.h"

namespace tte::mothership {

namespace {
constexpr std::string_view kEnrollPath = "/.well-known/tte";
constexpr std::string_view kStatusPath = "/.well-known/tte/status";
const std::string kNotFound = "no device with this Dev ID and OTP";  // the same for both causes

bool wantsHtml(const HttpRequest& r) { return r.accept.find("text/html") != std::string::npos; }

struct Parsed {
    protocol::QueryParams params;
    std::uint64_t otp = 0;
    std::uint32_t devId = 0;
};

/// The query (and for the POST the form body) parsed and checked by the protocol library
/// (PROTOCOL §2, §6): names in any case, `,` or `&` between parameters, no name twice across
/// query and body, only the names in `alsoAllowed` besides otp and devid.
Result<Parsed> parseCredential(const HttpRequest& r, std::initializer_list<std::string_view> alsoAllowed,
                               bool withBody) {
    auto params = protocol::parseQuery(splitTarget(r.target).second);
    if (!params) return std::unexpected(params.error());
    if (withBody && !r.body.empty()) {
        if (r.contentType.find("application/x-www-form-urlencoded") == std::string::npos)
            return fail(Errc::invalidArgument, "body must be application/x-www-form-urlencoded");
        auto form = protocol::parseFormBody(r.body);
        if (!form) return withContext(form.error(), "body");
        for (auto& [name, value] : form->entries()) {
            if (auto s = params->add(name, value); !s) return std::unexpected(s.error());
        }
    }
    auto credentials = protocol::credentialsFromQuery(*params, alsoAllowed);
    if (!credentials) return std::unexpected(credentials.error());
    return Parsed{std::move(*params), credentials->otp.value(), credentials->devId.value};
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
    if (path == kEnrollPath) {
        route = r.method == "POST" ? Metrics::Route::mapping : Metrics::Route::enrollPage;
        if (r.method == "GET") response = enrollmentPage(r);
        else if (r.method == "POST") response = mapping(r);
        else response = errorResponse(Errc::invalidArgument, "method not allowed");
        if (r.method != "GET" && r.method != "POST") response.status = 405;
    } else if (path == kStatusPath && r.method == "GET") {
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
    // The same registry work on every path up to the answer: the lockout read, the device
    // read, one HMAC, and for any failure the one countFailure transaction (PROTOCOL §6:
    // an unknown Dev ID and a wrong OTP look the same, body and timing).
    auto locked = m_limiter.lockedFor(devId, r.client);
    if (!locked) return errorResponse(locked.error(), html);
    if (*locked) {
        m_metrics.lockouts++;
        const auto seconds = std::to_string((*locked)->count());
        auto resp = errorResponse(Errc::rateLimited, "too many failed attempts; try again in " + seconds + " s", html);
        resp.headers.emplace_back("Retry-After", seconds);
        return resp;
    }
    auto row = m_registry.device(devId);
    if (!row && row.error().code != Errc::notFound) return errorResponse(row.error(), html);
    // Unknown IDs compare against a hash no OTP produces, after the same HMAC work.
    std::array<std::uint8_t, 32> dummy{};
    dummy.fill(0xA5);
    const auto computed = m_hasher.hash(devId, otp);
    if (!computed) return errorResponse(computed.error(), html);  // the token holding the key: 503
    const std::span<const std::uint8_t> expected = row ? std::span<const std::uint8_t>(row->otpHash) : dummy;
    const bool match = constantTimeEqual(*computed, expected) && row.has_value();
    if (match) return std::move(*row);
    m_metrics.otpFailures++;
    auto counted = m_limiter.recordFailure(devId, r.client, row ? "otp-wrong" : "devid-unknown",
                                           r.method + " " + std::string(splitTarget(r.target).first));
    if (!counted) return errorResponse(counted.error(), html);
    return errorResponse(Errc::notFound, kNotFound, html);
}

HttpResponse Service::enrollmentPage(const HttpRequest& r) {
    auto parsed = parseCredential(r, {}, false);
    if (!parsed) return errorResponse(parsed.error(), true);
    auto auth = authenticate(parsed->devId, parsed->otp, r, true);
    if (auto* resp = std::get_if<HttpResponse>(&auth)) return *resp;
    const auto& device = std::get<DeviceRow>(auth);
    const auto html = [](int st, std::string body) { return HttpResponse{st, "text/html; charset=utf-8", std::move(body), {}}; };
    switch (device.state) {
        case DeviceState::notMapped: return html(200, formPage(device, r.target));
        case DeviceState::revoked:
            return html(403, errorPage(403, "Cannot enroll", "This device has been revoked by the manufacturer."));
        default: return html(200, alreadyUsedPage(device));
    }
}

HttpResponse Service::mapping(const HttpRequest& r) {
    const bool html = wantsHtml(r);
    auto parsed = parseCredential(r, {"cip", "cport", "cfingerprint", "description"}, true);
    if (!parsed) return errorResponse(parsed.error(), html);
    auto request = protocol::controllerRequestFromParams(parsed->params);
    if (!request) return errorResponse(request.error(), html);
    const ControllerAddress controller{request->controller.cip, request->controller.cport,
                                       request->controller.cfingerprint.hex()};
    auto auth = authenticate(parsed->devId, parsed->otp, r, html);
    if (auto* resp = std::get_if<HttpResponse>(&auth)) return *resp;
    const auto& device = std::get<DeviceRow>(auth);
    auto claimed = m_registry.claim(device.devId, controller, request->description, r.client, nowMs());
    if (!claimed) {
        if (claimed.error().code == Errc::conflict) {
            (void)m_registry.recordFailure(device.devId, "claim-conflict", r.client, "OTP already used", nowMs());
            if (html) return HttpResponse{409, "text/html; charset=utf-8", alreadyUsedPage(device), {}};
            return errorResponse(Errc::conflict, "the OTP was already used: the device is mapped");
        }
        return errorResponse(claimed.error(), html);
    }
    m_metrics.claims++;
    if (html) return HttpResponse{200, "text/html; charset=utf-8", mappedPage(device, controller), {}};
    return jsonResponse(200, {{"urn", device.urn}, {"fingerprint", device.fingerprint}});
}

HttpResponse Service::status(const HttpRequest& r) {
    auto parsed = parseCredential(r, {}, false);
    if (!parsed) return errorResponse(parsed.error());
    auto auth = authenticate(parsed->devId, parsed->otp, r, false);
    if (auto* resp = std::get_if<HttpResponse>(&auth)) return *resp;
    const auto& device = std::get<DeviceRow>(auth);
    return jsonResponse(200, {{"urn", device.urn},
                              {"fingerprint", device.fingerprint},
                              {"state", std::string(stateName(device.state))}});
}

}  // namespace tte::mothership
