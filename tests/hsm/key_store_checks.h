// Checks that every KeyStore must pass, run against the fake (unit) and the SoftHSM
// adapter (integration), so the fake cannot drift from the real token.
#pragma once

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <vector>

#include "test_vectors.h"
#include "tte/base/hex.h"
#include "tte/protocol/crypto.h"
#include "tte/hsm/key_store.h"
#include "tte/hsm/x509.h"
#include "tte/protocol/box.h"
#include "tte/protocol/ids.h"

namespace tte::hsm::test {

inline std::string commonNameOf(const Bytes& der) {
    const unsigned char* p = der.data();
    std::unique_ptr<X509, decltype(&X509_free)> x(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
    if (!x) return "<unparsable>";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(x.get()), NID_commonName, cn, sizeof cn);
    return cn;
}

inline bool certificateVerifiesWith(const Bytes& der, const Bytes& spki) {
    const unsigned char* p = der.data();
    std::unique_ptr<X509, decltype(&X509_free)> x(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
    const unsigned char* q = spki.data();
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> k(d2i_PUBKEY(nullptr, &q, static_cast<long>(spki.size())),
                                                          EVP_PKEY_free);
    return x && k && X509_verify(x.get(), k.get()) == 1;
}

inline void checkBulkVectors(KeyStore& store, const std::string& lotUri) {
    auto key = fromHex(kLotKeyHex, "lot key");
    ASSERT_TRUE(key);
    ASSERT_TRUE(store.importHmacKey(lotUri, Secret(std::span<const std::uint8_t>(*key))));
    for (const auto& v : kBulkVectors) {
        auto box = store.deriveBoxSecret(lotUri, v.box);
        ASSERT_TRUE(box) << box.error().toString();
        EXPECT_EQ(toHex(box->bytes()), v.boxSecretHex);
        std::uint32_t ids[] = {v.devId, v.devId ^ 1u};
        auto otps = store.deriveBulkOtps(lotUri, v.box, ids);
        ASSERT_TRUE(otps) << otps.error().toString();
        ASSERT_EQ(otps->size(), 2u);
        EXPECT_EQ(toHex((*otps)[0].bytes()), v.otpHex);
        EXPECT_NE(toHex((*otps)[1].bytes()), v.otpHex);
    }
}

// Cross-check with tte::protocol's software reference (PROTOCOL.md §4).
inline void checkAgainstProtocol(KeyStore& store, const std::string& lotUri) {
    auto key = fromHex(kLotKeyHex, "lot key");
    ASSERT_TRUE(key);
    for (std::uint32_t box : {0x00000001u, 0x12345678u, 0xffffffffu}) {
        std::vector<std::uint32_t> ids = {0x00000000u, 0x00000001u, 0xabcdef01u, 0xffffffffu};
        auto extra = store.random(4);
        ASSERT_TRUE(extra);
        ids.push_back((std::uint32_t{extra->bytes()[0]} << 24) | (std::uint32_t{extra->bytes()[1]} << 16) |
                      (std::uint32_t{extra->bytes()[2]} << 8) | extra->bytes()[3]);
        auto otps = store.deriveBulkOtps(lotUri, box, ids);
        ASSERT_TRUE(otps) << otps.error().toString();
        Secret boxSecret = protocol::deriveBoxSecret(*key, box);
        auto tokenBox = store.deriveBoxSecret(lotUri, box);
        ASSERT_TRUE(tokenBox);
        EXPECT_EQ(toHex(tokenBox->bytes()), toHex(boxSecret.bytes()));
        for (std::size_t i = 0; i < ids.size(); ++i) {
            protocol::Otp expected = protocol::deriveBulkOtp(boxSecret.bytes(), protocol::DevId{ids[i]});
            EXPECT_EQ(toHex((*otps)[i].bytes()), expected.hex()) << "box " << box << " devid " << ids[i];
        }
    }
}

inline void checkSigningKey(KeyStore& store, const std::string& keyUri) {
    auto spki = store.createSigningKey(keyUri);
    ASSERT_TRUE(spki) << spki.error().toString();
    auto again = store.createSigningKey(keyUri);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::alreadyExists);

    auto pub = store.publicKey(keyUri);
    ASSERT_TRUE(pub) << pub.error().toString();
    EXPECT_EQ(*pub, *spki);

    const std::string record = R"({"devid":"00000001","seq":1})";
    std::span<const std::uint8_t> msg(reinterpret_cast<const std::uint8_t*>(record.data()), record.size());
    auto sig = store.signSha256(keyUri, msg);
    ASSERT_TRUE(sig) << sig.error().toString();
    EXPECT_EQ((*sig)[0], 0x30);  // DER SEQUENCE, not raw r||s
    EXPECT_TRUE(protocol::verifyEcdsaSha256(*spki, msg, *sig));
    std::string tampered = record + " ";
    EXPECT_FALSE(protocol::verifyEcdsaSha256(*spki, {reinterpret_cast<const std::uint8_t*>(tampered.data()), tampered.size()}, *sig));

    auto shortDigest = store.sign(keyUri, Bytes(20, 1));
    ASSERT_FALSE(shortDigest);
    EXPECT_EQ(shortDigest.error().message, "a SHA-256 digest has 32 bytes, got 20");

    CertificateSpec spec{"station-0001", std::chrono::system_clock::now(), std::chrono::hours(24 * 365), 7};
    auto cert = store.selfSignedCertificate(keyUri, spec);
    ASSERT_TRUE(cert) << cert.error().toString();
    EXPECT_EQ(commonNameOf(*cert), "station-0001");
    EXPECT_TRUE(certificateVerifiesWith(*cert, *spki));
}

inline void checkDeviceKey(KeyStore& store) {
    const std::string urn = "urn:dev:ops:32473-tte.demo-00000000abcdef01";
    CertificateSpec spec{urn, std::chrono::system_clock::now(), std::chrono::hours(24 * 365 * 30), 0xabcdef01};
    auto key = store.generateDeviceKey(spec);
    ASSERT_TRUE(key) << key.error().toString();
    EXPECT_EQ(key->privateScalar.size(), 32u);
    EXPECT_EQ(key->publicPoint.size(), 65u);
    EXPECT_EQ(key->publicPoint[0], 0x04);
    auto spki = protocol::p256SpkiFromPoint(key->publicPoint);
    ASSERT_TRUE(spki);
    EXPECT_EQ(*spki, key->spkiDer);
    EXPECT_EQ(commonNameOf(key->certificateDer), urn);
    EXPECT_TRUE(certificateVerifiesWith(key->certificateDer, key->spkiDer));
    EXPECT_LE(key->certificateDer.size(), 1024u);  // PROTOCOL.md §9: fits the block

    // The exported scalar is the private half of that public key: d·G == Q.
    BIGNUM* d = BN_bin2bn(key->privateScalar.bytes().data(), 32, nullptr);
    std::unique_ptr<EC_GROUP, decltype(&EC_GROUP_free)> g(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1),
                                                          EC_GROUP_free);
    std::unique_ptr<EC_POINT, decltype(&EC_POINT_free)> q(EC_POINT_new(g.get()), EC_POINT_free);
    ASSERT_EQ(EC_POINT_mul(g.get(), q.get(), d, nullptr, nullptr, nullptr), 1);
    BN_clear_free(d);
    Bytes derived(65);
    EC_POINT_point2oct(g.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, derived.data(), 65, nullptr);
    EXPECT_EQ(derived, key->publicPoint);

    auto other = store.generateDeviceKey(spec);
    ASSERT_TRUE(other);
    EXPECT_NE(other->publicPoint, key->publicPoint);
}

inline void checkRandom(KeyStore& store) {
    auto a = store.randomOtp();
    auto b = store.randomOtp();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 8u);
    EXPECT_NE(toHex(a->bytes()), toHex(b->bytes()));
    auto zero = store.random(0);
    ASSERT_FALSE(zero);
    EXPECT_EQ(zero.error().message, "random: size must be 1 to 1024 bytes, got 0");
}

}  // namespace tte::hsm::test
