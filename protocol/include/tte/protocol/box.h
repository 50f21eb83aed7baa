// Bulk enrollment (draft 5.2, decided in docs/PROTOCOL.md §3, §4): the box URL on a box's
// label and the derivation of each device's OTP from the box secret.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/protocol/ids.h"

namespace tte::protocol {

inline constexpr std::string_view kBoxPath = "/.well-known/tte-box";
inline constexpr std::size_t kBoxSecretSize = 32;
inline constexpr std::uint32_t kMaxBoxDevices = 65536;

/// https://tte-000001.net/.well-known/tte-box?secret=<64 hex>,first=<8 hex>,last=<8 hex>
struct BoxUrl {
    MsId ms;
    Secret secret;  ///< kBoxSecretSize bytes
    DevId first;
    DevId last;
};

/// Builds the box URL (lower-case hex, comma-separated). The result is secret. Errors:
/// invalidArgument "box URL: secret must be 32 bytes, got N", "box URL: first <hex> is after
/// last <hex>", "box URL: N devices, at most 65536 in a box".
Result<std::string> buildBoxUrl(const BoxUrl& box);

/// Parses a box URL with the rules of the Enrollment URL (§2, §3), each error starting
/// "box URL: ": those of parseEnrollmentUrl() for scheme, host, port, path and query;
/// "unknown parameter '<name>'", "missing parameter 'secret'" (first, last), "empty parameter
/// '<name>'", "secret: expected 64 hex digits, got N", "secret: 'x' at position P is not a hex
/// digit", "first: expected 8 hex digits, got N" (last), "first <hex> is after last <hex>",
/// "N devices, at most 65536 in a box".
Result<BoxUrl> parseBoxUrl(std::string_view url, MsIdUse use = MsIdUse::operational);

/// box secret = HMAC-SHA256(lot key, "tte-box" ‖ box number, 4 bytes big-endian) (§4): the
/// software reference of what the station's token computes. Never fails.
Secret deriveBoxSecret(std::span<const std::uint8_t> lotKey, std::uint32_t boxNumber);

/// OTP = first 8 bytes (big-endian) of HMAC-SHA256(box secret, "tte-otp" ‖ Dev ID, 4 bytes
/// big-endian) (§4). Never fails.
Otp deriveBulkOtp(std::span<const std::uint8_t> boxSecret, DevId devId);

}  // namespace tte::protocol
