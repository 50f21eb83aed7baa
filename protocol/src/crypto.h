// Private: SHA-256 and HMAC-SHA256 through OpenSSL.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace tte::protocol::detail {

using Digest = std::array<std::uint8_t, 32>;

Digest sha256(std::span<const std::uint8_t> data);
/// HMAC-SHA256; the caller wipes the result when it is secret.
Digest hmacSha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);

}  // namespace tte::protocol::detail
