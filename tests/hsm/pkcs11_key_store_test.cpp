// Pkcs11KeyStore against a real SoftHSM token made by each test in its own temp dir.
#include "tte/protocol/crypto.h"
#include "tte/hsm/pkcs11_key_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <set>
#include <thread>

#include "key_store_checks.h"
#include "softhsm_fixture.h"
#include "tte/base/hex.h"

namespace tte::hsm::test {
namespace {

using Pkcs11KeyStoreTest = SoftHsmTest;

const std::string kStationKey = "pkcs11:token=tte-test;object=station-key";
const std::string kLotKey = "pkcs11:token=tte-test;object=lot-2026-1";

TEST_F(Pkcs11KeyStoreTest, OpensTheTokenAndDrawsRandom) {
    auto store = open();
    ASSERT_TRUE(store) << store.error().toString();
    EXPECT_EQ((*store)->tokenLabel(), "tte-test");
    EXPECT_FALSE((*store)->serialized());  // SoftHSM locks for itself (CKF_OS_LOCKING_OK)
    checkRandom(**store);
}

TEST_F(Pkcs11KeyStoreTest, WrongPinIsRefusedWithItsCkrName) {
    std::string wrong = m_tmp + "/wrong-pin";
    std::ofstream(wrong) << "not-the-pin\n";
    auto options = m_site.storeOptions(modulePath());
    options.pinSource = "file:" + wrong;
    auto store = Pkcs11KeyStore::open(options);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, Errc::unauthenticated);
    EXPECT_EQ(store.error().nativeName, "CKR_PIN_INCORRECT");
    EXPECT_EQ(store.error().message,
              "logging in to token 'tte-test': the PIN is wrong; check the PIN file (too many wrong PINs lock the "
              "token)");
}

// The sign-in's PIN: given as a value (typed, never a file), it wins over the PIN source; the
// token's login flags are read without a PIN, and a refusal is said with what the token tells.
TEST_F(Pkcs11KeyStoreTest, ATypedPinLogsInAndTheTokenTellsItsLoginState) {
    auto options = m_site.storeOptions(modulePath());
    options.pinSource = "file:" + m_tmp + "/no-such-file";
    const Secret wrong(std::string_view("999999"));
    options.pin = &wrong;
    auto refused = Pkcs11KeyStore::open(options);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().nativeName, "CKR_PIN_INCORRECT");
    auto state = tokenLoginState(modulePath(), "tte-test");
    ASSERT_TRUE(state) << state.error().toString();
    EXPECT_TRUE(state->loginRequired);
    EXPECT_FALSE(state->locked);
    EXPECT_EQ(loginRefusal(refused.error(), *state).rfind("the PIN is wrong (CKR_PIN_INCORRECT)", 0), 0u);
    std::ifstream in(m_site.userPinFile);
    std::string right;
    std::getline(in, right);
    const Secret pin{std::string_view(right)};
    options.pin = &pin;
    auto store = Pkcs11KeyStore::open(options);
    ASSERT_TRUE(store) << store.error().toString();
    checkRandom(**store);
    EXPECT_FALSE(tokenLoginState(modulePath(), "no-such-token"));
}

TEST(LoginRefusal, SaysWhatTheTokenTellsOfTheTriesLeft) {
    const Error wrong{Errc::unauthenticated, "logging in: the PIN is wrong", "PKCS#11", 0xa0, "CKR_PIN_INCORRECT"};
    EXPECT_EQ(loginRefusal(wrong, std::nullopt), "the PIN is wrong (CKR_PIN_INCORRECT)");
    TokenLoginState s;
    s.countLow = true;
    EXPECT_EQ(loginRefusal(wrong, s), "the PIN is wrong (CKR_PIN_INCORRECT); the token says few tries are left");
    s.finalTry = true;
    EXPECT_EQ(loginRefusal(wrong, s), "the PIN is wrong (CKR_PIN_INCORRECT); the token says one more wrong PIN locks it");
    s.locked = true;
    EXPECT_EQ(loginRefusal(wrong, s), "the PIN is wrong (CKR_PIN_INCORRECT); the token has now locked the PIN");
    const Error locked{Errc::permissionDenied, "logging in: locked", "PKCS#11", 0xa4, "CKR_PIN_LOCKED"};
    EXPECT_EQ(loginRefusal(locked, s),
              "the PIN is locked after too many wrong tries (CKR_PIN_LOCKED): the security officer must unlock it");
}

