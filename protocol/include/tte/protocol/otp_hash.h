// The keyed OTP hash the MotherShip stores instead of the OTP (docs/PROTOCOL.md §10).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "tte/base/secret.h"
#include "tte/protocol/ids.h"

namespace tte::protocol {

using OtpHash = std::array<std::uint8_t, 32>;

/// HMAC-SHA256(key, otpHashInput(devId, otp)). Compare two hashes with
/// tte::constantTimeEqual. Never fails.
OtpHash otpHash(std::span<const std::uint8_t> key, DevId devId, const Otp& otp);

/// What the OTP hash's HMAC takes: "tte-otp-hash" ‖ Dev ID (4 bytes BE) ‖ OTP (8 bytes BE),
/// 24 bytes; for a key that stays in a token, which computes the HMAC itself. It holds the
/// OTP, hence a Secret.
Secret otpHashInput(DevId devId, const Otp& otp);

}  // namespace tte::protocol
