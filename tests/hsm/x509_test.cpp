// Signature encodings and certificates built on the host.
#include "tte/hsm/x509.h"

#include <gtest/gtest.h>

#include "tte/base/hex.h"
#include "tte/protocol/crypto.h"

namespace tte::hsm {
namespace {

TEST(X509, RawSignatureBecomesDer) {
    Bytes raw(64, 0);
    raw[31] = 1;            // r = 1
    raw[32] = 0x80;         // s has its high bit set: DER needs a leading zero
    auto der = ecdsaRawToDer(raw);
    ASSERT_TRUE(der) << der.error().toString();
    // SEQUENCE(38) { INTEGER 1, INTEGER(33) 00 80 00 .. }
    ASSERT_EQ(der->size(), 40u);
    EXPECT_EQ(toHex(Bytes(der->begin(), der->begin() + 9)), "302602010102210080");
    auto bad = ecdsaRawToDer(Bytes(63));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "a raw P-256 ECDSA signature has 64 bytes, got 63");
}

TEST(X509, EcPointInBothModuleForms) {
    Bytes point(65, 0x11);
    point[0] = 0x04;
    Bytes wrapped{0x04, 65};
    wrapped.insert(wrapped.end(), point.begin(), point.end());
    EXPECT_EQ(*pointFromEcPoint(wrapped), point);
    EXPECT_EQ(*pointFromEcPoint(point), point);
    EXPECT_FALSE(pointFromEcPoint(Bytes(33, 2)));
}

TEST(X509, RejectsPointsOffTheCurve) {
    Bytes point(65, 0x11);
    point[0] = 0x04;
    auto spki = protocol::p256SpkiFromPoint(point);
    ASSERT_FALSE(spki);
    EXPECT_EQ(spki.error().message, "the public key is not a point on P-256");
}

TEST(X509, CertificateRejectsBadCommonName) {
    CertificateSpec spec{std::string(65, 'a'), std::chrono::system_clock::now()};
    auto cert = buildSelfSignedCertificate(Bytes{}, spec, [](std::span<const std::uint8_t>) -> Result<Bytes> {
        return fail(Errc::internal, "not reached");
    });
    ASSERT_FALSE(cert);
    EXPECT_EQ(cert.error().message, "a certificate common name must have 1 to 64 bytes, got 65");
}

TEST(X509, CertificateNeedsAP256Key) {
    CertificateSpec spec{"cn", std::chrono::system_clock::now()};
    auto cert = buildSelfSignedCertificate(Bytes{0x30, 0x00}, spec, [](std::span<const std::uint8_t>) -> Result<Bytes> {
        return fail(Errc::internal, "not reached");
    });
    ASSERT_FALSE(cert);
    EXPECT_EQ(cert.error().code, Errc::invalidArgument);
    EXPECT_EQ(cert.error().message, "the certificate's key is not a P-256 SubjectPublicKeyInfo");
}

TEST(X509, CertificateWithAWrongSignatureIsNeverHandedOut) {
    Bytes point = {0x04};
    // The generator point G of P-256: a valid public key.
    auto x = fromHex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296", "x");
    auto y = fromHex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5", "y");
    ASSERT_TRUE(x && y);
    point.insert(point.end(), x->begin(), x->end());
    point.insert(point.end(), y->begin(), y->end());
    auto spki = protocol::p256SpkiFromPoint(point);
    ASSERT_TRUE(spki) << spki.error().toString();
    CertificateSpec spec{"cn", std::chrono::system_clock::now()};
    Bytes raw(64, 0x01);
    auto cert = buildSelfSignedCertificate(*spki, spec, [&](std::span<const std::uint8_t>) {
        return ecdsaRawToDer(raw);  // a well-formed signature by no one
    });
    ASSERT_FALSE(cert);
    EXPECT_EQ(cert.error().message, "verifying the new certificate's signature failed");
}

}  // namespace
}  // namespace tte::hsm