TEST_F(Pkcs11KeyStoreTest, MissingTokenLabelListsTheTokensPresent) {
    auto options = m_site.storeOptions(modulePath());
    options.tokenUri = "pkcs11:token=no-such-token";
    auto store = Pkcs11KeyStore::open(options);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, Errc::notFound);
    EXPECT_EQ(store.error().message,
              "no token labelled 'no-such-token' in " + modulePath() + " (tokens present: 'tte-test')");
}

TEST_F(Pkcs11KeyStoreTest, MissingModulePath) {
    auto options = m_site.storeOptions(m_tmp + "/no-such-module.so");
    auto store = Pkcs11KeyStore::open(options);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, Errc::notFound);
    EXPECT_EQ(store.error().domain, "dlopen");
    EXPECT_TRUE(store.error().message.starts_with("cannot load the PKCS#11 module " + m_tmp + "/no-such-module.so: "))
        << store.error().message;
}

TEST_F(Pkcs11KeyStoreTest, MissingPinFile) {
    auto options = m_site.storeOptions(modulePath());
    options.pinSource = "file:" + m_tmp + "/absent";
    auto store = Pkcs11KeyStore::open(options);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().message, "PIN file " + m_tmp + "/absent cannot be opened");
}

TEST_F(Pkcs11KeyStoreTest, SigningKeyAndCertificate) {
    auto store = open();
    ASSERT_TRUE(store) << store.error().toString();
    checkSigningKey(**store, kStationKey);
    auto otherToken = (*store)->sign("pkcs11:token=elsewhere;object=station-key", Bytes(32));
    ASSERT_FALSE(otherToken);
    EXPECT_EQ(otherToken.error().message, "no token labelled 'elsewhere' (this store serves 'tte-test')");
    auto missing = (*store)->sign("pkcs11:object=absent", Bytes(32));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "no private key 'absent' on token 'tte-test'");
}

TEST_F(Pkcs11KeyStoreTest, BulkOtpsThroughTheTokenMatchTheVectors) {
    auto store = open();
    ASSERT_TRUE(store) << store.error().toString();
    checkBulkVectors(**store, kLotKey);
    checkAgainstProtocol(**store, kLotKey);
}

TEST_F(Pkcs11KeyStoreTest, DeviceKeysAreExportedOnceAndNeverStay) {
    auto store = open();
    ASSERT_TRUE(store) << store.error().toString();
    ASSERT_TRUE((*store)->createSigningKey(kStationKey));
    ASSERT_TRUE((*store)->createHmacKey(kLotKey));
    auto before = (*store)->listKeys();
    ASSERT_TRUE(before);
    ASSERT_EQ(before->size(), 3u);  // station private + public, lot key

    // A provisioning-like run: device key, OTPs, a signed record per device.
    checkDeviceKey(**store);
    std::uint32_t devIds[] = {1, 2, 3};
    ASSERT_TRUE((*store)->deriveBulkOtps(kLotKey, 7, devIds));
    for (int i = 0; i < 3; ++i) {
        CertificateSpec spec{"urn:dev:ops:32473-tte-0000000" + std::to_string(i), std::chrono::system_clock::now()};
        ASSERT_TRUE((*store)->generateDeviceKey(spec));
        ASSERT_TRUE((*store)->signSha256(kStationKey, Bytes{1, 2, 3}));
    }
    auto after = (*store)->listKeys();  // this process sees its session objects too
    ASSERT_TRUE(after);
    EXPECT_EQ(after->size(), before->size());
    std::string tool = listObjectsWithTool();
    std::size_t objects = 0;
    for (std::size_t p = tool.find("Object;"); p != std::string::npos; p = tool.find("Object;", p + 1)) ++objects;
    EXPECT_EQ(objects, 3u) << tool;
}

