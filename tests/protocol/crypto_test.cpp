// SHA-256, base64 and ECDSA-SHA256 verification of tte/protocol/crypto.h against values made
// with the openssl and coreutils command lines (sha256sum, base64, openssl dgst -sign).
#include "tte/protocol/crypto.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tte/base/hex.h"

namespace tte::protocol {
namespace {

// The public key of crypto_vectors_test.cpp's kPkcs8Pem, and its signature of kMessage
// (`openssl dgst -sha256 -sign key.pem`).
constexpr const char* kPoint =
    "0472c25af4711cb607015a08d666384a81cece5c90a06b2a26d5a8ffba3165f2a19ad1de7b5dd9747f5440821d6eea0e8097b802bac238e7351"
    "8b0340b4ff0f00b";
constexpr const char* kMessage = "tte station record";
constexpr const char* kSignature =
    "MEUCIBzyJ8daPKTQCH3hw2TlzWv3cBvjHtv7yKFugSPAozGKAiEAwMQwaIcdpdDP+a+HWDDojTwJARric2nEzDti6AaKfww=";

std::span<const std::uint8_t> bytesOf(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TEST(Crypto, Sha256OfTextAndBytes) {
    EXPECT_EQ(sha256Hex(std::string_view("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256Hex(std::string_view(kMessage)), "842c4f9b02a4f4cb2912b3fb74bfd71e3dffff8ab8323783e77baa408fb497cf");
    EXPECT_EQ(toHex(sha256(bytesOf(kMessage))), sha256Hex(std::string_view(kMessage)));
}

TEST(Crypto, Base64RoundTripsAndRefusesWhatIsNotBase64) {
    const std::string foobar = "foobar";
    EXPECT_EQ(base64Encode(bytesOf(foobar)), "Zm9vYmFy");
    EXPECT_EQ(base64Encode(bytesOf("f")), "Zg==");
    EXPECT_EQ(base64Encode(bytesOf("fo")), "Zm8=");
    for (const std::string& text : std::vector<std::string>{"", "f", "fo", "foo", "foobar", std::string("\0\xff\x10", 3)}) {
        auto back = base64Decode(base64Encode(bytesOf(text)));
        ASSERT_TRUE(back) << back.error().message;
        EXPECT_EQ(std::string(back->begin(), back->end()), text);
    }
    EXPECT_EQ(base64Decode("Zg=").error().message, "base64: length 3 is not a multiple of 4");
    EXPECT_EQ(base64Decode("Z===").error().message, "base64: padding inside the text");
    EXPECT_EQ(base64Decode("Zg=A").error().message, "base64: padding inside the text");
    EXPECT_EQ(base64Decode("Zm9v YmFy").error().message, "base64: length 9 is not a multiple of 4");
    EXPECT_EQ(base64Decode("Zh==").error().message, "base64: stray bits before the padding");
    EXPECT_EQ(base64Decode("Zm9=").error().message, "base64: stray bits before the padding");
    EXPECT_EQ(base64Decode("Zm9-").error().message, "base64: - at position 4 is not a base64 character");
}

TEST(Crypto, VerifiesTheOpensslSignature) {
    const auto point = *fromHex(kPoint, "point");
    auto spki = p256SpkiFromPoint(point);
    ASSERT_TRUE(spki) << spki.error().message;
    EXPECT_EQ(std::vector<std::uint8_t>(p256PointOfSpki(*spki).begin(), p256PointOfSpki(*spki).end()), point);
    const auto signature = *base64Decode(kSignature);
    EXPECT_TRUE(verifyEcdsaSha256(*spki, bytesOf(kMessage), signature));
    auto tampered = verifyEcdsaSha256(*spki, bytesOf("tte station recorD"), signature);
    ASSERT_FALSE(tampered);
    EXPECT_EQ(tampered.error().code, Errc::unauthenticated);
    EXPECT_EQ(tampered.error().message, "the ECDSA-SHA256 signature does not verify");
    auto badKey = verifyEcdsaSha256(std::vector<std::uint8_t>(10, 0x30), bytesOf(kMessage), signature);
    ASSERT_FALSE(badKey);
    EXPECT_EQ(badKey.error().message, "the public key is not a DER SubjectPublicKeyInfo");
}

TEST(Crypto, RefusesPointsOffTheCurve) {
    auto point = *fromHex(kPoint, "point");
    point[64] ^= 1;
    EXPECT_EQ(p256SpkiFromPoint(point).error().message, "the public key is not a point on P-256");
    EXPECT_EQ(p256SpkiFromPoint(std::span(point).first(33)).error().message,
              "a P-256 public key must be a 65-byte uncompressed point, got 33 bytes");
    EXPECT_TRUE(p256PointOfSpki(point).empty());
}

}  // namespace
}  // namespace tte::protocol
