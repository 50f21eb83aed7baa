// Reference implementation of the MotherShip's OTP hash (docs/PROTOCOL.md §10).
#include "tte/protocol/otp_hash.h"

#include <string_view>

#include "crypto.h"
#include "tte/base/secret.h"

namespace tte::protocol {

Secret otpHashInput(DevId devId, const Otp& otp) {
    constexpr std::string_view kLabel = "tte-otp-hash";
    Secret in(kLabel.size() + 4 + 8);
    auto b = in.mutableBytes();
    for (std::size_t i = 0; i < kLabel.size(); ++i) b[i] = static_cast<std::uint8_t>(kLabel[i]);
    for (std::size_t i = 0; i < 4; ++i) b[kLabel.size() + i] = static_cast<std::uint8_t>(devId.value >> (24 - 8 * i));
    for (std::size_t i = 0; i < 8; ++i) b[kLabel.size() + 4 + i] = static_cast<std::uint8_t>(otp.value() >> (56 - 8 * i));
    return in;
}

OtpHash otpHash(std::span<const std::uint8_t> key, DevId devId, const Otp& otp) {
    const Secret in = otpHashInput(devId, otp);
    return detail::hmacSha256(key, in.bytes());
}

}  // namespace tte::protocol