TEST_F(Pkcs11KeyStoreTest, TokenKeysAreSensitiveAndNeverExtractable) {
    auto store = open();
    ASSERT_TRUE(store) << store.error().toString();
    ASSERT_TRUE((*store)->createSigningKey(kStationKey));
    ASSERT_TRUE((*store)->createHmacKey(kLotKey));
    auto keys = (*store)->listKeys();
    ASSERT_TRUE(keys);
    for (const auto& k : *keys) {
        if (k.kind == KeyKind::publicKey) continue;
        EXPECT_TRUE(k.sensitive) << k.label;
        EXPECT_FALSE(k.extractable) << k.label;
        EXPECT_TRUE(k.onToken) << k.label;
    }

    // From outside the adapter: the values cannot be read.
    CK_FUNCTION_LIST* fn = rawModule();
    ASSERT_NE(fn, nullptr);
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    ASSERT_EQ(fn->C_OpenSession(rawSlot(), CKF_SERIAL_SESSION, nullptr, nullptr, &s), CKR_OK);
    for (auto [cls, label] : {std::pair{CKO_PRIVATE_KEY, "station-key"}, std::pair{CKO_SECRET_KEY, "lot-2026-1"}}) {
        CK_OBJECT_CLASS c = cls;
        CK_ATTRIBUTE match[] = {{CKA_CLASS, &c, sizeof c},
                                {CKA_LABEL, const_cast<char*>(label), static_cast<CK_ULONG>(std::strlen(label))}};
        CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
        CK_ULONG n = 0;
        ASSERT_EQ(fn->C_FindObjectsInit(s, match, 2), CKR_OK);
        ASSERT_EQ(fn->C_FindObjects(s, &h, 1, &n), CKR_OK);
        fn->C_FindObjectsFinal(s);
        ASSERT_EQ(n, 1u) << label;
        std::uint8_t value[128];
        CK_ATTRIBUTE read{CKA_VALUE, value, sizeof value};
        EXPECT_EQ(fn->C_GetAttributeValue(s, h, &read, 1), CKR_ATTRIBUTE_SENSITIVE) << label;
        CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE;
        CK_ATTRIBUTE flags[] = {{CKA_SENSITIVE, &sensitive, 1}, {CKA_EXTRACTABLE, &extractable, 1}};
        EXPECT_EQ(fn->C_GetAttributeValue(s, h, flags, 2), CKR_OK);
        EXPECT_EQ(sensitive, CK_TRUE) << label;
        EXPECT_EQ(extractable, CK_FALSE) << label;
        if (cls == CKO_SECRET_KEY) {
            // Usable only for CKM_SHA256_HMAC (CKA_ALLOWED_MECHANISMS).
            CK_MECHANISM sha1{CKM_SHA_1_HMAC, nullptr, 0};
            EXPECT_NE(fn->C_SignInit(s, &sha1, h), CKR_OK);
        }
    }
    fn->C_CloseSession(s);

    // And as pkcs11-tool sees them.
    std::string tool = listObjectsWithTool();
    for (const char* kind : {"Private Key Object; EC", "Secret Key Object;"}) {
        auto at = tool.find(kind);
        ASSERT_NE(at, std::string::npos) << tool;
        auto access = tool.find("Access:", at);
        ASSERT_NE(access, std::string::npos) << tool;
        std::string line = tool.substr(access, tool.find('\n', access) - access);
        EXPECT_NE(line.find("always sensitive"), std::string::npos) << line;
        auto never = line.find("never extractable");  // CKA_NEVER_EXTRACTABLE
        ASSERT_NE(never, std::string::npos) << line;
        line.erase(never, std::strlen("never extractable"));
        EXPECT_EQ(line.find("extractable"), std::string::npos) << line;  // CKA_EXTRACTABLE is false
    }
    EXPECT_NE(tool.find("label:      station-key"), std::string::npos) << tool;
    EXPECT_NE(tool.find("label:      lot-2026-1"), std::string::npos) << tool;
}

