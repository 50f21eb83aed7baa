// Private: HMAC-SHA256 through OpenSSL (SHA-256 itself is public, tte/protocol/crypto.h).
#pragma once

#include <cstdint>
#include <span>

#include "tte/protocol/crypto.h"

namespace tte::protocol::detail {

using Digest = Sha256;

/// HMAC-SHA256; the caller wipes the result when it is secret.
Digest hmacSha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);

}  // namespace tte::protocol::detail
