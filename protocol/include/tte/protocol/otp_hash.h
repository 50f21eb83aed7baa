// The keyed OTP hash the MotherShip stores instead of the OTP (docs/PROTOCOL.md §10).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "tte/protocol/ids.h"

namespace tte::protocol {

using OtpHash = std::array<std::uint8_t, 32>;

/// HMAC-SHA256(key, "tte-otp-hash" ‖ Dev ID (4 bytes BE) ‖ OTP (8 bytes BE)). Compare two
/// hashes with tte::constantTimeEqual. Never fails.
OtpHash otpHash(std::span<const std::uint8_t> key, DevId devId, const Otp& otp);

}  // namespace tte::protocol