TEST_F(Pkcs11KeyStoreTest, ReadOnlyTokenDirectoryFailsKeyCreationClearly) {
    auto store = open();
    ASSERT_TRUE(store) << store.error().toString();
    ASSERT_TRUE((*store)->createSigningKey(kStationKey));
    std::string why;
    if (!makeTokenDirectoryReadOnly(why)) GTEST_SKIP() << why;
    auto key = (*store)->createSigningKey("pkcs11:object=second-key");
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().domain, "PKCS#11");
    EXPECT_EQ(key.error().nativeName, "CKR_GENERAL_ERROR");
    EXPECT_TRUE(key.error().message.starts_with("creating signing key 'second-key' on token 'tte-test': "))
        << key.error().message;
    auto lot = (*store)->createHmacKey("pkcs11:object=lot-x");
    ASSERT_FALSE(lot);
    EXPECT_EQ(lot.error().nativeName, "CKR_GENERAL_ERROR");
    // What is stored stays usable.
    EXPECT_TRUE((*store)->signSha256(kStationKey, Bytes{9}));
    EXPECT_TRUE((*store)->generateDeviceKey({"urn:dev:ops:1-a-00000001", std::chrono::system_clock::now()}));
}

TEST_F(Pkcs11KeyStoreTest, SessionsClosedBehindItsBackAreReportedThenReopened) {
    auto store = open();
    ASSERT_TRUE(store) << store.error().toString();
    ASSERT_TRUE((*store)->randomOtp());
    CK_FUNCTION_LIST* fn = rawModule();
    ASSERT_NE(fn, nullptr);
    ASSERT_EQ(fn->C_CloseAllSessions(rawSlot()), CKR_OK);
    auto lost = (*store)->randomOtp();
    ASSERT_FALSE(lost);
    EXPECT_EQ(lost.error().code, Errc::unavailable);
    EXPECT_EQ(lost.error().nativeName, "CKR_SESSION_HANDLE_INVALID");
    EXPECT_EQ(lost.error().message,
              "C_GenerateRandom: the session is no longer valid (closed or the token was reset)");
    // The next call opens a new session and logs in again.
    auto again = (*store)->randomOtp();
    EXPECT_TRUE(again) << again.error().toString();
    ASSERT_TRUE((*store)->createHmacKey(kLotKey));
}

