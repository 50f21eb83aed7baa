// Small OpenSSL helpers the station needs for its journal and records: SHA-256, base64 and
// ECDSA verification against a DER SubjectPublicKeyInfo.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"

namespace tte::station {

/// SHA-256 of `data` as 64 lower-case hex digits.
std::string sha256Hex(std::span<const std::uint8_t> data);
std::string sha256Hex(std::string_view text);

/// Standard base64 with padding.
std::string base64Encode(std::span<const std::uint8_t> data);
/// Errors: invalidArgument (not base64).
Result<std::vector<std::uint8_t>> base64Decode(std::string_view text);

/// Checks a DER ECDSA-SHA256 signature. Errors: invalidArgument (bad key DER),
/// unauthenticated (signature does not match; OpenSSL reason kept).
Status verifySignature(std::span<const std::uint8_t> spkiDer, std::span<const std::uint8_t> data,
                       std::span<const std::uint8_t> signatureDer);

}  // namespace tte::station
