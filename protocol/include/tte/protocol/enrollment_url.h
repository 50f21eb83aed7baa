// The Enrollment URL of draft 2 (message 1/3, the QR code on the label), docs/PROTOCOL.md §2:
// https://tte-000001.net/.well-known/tte?otp=123456789abcdef0,devid=abcdef01
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "tte/base/error.h"
#include "tte/protocol/ids.h"
#include "tte/protocol/query.h"

namespace tte::protocol {

inline constexpr std::string_view kEnrollmentPath = "/.well-known/tte";

struct EnrollmentUrl {
    MsId ms;
    Otp otp;
    DevId devId;
};

/// The OTP and Dev ID of a query (the credential of messages 4 and 7).
struct EnrollmentCredentials {
    Otp otp;
    DevId devId;
};

/// "otp=<16 hex>,devid=<8 hex>": the credential of every query of messages 1, 4 and 7, exactly
/// as §2 shows. Secret: it holds the OTP.
std::string credentialsQuery(const EnrollmentCredentials& credentials);

/// Builds the URL exactly as §2 shows: lower-case hex, `otp` then `devid`, comma-separated.
/// The result carries the OTP: it is secret.
std::string buildEnrollmentUrl(const EnrollmentUrl& url);

/// Parses an Enrollment URL (§2). Errors (invalidArgument unless noted), each starting
/// "enrollment URL: ": "longer than 256 bytes", "scheme must be https", "a fragment is not
/// allowed", "user info is not allowed", "port '<p>' is not allowed (draft 2: the default
/// port)", the host name errors of parseMsHostName()/makeMsId() (MS ID 0 only with
/// MsIdUse::example), "path must be /.well-known/tte, got '<path>'", "missing query", the
/// errors of parseQuery() and credentialsFromQuery().
Result<EnrollmentUrl> parseEnrollmentUrl(std::string_view url, MsIdUse use = MsIdUse::operational);

/// Takes `otp` and `devid` from parsed parameters; other parameters are refused unless named
/// in `alsoAllowed` (the MotherShip's POST allows cip, cport, cfingerprint, description).
/// Errors (invalidArgument): "unknown parameter '<name>'", "missing parameter 'otp'", "empty
/// parameter 'otp'" (same for devid), "otp: expected 16 hex digits, got N", "otp: 'x' at
/// position P is not a hex digit", "devid: expected 8 hex digits, got N", "devid: 'x' at ...".
Result<EnrollmentCredentials> credentialsFromQuery(const QueryParams& params,
                                                   std::initializer_list<std::string_view> alsoAllowed = {});

/// parseQuery() then credentialsFromQuery() with no other parameter: what the page (message
/// 4, GET) and the status query (message 7) take. Errors: theirs.
Result<EnrollmentCredentials> parseCredentialsQuery(std::string_view query);

}  // namespace tte::protocol
