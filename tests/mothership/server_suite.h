// The suite of the MotherShip's integration tests (server_integration_test.cpp,
// server_revocation_test.cpp): a tte-mothership process on port 0, with SQLite (its OTP-hash key
// in a file, or in a SoftHSM token of the test's own) and with a PostgreSQL server the suite
// starts in a temp dir; the station's, the introducer's and the device's calls to it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "support/mothership.h"
#include "support/postgres.h"
#include "support/softhsm.h"
#include "tte/base/hex.h"
#include "tte/hsm/pkcs11_key_store.h"
#include "tte/hsm/softhsm_site.h"

namespace tte::test {

inline constexpr std::uint32_t kDev = 0x00000101;
inline constexpr std::uint64_t kOtp = 0x1122334455667788ULL;
inline constexpr std::uint32_t kLockDev = 0x00000102;
inline constexpr std::uint32_t kRevokeDev = 0x00000103;
inline const std::string kControllerFp(64, 'c');

inline const std::string kOtpKeyUri = "pkcs11:token=tte-ms;object=otp-hash";

/// A SoftHSM token "tte-ms" in `dir` holding the OTP-hash key kOtpKeyUri: `key` imported, or
/// one made in the token when null. Returns the `?pin-source=…` the key's URI needs; "" (and a
/// test failure) when something failed.
inline std::string otpKeyInAToken(const TempDir& dir, const Secret* key = nullptr) {
    const test::SoftHsmToken token(dir.file("softhsm"), "tte-ms");
    if (!token.error().empty()) {
        ADD_FAILURE() << token.error();
        return "";
    }
    auto made = key ? token.store()->importHmacKey(kOtpKeyUri, *key) : token.store()->createHmacKey(kOtpKeyUri);
    if (!made) {
        ADD_FAILURE() << made.error().toString();
        return "";
    }
    return "?pin-source=file:" + token.site().userPinFile;
}

class MothershipSuite : public ::testing::TestWithParam<std::string> {
protected:
    // One PostgreSQL server for the suite (initdb is the slow part), a new database per test.
    static void TearDownTestSuite() { pg.reset(); }

    void SetUp() override {
        pki = makePki(dir);
        if (GetParam() == "postgresql") {
            if (!pg) pg = std::make_unique<Postgres>();
            dbUrl = pg->newDatabase();
        } else {
            dbUrl = "sqlite://" + dir.file("registry.db");
        }
        ASSERT_EQ(runShell(binary("tte-mothership") + " admin keygen otp --out " + dir.file("otp.key")).exitCode, 0);
        std::string otpKey = "key_file = \"" + dir.file("otp.key") + "\"\n";
        if (GetParam() == "sqlite_token") {
            // The OTP-hash key in a SoftHSM token of this test's own: the token computes every hash.
            const std::string pin = otpKeyInAToken(dir);
            ASSERT_NE(pin, "");
            otpKey = "key_uri = \"" + kOtpKeyUri + pin + "\"\n";
        }
        writeFile(dir.file("ms.toml"),
                  "ms_id = 1\nlog_level = \"info\"\n"
                  "[https]\nlisten = \"127.0.0.1:0\"\ncert = \"" + pki.tlsCert + "\"\nkey = \"" + pki.tlsKey + "\"\nthreads = 4\n"
                  "[coaps]\nlisten = \"127.0.0.1:0\"\ncert = \"" + pki.dtlsCert + "\"\nkey = \"" + pki.dtlsKey + "\"\n"
                  "[database]\nurl = \"" + dbUrl + "\"\n"
                  "[otp_hash]\n" + otpKey +
                  "[limits]\nmax_failures_per_device = 3\nmax_failures_per_client = 1000\nwindow_s = 600\nlockout_s = 600\n");
        admin("station add --cert " + pki.stationCert + " --name station-1");
        admin("lot set --lot lot-1 --first 00000100 --last 000001ff");
        server = std::make_unique<ServerProcess>(dir.file("ms.toml"), dir);
    }

    std::string admin(const std::string& args, int expectExit = 0) {
        auto r = runShell(binary("tte-mothership") + " --config " + dir.file("ms.toml") + " admin " + args);
        EXPECT_EQ(r.exitCode, expectExit) << args << "\n" << r.output;
        return r.output;
    }

    HttpResult upload(const nlohmann::json& records, bool withCert = true) {
        HttpCall c{"POST", "/api/v1/records", nlohmann::json{{"records", records}}.dump(), "application/json", "", "", ""};
        if (withCert) c.clientCert = pki.stationCert, c.clientKey = pki.stationKey;
        return https(server->httpsPort(), pki.caCert, c);
    }
    HttpResult get(const std::string& path, const std::string& accept = "") {
        return https(server->httpsPort(), pki.caCert, HttpCall{"GET", path, "", "", accept, "", ""});
    }
    HttpResult post(const std::string& path, const std::string& body = "") {
        return https(server->httpsPort(), pki.caCert,
                     HttpCall{"POST", path, body, body.empty() ? "" : "application/x-www-form-urlencoded", "", "", ""});
    }
    static std::string cred(std::uint32_t dev, std::uint64_t otp) {
        return "otp=" + toHex(otp, 16) + ",devid=" + toHex(dev, 8);
    }
    std::string state(std::uint32_t dev, std::uint64_t otp) {
        auto r = get("/.well-known/tte/status?" + cred(dev, otp));
        if (r.status != 200) return "http " + std::to_string(r.status);
        return nlohmann::json::parse(r.body)["state"];
    }
    /// POST /api/v1/devices/<devid>/revoke as the station whose certificate and key are given
    /// (none: no client certificate).
    HttpResult revokeAs(const std::string& devid, const std::string& body, const std::string& cert, const std::string& key) {
        return https(server->httpsPort(), pki.caCert,
                     HttpCall{"POST", "/api/v1/devices/" + devid + "/revoke", body, "application/json", "", cert, key});
    }
    void storeDevices() {
        auto r = upload({signedRecord(pki.stationKey, "station-1", kDev, kOtp, pki.deviceFingerprint, 1),
                         signedRecord(pki.stationKey, "station-1", kLockDev, kOtp + 1, pki.otherFingerprint, 2),
                         signedRecord(pki.stationKey, "station-1", kRevokeDev, kOtp + 2, pki.otherFingerprint, 3)});
        ASSERT_EQ(r.status, 200) << r.body << r.error;
        const auto results = nlohmann::json::parse(r.body)["results"];
        for (const auto& res : results) ASSERT_EQ(res["status"], "stored") << res;
    }

    TempDir dir;
    Pki pki;
    static inline std::unique_ptr<Postgres> pg;
    std::string dbUrl;
    std::unique_ptr<ServerProcess> server;
};

}  // namespace tte::test
