// Bulk OTP vectors of PROTOCOL.md §4, computed independently with the openssl CLI:
//   BS=$( (printf 'tte-box'; printf 00000001 | xxd -r -p) | openssl mac -digest SHA256 -macopt hexkey:$LOT HMAC)
//   (printf 'tte-otp'; printf abcdef01 | xxd -r -p) | openssl mac -digest SHA256 -macopt hexkey:$BS HMAC
#pragma once

#include <cstdint>

namespace tte::hsm::test {

inline constexpr const char* kLotKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

struct BulkVector {
    std::uint32_t box;
    const char* boxSecretHex;
    std::uint32_t devId;
    const char* otpHex;
};

inline constexpr BulkVector kBulkVectors[] = {
    {0x00000001, "4c7a04b41a9b8cfaa9e8bebcaa8af435fc284011c7d1ae8f015943f55640303b", 0x00000001, "8246a94988c48beb"},
    {0x00000001, "4c7a04b41a9b8cfaa9e8bebcaa8af435fc284011c7d1ae8f015943f55640303b", 0xabcdef01, "093318f0b81e4591"},
    {0x0000abcd, "b2abff142d38ce87f6d7f43cafbd6ede8a163d5a1aaaf7bfa67a3d9c737ecae9", 0x00000001, "f098c683d61ffbf5"},
    {0x0000abcd, "b2abff142d38ce87f6d7f43cafbd6ede8a163d5a1aaaf7bfa67a3d9c737ecae9", 0xabcdef01, "7fb3d99742f6cdcf"},
};

}  // namespace tte::hsm::test
