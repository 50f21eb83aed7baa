// The station's identity key kept in a real SoftHSM token and used for mutual TLS with a real
// tte-mothership: the station API answers a station whose handshake the token signed, refuses
// an unregistered token key, and every misconfiguration gives its own error.
#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "support/sites.h"
#include "station/token_site.h"
#include "tte/station/adapters/https_clients.h"
#include "tte/station/adapters/token_tls_key.h"

namespace tte::station {
namespace {

const std::string kKeyUri = "pkcs11:token=tte-station;object=station-key";

/// Writes the token key's self-signed certificate as PEM to `path`.
void writeCertificate(hsm::KeyStore& store, const std::string& keyUri, const std::string& cn, const std::string& path) {
    hsm::CertificateSpec spec;
    spec.commonName = cn;
    spec.notBefore = std::chrono::system_clock::now() - std::chrono::hours(1);
    auto der = store.selfSignedCertificate(keyUri, spec);
    ASSERT_TRUE(der) << der.error().toString();
    const unsigned char* p = der->data();
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der->size()));
    ASSERT_NE(x, nullptr);
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    PEM_write_X509(f, x);
    std::fclose(f);
    X509_free(x);
}

class TokenTls : public testing::StationTokenTest {
protected:
    void SetUp() override {
        StationTokenTest::SetUp();
        if (HasFatalFailure()) return;
        ASSERT_TRUE(store->createSigningKey(kKeyUri));
        writeCertificate(*store, kKeyUri, "st1", dir + "/station.pem");
        ms.admin("station add --cert " + dir + "/station.pem --name st1");
    }

    TlsClientConfig config(const std::string& cert, const std::string& keyUri) {
        TlsClientConfig c;
        c.baseUrl = "https://127.0.0.1:" + std::to_string(ms.server->httpsPort());
        c.caFile = ms.pki.caCert;
        c.certFile = cert;
        auto key = TokenTlsKey::open(*store, keyUri);
        EXPECT_TRUE(key) << key.error().toString();
        if (key) c.tokenKey = *key;
        return c;
    }

    test::MotherShipSite ms;
};

TEST_F(TokenTls, TheTokenSignsTheHandshakeAndTheMotherShipAnswers) {
    auto c = config(dir + "/station.pem", kKeyUri);
    auto key = c.tokenKey;
    auto client = makeHttpsMotherShip(std::move(c));
    auto quota = client->lotQuota("lot-1");
    ASSERT_TRUE(quota) << quota.error().toString();
    EXPECT_EQ(quota->first, protocol::DevId{0x100});
    EXPECT_EQ(quota->last, protocol::DevId{0x1ff});
    EXPECT_GE(key->signatures(), 1u);  // the client signature of the handshake came from the token
    auto again = client->lotQuota("lot-1");
    ASSERT_TRUE(again) << again.error().toString();
    EXPECT_GE(key->signatures(), 2u);
}

TEST_F(TokenTls, AnUnregisteredTokenKeyIsRefused) {
    const std::string other = "pkcs11:token=tte-station;object=other-key";
    ASSERT_TRUE(store->createSigningKey(other));
    writeCertificate(*store, other, "st2", dir + "/other.pem");
    auto client = makeHttpsMotherShip(config(dir + "/other.pem", other));
    auto quota = client->lotQuota("lot-1");
    ASSERT_FALSE(quota);
    EXPECT_TRUE(quota.error().code == Errc::unauthenticated || quota.error().code == Errc::permissionDenied)
        << quota.error().toString();
    EXPECT_NE(quota.error().message.find("GET /api/v1/lots/lot-1: HTTP 40"), std::string::npos) << quota.error().message;
}

TEST_F(TokenTls, ACertificateOfAnotherKeyIsACertificateProblem) {
    const std::string other = "pkcs11:token=tte-station;object=other-key";
    ASSERT_TRUE(store->createSigningKey(other));
    auto client = makeHttpsMotherShip(config(dir + "/station.pem", other));  // station-key's certificate
    auto quota = client->lotQuota("lot-1");
    ASSERT_FALSE(quota);
    EXPECT_EQ(quota.error().code, Errc::unavailable);
    EXPECT_EQ(quota.error().nativeName, curl_easy_strerror(CURLE_SSL_CERTPROBLEM)) << quota.error().toString();
}

TEST_F(TokenTls, AMissingKeyIsNamedAndEveryCallFailsWithIt) {
    auto key = TokenTlsKey::open(*store, "pkcs11:token=tte-station;object=no-such-key");
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().code, Errc::notFound) << key.error().toString();
    EXPECT_NE(key.error().message.find("station identity key"), std::string::npos) << key.error().message;

    TlsClientConfig c;
    c.baseUrl = "https://127.0.0.1:" + std::to_string(ms.server->httpsPort());
    c.keyError = key.error();
    auto quota = makeHttpsMotherShip(std::move(c))->lotQuota("lot-1");
    ASSERT_FALSE(quota);
    EXPECT_EQ(quota.error().message, key.error().message);
}

}  // namespace
}  // namespace tte::station