// The token's PIN changed behind an open store's back: the store's next login is refused,
// and from then on it never logs in with that PIN again (each wrong try counts towards locking
// the token) – even once the token would take it again.
TEST_F(Pkcs11KeyStoreTest, APinTheTokenRefusedIsNeverTriedAgain) {
    auto store = open();
    ASSERT_TRUE(store) << store.error().toString();
    ASSERT_TRUE((*store)->randomOtp());
    std::ifstream in(m_site.userPinFile);
    std::string right;
    std::getline(in, right);
    const std::string other = "other-" + right;
    CK_FUNCTION_LIST* fn = rawModule();
    ASSERT_NE(fn, nullptr);
    const CK_SLOT_ID slot = rawSlot();
    // Changes the user PIN from `from` to `to`, then closes every session (which logs out).
    auto setPin = [&](const std::string& from, const std::string& to) {
        CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
        ASSERT_EQ(fn->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h), CKR_OK);
        auto* f = reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(from.data()));
        auto* t = reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(to.data()));
        const CK_RV login = fn->C_Login(h, CKU_USER, f, from.size());
        ASSERT_TRUE(login == CKR_OK || login == CKR_USER_ALREADY_LOGGED_IN) << login;
        ASSERT_EQ(fn->C_SetPIN(h, f, from.size(), t, to.size()), CKR_OK);
        ASSERT_EQ(fn->C_CloseAllSessions(slot), CKR_OK);
    };
    setPin(right, other);
    auto lost = (*store)->randomOtp();  // the pooled session was closed
    ASSERT_FALSE(lost);
    EXPECT_EQ(lost.error().nativeName, "CKR_SESSION_HANDLE_INVALID");
    auto refused = (*store)->randomOtp();  // a new session, a login with the old PIN
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().nativeName, "CKR_PIN_INCORRECT");
    setPin(other, right);  // the store's PIN is the token's again
    for (int i = 0; i < 3; ++i) {
        auto again = (*store)->randomOtp();
        ASSERT_FALSE(again) << "the store logged in again with a PIN the token had refused";
        EXPECT_EQ(again.error().nativeName, "CKR_PIN_INCORRECT");
        EXPECT_EQ(again.error().message,
                  "logging in to token 'tte-test': the PIN is wrong; check the PIN file (too many wrong PINs lock the "
                  "token) (not tried again with this PIN)");
    }
    auto reopened = open();  // a new store (a new sign-in) tries its PIN once
    ASSERT_TRUE(reopened) << reopened.error().toString();
    EXPECT_TRUE((*reopened)->randomOtp());
}

TEST_F(Pkcs11KeyStoreTest, ConcurrentKeygenSigningAndHmac) {
    auto store = open();
    ASSERT_TRUE(store) << store.error().toString();
    ASSERT_TRUE((*store)->createSigningKey(kStationKey));
    ASSERT_TRUE((*store)->createHmacKey(kLotKey));
    auto spki = (*store)->publicKey(kStationKey);
    ASSERT_TRUE(spki);
    constexpr int kThreads = 4, kRounds = 10;
    std::mutex mutex;
    std::set<Bytes> points;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kRounds; ++i) {
                auto key = (*store)->generateDeviceKey({"urn:dev:ops:1-a-0000000" + std::to_string(t),
                                                        std::chrono::system_clock::now()});
                Bytes msg{static_cast<std::uint8_t>(t), static_cast<std::uint8_t>(i)};
                auto sig = (*store)->signSha256(kStationKey, msg);
                auto mac = (*store)->hmac(kLotKey, msg);
                if (!key || !sig || !mac || !protocol::verifyEcdsaSha256(*spki, msg, *sig)) {
                    ++failures;
                    continue;
                }
                std::lock_guard lock(mutex);
                points.insert(key->publicPoint);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(points.size(), static_cast<std::size_t>(kThreads * kRounds));
    EXPECT_LE((*store)->openSessions(), static_cast<std::size_t>(kThreads));
    auto keys = (*store)->listKeys();
    ASSERT_TRUE(keys);
    EXPECT_EQ(keys->size(), 3u);
}

TEST_F(Pkcs11KeyStoreTest, ASecondStoreOnTheSameModuleLeavesTheFirstWorking) {
    auto first = open();
    ASSERT_TRUE(first) << first.error().toString();
    ASSERT_TRUE((*first)->createHmacKey(kLotKey));
    {
        auto second = open();  // the module is initialized already: the second one does not own it
        ASSERT_TRUE(second) << second.error().toString();
        auto mac = (*second)->hmac(kLotKey, Bytes{1});
        ASSERT_TRUE(mac) << mac.error().toString();
    }
    auto mac = (*first)->hmac(kLotKey, Bytes{1});
    EXPECT_TRUE(mac) << mac.error().toString();
}

TEST_F(Pkcs11KeyStoreTest, InitRefusesASecondTokenWithTheSameLabel) {
    auto again = initToken(modulePath(), "tte-test", Secret(std::string_view("so")), Secret(std::string_view("u")));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::alreadyExists);
    EXPECT_EQ(again.error().message, "a token labelled 'tte-test' already exists in " + modulePath());
}

}  // namespace
}  // namespace tte::hsm::test
