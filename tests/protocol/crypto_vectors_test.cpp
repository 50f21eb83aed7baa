// Box secret, bulk OTP, OTP hash and fingerprints against the vectors of vectors.md, which
// were computed with the openssl command line, independently of protocol/.
#include <gtest/gtest.h>

#include <string>

#include "tte/base/hex.h"
#include "tte/protocol/box.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/otp_hash.h"

namespace tte::protocol {
namespace {

constexpr const char* kLotKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* kBox1 = "4c7a04b41a9b8cfaa9e8bebcaa8af435fc284011c7d1ae8f015943f55640303b";
constexpr const char* kBox12345678 = "517116303f3dc815b410e275541b66110b415c89b71f3ecc5a97d0a7f23c19a2";
constexpr const char* kOtpHashKey = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
constexpr const char* kOtpHash = "04d3931e9d0e1b2422d16843eea90981fd862833410bc5d77200aee302c121cb";
constexpr const char* kFingerprint = "e89d49a964af082de5478fe7295a365f44736784dad6f99c77c02ca848a1834d";

constexpr const char* kPkcs8Pem = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyVmRclakq0aDovxf
CoLX/3l3IRbpYM2WEqh1+lVZoeyhRANCAARywlr0cRy2BwFaCNZmOEqBzs5ckKBr
KibVqP+6MWXyoZrR3ntd2XR/VECCHW7qDoCXuAK6wjjnNRiwNAtP8PAL
-----END PRIVATE KEY-----
)";
constexpr const char* kEcPem = R"(-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIMlZkXJWpKtGg6L8XwqC1/95dyEW6WDNlhKodfpVWaHsoAoGCCqGSM49
AwEHoUQDQgAEcsJa9HEctgcBWgjWZjhKgc7OXJCgayom1aj/ujFl8qGa0d57Xdl0
f1RAgh1u6g6Al7gCusI45zUYsDQLT/DwCw==
-----END EC PRIVATE KEY-----
)";
constexpr const char* kPublicPem = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEcsJa9HEctgcBWgjWZjhKgc7OXJCg
ayom1aj/ujFl8qGa0d57Xdl0f1RAgh1u6g6Al7gCusI45zUYsDQLT/DwCw==
-----END PUBLIC KEY-----
)";
constexpr const char* kCertPem = R"(-----BEGIN CERTIFICATE-----
MIIBfDCCASOgAwIBAgIUOG7Q86asSO+V139XAYrwvdjiN8swCgYIKoZIzj0EAwIw
EzERMA8GA1UEAwwIdHRlLXRlc3QwIBcNMjYxMTIzMDcxMTQ4WhgPMjEyNjEwMzAw
NzExNDhaMBMxETAPBgNVBAMMCHR0ZS10ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEcsJa9HEctgcBWgjWZjhKgc7OXJCgayom1aj/ujFl8qGa0d57Xdl0f1RA
gh1u6g6Al7gCusI45zUYsDQLT/DwC6NTMFEwHQYDVR0OBBYEFDQu8gdIhPjieHH7
A9v/aMaNXfctMB8GA1UdIwQYMBaAFDQu8gdIhPjieHH7A9v/aMaNXfctMA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgOHOQcL6/2zEkiI0cIfMgrUOw
pUaBf0nzgbsf/dHvopwCIDPNOLmTVCcMIwkyVduGZHWj6rArE4knr4ZfTiI4QHeX
-----END CERTIFICATE-----
)";

std::vector<std::uint8_t> bytes(const char* hex) { return *fromHex(hex, "test"); }

/// The base64 body of a PEM text, decoded (a DER input for fingerprintFromDer).
std::vector<std::uint8_t> derOf(std::string pem) {
    std::string b64;
    std::size_t start = pem.find('\n') + 1;
    const std::size_t end = pem.find("-----END");
    for (std::size_t i = start; i < end; ++i) {
        if (pem[i] != '\n') b64.push_back(pem[i]);
    }
    static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::vector<std::uint8_t> out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : b64) {
        if (c == '=') break;
        acc = (acc << 6) | static_cast<std::uint32_t>(kAlphabet.find(c));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>(acc >> bits));
        }
    }
    return out;
}

TEST(BulkVectors, BoxSecret) {
    EXPECT_EQ(toHex(deriveBoxSecret(bytes(kLotKey), 1).bytes()), kBox1);
    EXPECT_EQ(toHex(deriveBoxSecret(bytes(kLotKey), 0x12345678).bytes()), kBox12345678);
}

TEST(BulkVectors, DeviceOtp) {
    const auto box = bytes(kBox1);
    EXPECT_EQ(deriveBulkOtp(box, DevId{0xabcdef01}).hex(), "093318f0b81e4591");
    EXPECT_EQ(deriveBulkOtp(box, DevId{0x00000001}).hex(), "8246a94988c48beb");
    EXPECT_EQ(deriveBulkOtp(box, DevId{0xffffffff}).hex(), "320c5cfe8416ea46");
}

TEST(OtpHashVectors, MatchesOpenssl) {
    const OtpHash h = otpHash(bytes(kOtpHashKey), DevId{0xabcdef01}, Otp(0x123456789abcdef0ULL));
    EXPECT_EQ(toHex(h), kOtpHash);
    EXPECT_NE(toHex(otpHash(bytes(kOtpHashKey), DevId{0xabcdef02}, Otp(0x123456789abcdef0ULL))), kOtpHash);
    // What a token HMACs when it keeps the key.
    const Secret in = otpHashInput(DevId{0xabcdef01}, Otp(0x123456789abcdef0ULL));
    EXPECT_EQ(toHex(in.bytes()), "7474652d6f74702d68617368"  // "tte-otp-hash"
                                 "abcdef01123456789abcdef0");
}

TEST(FingerprintVectors, SameForCertificatePublicKeyAndPrivateKeys) {
    for (const char* pem : {kCertPem, kPublicPem, kPkcs8Pem, kEcPem}) {
        auto fromPem = fingerprintFromPem(pem);
        ASSERT_TRUE(fromPem) << fromPem.error().toString();
        EXPECT_EQ(fromPem->hex(), kFingerprint);
        auto fromDer = fingerprintFromDer(derOf(pem));
        ASSERT_TRUE(fromDer) << fromDer.error().toString();
        EXPECT_EQ(fromDer->hex(), kFingerprint);
    }
    EXPECT_EQ(fingerprintOfSpki(derOf(kPublicPem)).hex(), kFingerprint);
    for (const char* pem : {kPkcs8Pem, kEcPem, kPublicPem, kCertPem}) EXPECT_EQ(*spkiFromPem(pem), derOf(kPublicPem));
    // OpenSSL writes back the very PEM text openssl(1) wrote.
    EXPECT_EQ(*publicKeyPem(derOf(kPublicPem)), kPublicPem);
    EXPECT_EQ(*certificatePem(derOf(kCertPem)), kCertPem);
    EXPECT_EQ(certificatePem(derOf(kPublicPem)).error().message, "not a DER X.509 certificate");
    EXPECT_EQ(publicKeyPem(std::vector<std::uint8_t>(8, 0x30)).error().message, "not a DER SubjectPublicKeyInfo");
    EXPECT_EQ(parseFingerprint(std::string(kFingerprint))->hex(), kFingerprint);
    std::string upper(kFingerprint);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(parseFingerprint(upper)->hex(), kFingerprint);
}

}  // namespace
}  // namespace tte::protocol
