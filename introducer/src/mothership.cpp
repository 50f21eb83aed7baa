// Mapping POST and status GET at the MotherShip.
#include "tte/introducer/mothership.h"

#include <charconv>

#include "tte/protocol/query.h"

namespace tte::introducer {
namespace {

/// The MotherShip's non-200 answer as an error the user can act on.
std::unexpected<Error> answerError(const HttpResponse& res) {
    std::string detail;
    if (auto body = protocol::ErrorBody::fromJson(res.body)) detail = body->message;
    auto native = [&](Errc code, std::string message) {
        return failNative(code, std::move(message), "HTTP", res.status);
    };
    switch (res.status) {
        case 409: return native(Errc::conflict, "the OTP was already used: the device may have been enrolled by someone else (draft 4)");
        case 404: return native(Errc::notFound, "the MotherShip knows no device with this Dev ID and OTP");
        case 403: return native(Errc::permissionDenied, "the MotherShip refused: the device is revoked");
        case 429:
            return native(Errc::rateLimited, "too many attempts; the MotherShip asks to retry after " +
                                                 (res.retryAfter.empty() ? std::string("a while") : res.retryAfter + " s"));
        case 400: return native(Errc::invalidArgument, "the MotherShip refused the request: " + detail);
        default:
            return native(Errc::unavailable, "the MotherShip answered HTTP " + std::to_string(res.status) +
                                                 (detail.empty() ? "" : ": " + detail));
    }
}

std::string credentials(const protocol::EnrollmentUrl& url) {
    return "otp=" + url.otp.hex() + ",devid=" + url.devId.hex();
}

}  // namespace

Result<std::pair<std::string, std::uint16_t>> parseAddressPort(std::string_view text) {
    std::string host;
    std::string_view portText;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return fail(Errc::invalidArgument, "controller address must be [IPv6]:PORT, got '" + std::string(text) + "'");
        host = std::string(text.substr(1, close - 1));
        portText = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon)
            return fail(Errc::invalidArgument, "controller address must be ADDR:PORT, got '" + std::string(text) + "'");
        host = std::string(text.substr(0, colon));
        portText = text.substr(colon + 1);
    }
    if (auto st = protocol::checkIpLiteral(host); !st)
        return fail(Errc::invalidArgument, "controller address '" + host + "' is not an IPv4 or IPv6 address");
    unsigned port = 0;
    auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (ec != std::errc() || end != portText.data() + portText.size() || port == 0 || port > 65535)
        return fail(Errc::invalidArgument, "controller port must be 1-65535, got '" + std::string(portText) + "'");
    return std::make_pair(host, static_cast<std::uint16_t>(port));
}

Result<protocol::MappingResponse> postMapping(const HttpsOptions& https, const protocol::EnrollmentUrl& url,
                                              const ControllerTarget& controller) {
    std::string target = protocol::buildEnrollmentUrl(url) + ",cip=" + protocol::percentEncode(controller.ip) +
                         ",cport=" + std::to_string(controller.port) + ",cfingerprint=" + controller.fingerprint.hex();
    if (!controller.description.empty()) target += ",description=" + protocol::percentEncode(controller.description);
    auto res = httpsRequest(https, "POST", target);
    std::fill(target.begin(), target.end(), '\0');
    if (!res) return std::unexpected(res.error());
    if (res->status != 200) return answerError(*res);
    auto doc = protocol::MappingResponse::fromJson(res->body);
    if (!doc) return fail(Errc::corrupt, "the MotherShip's answer is not a mapping response: " + doc.error().message);
    return doc;
}

Result<protocol::StatusResponse> getStatus(const HttpsOptions& https, const protocol::EnrollmentUrl& url) {
    std::string target = "https://" + protocol::msHostName(url.ms) + "/.well-known/tte/status?" + credentials(url);
    auto res = httpsRequest(https, "GET", target);
    std::fill(target.begin(), target.end(), '\0');
    if (!res) return std::unexpected(res.error());
    if (res->status != 200) return answerError(*res);
    auto doc = protocol::StatusResponse::fromJson(res->body);
    if (!doc) return fail(Errc::corrupt, "the MotherShip's answer is not a status response: " + doc.error().message);
    return doc;
}

}  // namespace tte::introducer
