// The HSM adapter against a real SoftHSM token made by the test, and the whole pipeline with
// its keys: OTPs, bulk OTPs, device keys and queue masks from the token; journal signatures
// by the station's identity key file.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "station/token_site.h"
#include "support/fakes/station_site.h"
#include "tte/base/hex.h"
#include "tte/protocol/box.h"
#include "tte/protocol/fingerprint.h"
#include "tte/station/adapters/hsm_keys.h"
#include "tte/protocol/crypto.h"

namespace tte::station {
namespace {

class HsmKeys : public testing::StationTokenTest {
protected:
    void SetUp() override {
        StationTokenTest::SetUp();
        if (HasFatalFailure()) return;
        const std::string base = "pkcs11:token=tte-station;object=";
        ASSERT_TRUE(store->createHmacKey(base + "lot-key"));
        ASSERT_TRUE(store->createHmacKey(base + "queue-key"));
        // The station identity key as a PEM file (what the MotherShip's registered cert holds).
        EVP_PKEY* k = EVP_EC_gen("P-256");
        FILE* f = std::fopen((dir + "/station.key").c_str(), "w");
        PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(f);
        EVP_PKEY_free(k);
        auto keys = makeHsmStationKeys(*store, {base + "lot-key", base + "queue-key", "", dir + "/station.key"}, clock);
        ASSERT_TRUE(keys) << keys.error().toString();
        station = std::move(*keys);
    }
    void TearDown() override {
        station.reset();
        StationTokenTest::TearDown();
    }
    ManualClock clock;
    std::unique_ptr<StationKeys> station;
};

TEST_F(HsmKeys, MakesOtpsKeysAndSignatures) {
    auto a = station->newOtp();
    auto b = station->newOtp();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 8u);
    EXPECT_NE(toHex(a->bytes()), toHex(b->bytes()));

    // A DTLS-PSK device's PSK (PROTOCOL.md §11): 32 fresh bytes from the token each time.
    auto p1 = station->newPsk();
    auto p2 = station->newPsk();
    ASSERT_TRUE(p1 && p2) << (p1 ? p2.error().toString() : p1.error().toString());
    EXPECT_EQ(p1->size(), 32u);
    EXPECT_NE(toHex(p1->bytes()), toHex(p2->bytes()));

    auto key = station->newDeviceKey("urn:dev:ops:32473-sensor-00000100");
    ASSERT_TRUE(key) << key.error().toString();
    EXPECT_EQ(key->privateScalar.size(), 32u);
    auto fp = protocol::fingerprintFromDer(key->certificateDer);
    ASSERT_TRUE(fp);
    EXPECT_EQ(*fp, key->fingerprint);

    const std::string msg = "record";
    auto sig = station->sign(std::span(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()));
    auto pub = station->stationPublicKey();
    ASSERT_TRUE(sig && pub);
    EXPECT_TRUE(protocol::verifyEcdsaSha256(*pub, std::span(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()), *sig));

    auto m1 = station->queueMask("st1-6", 8);
    auto m2 = station->queueMask("st1-6", 8);
    auto m3 = station->queueMask("st1-7", 8);
    ASSERT_TRUE(m1 && m2 && m3);
    EXPECT_EQ(toHex(m1->bytes()), toHex(m2->bytes()));
    EXPECT_NE(toHex(m1->bytes()), toHex(m3->bytes()));
}

TEST_F(HsmKeys, BulkOtpIsTheProtocolsDerivation) {
    auto secret = station->boxSecret(3);
    ASSERT_TRUE(secret);
    auto otp = station->bulkOtp(3, 0x1234);
    ASSERT_TRUE(otp);
    EXPECT_EQ(protocol::Otp::fromBytes(otp->bytes())->value(), protocol::deriveBulkOtp(secret->bytes(), protocol::DevId{0x1234}).value());
}

TEST_F(HsmKeys, DrivesThePipeline) {
    testing::Site site("", "", 3);
    // The journal is signed through the token's station keys: a journal of its own.
    site.pipeline.reset();
    site.uploader.reset();
    site.journal.reset();
    auto j = Journal::open(site.dir + "/hsm-journal.db", *station);
    ASSERT_TRUE(j);
    Pipeline p(site.config, **j, PipelinePorts{*station, *site.flasher, site.printer, site.encoder, clock});
    ASSERT_TRUE(p.openLot(protocol::LotQuota{"lot-a", protocol::DevId{0x100}, protocol::DevId{0x1ff}, 0}));
    auto r = p.run(0, 3, {});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->committed, 3);
    auto v = (*j)->verify();
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok());
    fakes::FakeMotherShip ms(*station, protocol::LotQuota{"lot-a", protocol::DevId{0x100}, protocol::DevId{0x1ff}, 0});
    Uploader up(site.config, **j, *station, ms, nullptr, clock);
    ASSERT_TRUE(up.drain(std::chrono::seconds(1)));
    EXPECT_EQ(ms.records.size(), 3u);  // signatures verify, sealed OTPs unseal through the token
}

}  // namespace
}  // namespace tte::station
