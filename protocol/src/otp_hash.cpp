// Reference implementation of the MotherShip's OTP hash (docs/PROTOCOL.md §10).
#include "tte/protocol/otp_hash.h"

#include <string_view>

#include "crypto.h"
#include "tte/base/secret.h"

namespace tte::protocol {

OtpHash otpHash(std::span<const std::uint8_t> key, DevId devId, const Otp& otp) {
    constexpr std::string_view kLabel = "tte-otp-hash";
    std::array<std::uint8_t, kLabel.size() + 4 + 8> in{};
    for (std::size_t i = 0; i < kLabel.size(); ++i) in[i] = static_cast<std::uint8_t>(kLabel[i]);
    for (std::size_t i = 0; i < 4; ++i) in[kLabel.size() + i] = static_cast<std::uint8_t>(devId.value >> (24 - 8 * i));
    for (std::size_t i = 0; i < 8; ++i) {
        in[kLabel.size() + 4 + i] = static_cast<std::uint8_t>(otp.value() >> (56 - 8 * i));
    }
    const OtpHash out = detail::hmacSha256(key, in);
    secureZero(in.data(), in.size());
    return out;
}

}  // namespace tte::protocol
