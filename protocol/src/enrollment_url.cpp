// Enrollment URL build and parse (docs/PROTOCOL.md §2).
#include "tte/protocol/enrollment_url.h"

#include "tte_url.h"

namespace tte::protocol {

std::string credentialsQuery(const EnrollmentCredentials& credentials) {
    return "otp=" + credentials.otp.hex() + ",devid=" + credentials.devId.hex();
}

std::string buildEnrollmentUrl(const EnrollmentUrl& url) {
    return "https://" + msHostName(url.ms) + std::string(kEnrollmentPath) + "?" + credentialsQuery({url.otp, url.devId});
}

Result<EnrollmentCredentials> credentialsFromQuery(const QueryParams& params,
                                                   std::initializer_list<std::string_view> alsoAllowed) {
    if (auto ok = detail::onlyKnownParams(params, {"otp", "devid"}, alsoAllowed); !ok) {
        return std::unexpected(ok.error());
    }
    auto otpText = detail::requiredParam(params, "otp");
    if (!otpText) return std::unexpected(otpText.error());
    auto devIdText = detail::requiredParam(params, "devid");
    if (!devIdText) return std::unexpected(devIdText.error());
    auto otp = parseOtp(*otpText);
    if (!otp) return std::unexpected(otp.error());
    auto devId = parseDevId(*devIdText);
    if (!devId) return std::unexpected(devId.error());
    return EnrollmentCredentials{*otp, *devId};
}

Result<EnrollmentCredentials> parseCredentialsQuery(std::string_view query) {
    auto params = parseQuery(query);
    if (!params) return std::unexpected(params.error());
    return credentialsFromQuery(*params);
}

Result<EnrollmentUrl> parseEnrollmentUrl(std::string_view url, MsIdUse use) {
    auto parts = detail::splitTteUrl(url, kEnrollmentPath, "enrollment URL", use);
    if (!parts) return std::unexpected(parts.error());
    auto creds = credentialsFromQuery(parts->params);
    if (!creds) return withContext(creds.error(), "enrollment URL");
    return EnrollmentUrl{parts->ms, creds->otp, creds->devId};
}

}  // namespace tte::protocol
