// The in-memory KeyStore passes the same checks as the token, plus its own test hooks.
#include "tte/hsm/fake_key_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "key_store_checks.h"

namespace tte::hsm {
namespace {

TEST(FakeKeyStore, Random) {
    FakeKeyStore store;
    test::checkRandom(store);
}

TEST(FakeKeyStore, SigningKeyAndCertificate) {
    FakeKeyStore store;
    test::checkSigningKey(store, "pkcs11:token=tte-station;object=station-key");
}

TEST(FakeKeyStore, BulkOtpsMatchTheVectors) {
    FakeKeyStore store;
    test::checkBulkVectors(store, "pkcs11:object=lot-1");
    test::checkAgainstProtocol(store, "pkcs11:object=lot-1");
}

TEST(FakeKeyStore, DeviceKeysAreExportedAndNotKept) {
    FakeKeyStore store;
    test::checkDeviceKey(store);
    EXPECT_EQ(store.objectCount(), 0u);
    EXPECT_EQ(store.deviceKeysGenerated(), 2u);
}

TEST(FakeKeyStore, KeysAreFoundByUriOnItsOwnTokenOnly) {
    FakeKeyStore store("tte-station");
    ASSERT_TRUE(store.createHmacKey("pkcs11:token=tte-station;object=lot-1"));
    auto other = store.hmac("pkcs11:token=other;object=lot-1", Bytes{1});
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().message, "no token labelled 'other' (this store serves 'tte-station')");
    auto missing = store.hmac("pkcs11:object=lot-2", Bytes{1});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "no hmac key 'lot-2' on token 'tte-station'");
    auto noObject = store.hmac("pkcs11:token=tte-station", Bytes{1});
    ASSERT_FALSE(noObject);
    EXPECT_EQ(noObject.error().message, "the key URI names no object (object=LABEL)");
    auto wrongKind = store.sign("pkcs11:object=lot-1", Bytes(32, 0));
    ASSERT_FALSE(wrongKind);
    EXPECT_EQ(wrongKind.error().code, Errc::notFound);
    auto list = store.listKeys();
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_TRUE((*list)[0].sensitive);
    EXPECT_FALSE((*list)[0].extractable);
}

TEST(FakeKeyStore, InjectedFailureHitsTheNextCallOnly) {
    FakeKeyStore store;
    store.failNext(Error{Errc::unavailable, "token removed", "PKCS#11", 0x32, "CKR_DEVICE_REMOVED"});
    auto first = store.randomOtp();
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().nativeName, "CKR_DEVICE_REMOVED");
    EXPECT_TRUE(store.randomOtp());
}

TEST(FakeKeyStore, ConcurrentUse) {
    FakeKeyStore store;
    ASSERT_TRUE(store.createSigningKey("pkcs11:object=k"));
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 20; ++i) {
                if (store.signSha256("pkcs11:object=k", Bytes{1, 2, 3}) && store.randomOtp()) ++ok;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 80);
}

}  // namespace
}  // namespace tte::hsm
