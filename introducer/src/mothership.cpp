// Mapping POST and status GET at the MotherShip.
#include "tte/introducer/mothership.h"

#include <openssl/rand.h>

#include <array>

#include "tte/base/secret.h"

#include "tte/protocol/address.h"

namespace tte::introducer {
namespace {

/// The MotherShip's non-200 answer as an error the user can act on.
std::unexpected<Error> answerError(const client::HttpResponse& res) {
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

}  // namespace

Result<std::pair<std::string, std::uint16_t>> parseAddressPort(std::string_view text) {
    auto address = protocol::parseHostPort(text, "controller address");
    if (!address) return std::unexpected(address.error());
    if (!protocol::checkIpLiteral(address->host))
        return fail(Errc::invalidArgument, "controller address '" + address->host + "' is not an IPv4 or IPv6 address");
    return std::make_pair(address->host, address->port);
}

Result<protocol::Psk> freshPsk() {
    std::array<std::uint8_t, protocol::Psk::kSize> bytes{};
    auto psk = RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) == 1 ? protocol::Psk::fromBytes(bytes)
                                                                             : std::nullopt;
    secureZero(bytes.data(), bytes.size());
    if (!psk) return fail(Errc::internal, "no random PSK from OpenSSL");
    return *psk;
}

Result<protocol::MappingResponse> postMapping(const client::HttpsOptions& https, const protocol::EnrollmentUrl& url,
                                              const ControllerTarget& controller) {
    std::string target = protocol::buildMappingUrl(
        url.ms, {{url.otp, url.devId},
                 {protocol::ControllerInfo{controller.ip, controller.port, controller.fingerprint, controller.psk},
                  controller.description, controller.web}});
    auto res = client::httpsRequest(https, "POST", target);
    std::fill(target.begin(), target.end(), '\0');
    if (!res) return std::unexpected(res.error());
    if (res->status != 200) return answerError(*res);
    auto doc = protocol::MappingResponse::fromJson(res->body);
    if (!doc) return fail(Errc::corrupt, "the MotherShip's answer is not a mapping response: " + doc.error().message);
    return doc;
}

Result<protocol::StatusResponse> getStatus(const client::HttpsOptions& https, const protocol::EnrollmentUrl& url) {
    std::string target = protocol::buildStatusUrl(url);
    auto res = client::httpsRequest(https, "GET", target);
    std::fill(target.begin(), target.end(), '\0');
    if (!res) return std::unexpected(res.error());
    if (res->status != 200) return answerError(*res);
    auto doc = protocol::StatusResponse::fromJson(res->body);
    if (!doc) return fail(Errc::corrupt, "the MotherShip's answer is not a status response: " + doc.error().message);
    return doc;
}

}  // namespace tte::introducer
