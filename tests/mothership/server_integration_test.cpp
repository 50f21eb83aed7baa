// The whole MotherShip against real parts: a tte-mothership process on port 0, with SQLite
// and again with a PostgreSQL server this test starts in a temp dir; a station uploading
// over mutual TLS, an introducer over HTTPS (libcurl), a device over CoAP/DTLS (libcoap,
// pinning the MotherShip's key) and coap-client-openssl once as a smoke.
#include <gtest/gtest.h>

#include <filesystem>
#include <latch>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "support/mothership.h"
#include "support/postgres.h"
#include "support/softhsm.h"
#include "tte/base/hex.h"
#include "tte/hsm/pkcs11_key_store.h"
#include "tte/hsm/softhsm_site.h"
#include "tte/mothership/crypto.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/station_messages.h"

namespace tte::test {
namespace {

constexpr std::uint32_t kDev = 0x00000101;
constexpr std::uint64_t kOtp = 0x1122334455667788ULL;
constexpr std::uint32_t kLockDev = 0x00000102;
constexpr std::uint32_t kRevokeDev = 0x00000103;
const std::string kControllerFp(64, 'c');

const std::string kOtpKeyUri = "pkcs11:token=tte-ms;object=otp-hash";

/// A SoftHSM token "tte-ms" in `dir` holding the OTP-hash key kOtpKeyUri: `key` imported, or
/// one made in the token when null. Returns the `?pin-source=…` the key's URI needs; "" (and a
/// test failure) when something failed.
std::string otpKeyInAToken(const TempDir& dir, const Secret* key = nullptr) {
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

TEST_P(MothershipSuite, StationUploadIsAuthenticatedAndIdempotent) {
    storeDevices();
    auto again = upload(nlohmann::json::array({signedRecord(pki.stationKey, "station-1", kDev, kOtp, pki.deviceFingerprint, 1)}));
    EXPECT_EQ(nlohmann::json::parse(again.body)["results"][0]["status"], "duplicate");
    auto tampered = signedRecord(pki.stationKey, "station-1", 0x104, kOtp, pki.deviceFingerprint, 4);
    tampered["fingerprint"] = std::string(64, 'e');
    auto bad = nlohmann::json::parse(upload(nlohmann::json::array({tampered})).body)["results"][0];
    EXPECT_EQ(bad["status"], "rejected");
    EXPECT_EQ(bad["message"], "the signature does not verify with the station's key");
    auto outside = nlohmann::json::parse(
        upload(nlohmann::json::array({signedRecord(pki.stationKey, "station-1", 0x300, kOtp, pki.deviceFingerprint, 5)})).body)["results"][0];
    EXPECT_EQ(outside["message"], "Dev ID 00000300 is outside the quota of lot lot-1 (00000100..000001ff)");
    auto noCert = upload({}, false);
    EXPECT_EQ(noCert.status, 401);
    auto stranger = https(server->httpsPort(), pki.caCert,
                          HttpCall{"GET", "/api/v1/lots/lot-1", "", "", "", pki.deviceCert, pki.deviceKey});
    EXPECT_EQ(stranger.status, 403);
    auto lot = https(server->httpsPort(), pki.caCert,
                     HttpCall{"GET", "/api/v1/lots/lot-1", "", "", "", pki.stationCert, pki.stationKey});
    EXPECT_EQ(nlohmann::json::parse(lot.body), (nlohmann::json{{"lot", "lot-1"}, {"first", "00000100"}, {"last", "000001ff"}, {"used", 3}}));
    EXPECT_EQ(admin("lot list"), "lot\tfirst\tlast\tused\tcapacity\nlot-1\t00000100\t000001ff\t3\t256\n");
    EXPECT_NE(admin("station list").find("station-1\t" + protocol::fingerprintFromPem(readText(pki.stationCert))->hex()),
              std::string::npos);
    // A removed station can upload no more; what it uploaded stays.
    EXPECT_EQ(admin("station remove --name station-1"), "station station-1 removed\n");
    EXPECT_EQ(upload(nlohmann::json::array({signedRecord(pki.stationKey, "station-1", 0x105, kOtp, pki.deviceFingerprint, 6)})).status,
              403);
    EXPECT_EQ(state(kDev, kOtp), "not-mapped");
    EXPECT_NE(admin("station remove --name station-1", 1).find("tte-mothership: "), std::string::npos);
}

TEST_P(MothershipSuite, EnrollmentFromLabelToRegistered) {
    // The server parsed its DTLS key once at start; no session reads the file again.
    std::filesystem::remove(pki.dtlsKey);
    storeDevices();
    const std::string urn = devUrn(kDev);
    auto page = get("/.well-known/tte?" + cred(kDev, kOtp), "text/html");
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("<form method=\"post\""), std::string::npos);
    EXPECT_EQ(state(kDev, kOtp), "not-mapped");
    EXPECT_EQ(coapGet(server->coapsPort(), pki.deviceCert, pki.deviceKey, pki.dtlsFingerprint, urn).code, 404);

    auto mapped = post("/.well-known/tte?" + cred(kDev, kOtp) + ",cip=192.0.2.10,cport=5684,cfingerprint=" + kControllerFp);
    ASSERT_EQ(mapped.status, 200) << mapped.body;
    EXPECT_EQ(nlohmann::json::parse(mapped.body), (nlohmann::json{{"urn", urn}, {"fingerprint", pki.deviceFingerprint}}));
    EXPECT_EQ(state(kDev, kOtp), "mapped");
    auto second = post("/.well-known/tte?" + cred(kDev, kOtp), "cip=192.0.2.11&cport=5684&cfingerprint=" + kControllerFp);
    EXPECT_EQ(second.status, 409) << second.body;
    EXPECT_NE(get("/.well-known/tte?" + cred(kDev, kOtp)).body.find("already used"), std::string::npos);

    // The device: CBOR by default, JSON with Accept 50; the MotherShip's key is pinned.
    auto cbor = coapGet(server->coapsPort(), pki.deviceCert, pki.deviceKey, pki.dtlsFingerprint, urn);
    ASSERT_EQ(cbor.code, 205);
    EXPECT_EQ(nlohmann::json::from_cbor(cbor.payload),
              (nlohmann::json{{"cip", "192.0.2.10"}, {"cport", 5684}, {"cfingerprint", kControllerFp}}));
    auto json = coapGet(server->coapsPort(), pki.deviceCert, pki.deviceKey, pki.dtlsFingerprint, urn, 50);
    ASSERT_EQ(json.code, 205);
    EXPECT_EQ(nlohmann::json::parse(json.payload)["cip"], "192.0.2.10");
    EXPECT_TRUE(waitFor([&] { return state(kDev, kOtp) == "registered"; }));
    // Another key for the same URN: 4.03. A wrong pin on our side: no answer at all.
    EXPECT_EQ(coapGet(server->coapsPort(), pki.otherCert, pki.otherKey, pki.dtlsFingerprint, urn).code, 403);
    auto pinned = coapGet(server->coapsPort(), pki.deviceCert, pki.deviceKey, std::string(64, '0'), urn);
    EXPECT_TRUE(pinned.serverKeyRejected);
    EXPECT_EQ(pinned.code, 0);
    // The command-line client as a smoke test (it exits 0 whatever happens: read its output).
    auto cli = runShell("coap-client-openssl -m get -B 5 -c " + pki.deviceCert + " -j " + pki.deviceKey +
                          " -n -A 50 'coaps://127.0.0.1:" + std::to_string(server->coapsPort()) + "/.well-known/tte?urn=" + urn + "'");
    EXPECT_NE(cli.output.find("\"cip\":\"192.0.2.10\""), std::string::npos) << cli.output;
    // Each DTLS client above that completed its handshake had its own server session (4 + the CLI).
    const std::string metrics = http(server->adminPort(), "/metrics").body;
    const auto opened = metrics.find("\ntte_coap_sessions_opened_total ");
    ASSERT_NE(opened, std::string::npos) << metrics;
    EXPECT_GE(std::stoul(metrics.substr(opened + 32)), 5u) << metrics;
    EXPECT_NE(admin("show --devid " + toHex(kDev, 8)).find("\"event\": \"registered\""), std::string::npos);
    // libcoap's messages are lines of the server's log; none of these sessions gave an error
    // (nor the per-session note that libcoap itself was given no key file).
    const std::string log = server->log();
    EXPECT_EQ(log.find("No Server Certificate"), std::string::npos) << log;
    EXPECT_EQ(log.find("level=error event=libcoap"), std::string::npos) << log;
}

TEST_P(MothershipSuite, WrongOtpIsAuditedAndLocksOut) {
    storeDevices();
    auto wrong = get("/.well-known/tte/status?" + cred(kLockDev, kOtp + 99));
    auto unknown = get("/.well-known/tte/status?" + cred(0x1ff, kOtp));
    EXPECT_EQ(wrong.status, 404);
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(wrong.body, unknown.body);
    EXPECT_EQ(nlohmann::json::parse(wrong.body)["message"], "no device with this Dev ID and OTP");
    EXPECT_NE(admin("show --devid " + toHex(kLockDev, 8)).find("otp-wrong"), std::string::npos);
    EXPECT_EQ(get("/.well-known/tte/status?" + cred(kLockDev, kOtp + 98)).status, 404);
    auto third = post("/.well-known/tte?" + cred(kLockDev, kOtp + 97) + ",cip=192.0.2.1,cport=1,cfingerprint=" + kControllerFp);
    EXPECT_EQ(third.status, 404);
    auto locked = get("/.well-known/tte/status?" + cred(kLockDev, kOtp + 1));  // even the right OTP now
    EXPECT_EQ(locked.status, 429);
    EXPECT_FALSE(locked.headers["retry-after"].empty());
    auto bad = get("/.well-known/tte/status?otp=123,devid=" + toHex(kDev, 8));
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(nlohmann::json::parse(bad.body)["message"], "otp: expected 16 hex digits, got 3");
    // PROTOCOL §6: every answer carries no-store; the page a content policy without scripts.
    EXPECT_EQ(bad.headers["cache-control"], "no-store");
    EXPECT_EQ(locked.headers["cache-control"], "no-store");
    auto page = https(server->httpsPort(), pki.caCert,
                      HttpCall{"GET", "/.well-known/tte?" + cred(kDev, kOtp), "", "", "text/html", "", ""});
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.headers["x-content-type-options"], "nosniff");
    EXPECT_EQ(page.headers["content-security-policy"], "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
}

// What differs between SQLite and PostgreSQL only (the token changes nothing here), and what
// needs a database server to stop: fewer servers to start than the whole matrix.
class SqlBackends : public MothershipSuite {};
class PostgresOutage : public MothershipSuite {};

// 64 introducers claim one device with its one OTP at the same moment, each over a connection
// opened beforehand, so the claims meet in the handlers and the database: exactly one 200, the
// others the documented 409, and the registry holds the winner's mapping once.
TEST_P(SqlBackends, SixtyFourConcurrentClaimsOfOneOtpMapItOnce) {
    storeDevices();
    constexpr int kClaims = 64;
    std::vector<std::unique_ptr<HttpsSession>> sessions;
    for (int i = 0; i < kClaims; ++i) {
        sessions.push_back(std::make_unique<HttpsSession>(server->httpsPort(), pki.caCert));
        ASSERT_EQ(sessions.back()->request(HttpCall{"GET", "/healthz", "", "", "", "", ""}).status, 200);
    }
    std::latch go(kClaims);
    std::vector<HttpResult> results(kClaims);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClaims; ++i) {
        threads.emplace_back([&, i] {
            const std::string body = "cip=192.0.2.10&cport=" + std::to_string(1000 + i) + "&cfingerprint=" + kControllerFp;
            go.arrive_and_wait();
            results[static_cast<std::size_t>(i)] = sessions[static_cast<std::size_t>(i)]->request(
                HttpCall{"POST", "/.well-known/tte?" + cred(kDev, kOtp), body, "application/x-www-form-urlencoded", "", "", ""});
        });
    }
    for (auto& t : threads) t.join();
    int winner = -1, refused = 0;
    for (int i = 0; i < kClaims; ++i) {
        const auto& r = results[static_cast<std::size_t>(i)];
        if (r.status == 200) {
            EXPECT_EQ(winner, -1) << "a second claim of the same OTP succeeded";
            winner = i;
            continue;
        }
        EXPECT_EQ(r.status, 409) << r.body << r.error;
        EXPECT_EQ(r.body, R"({"error":"conflict","message":"the OTP was already used: the device is mapped"})" "\n");
        ++refused;
    }
    ASSERT_NE(winner, -1) << "no claim succeeded";
    EXPECT_EQ(refused, kClaims - 1);
    const auto shown = nlohmann::json::parse(admin("show --devid " + toHex(kDev, 8)));
    EXPECT_EQ(shown["state"], "mapped");
    EXPECT_EQ(shown["cport"], 1000 + winner);
    int mapped = 0, conflicts = 0;
    for (const auto& e : shown["audit"]) {
        mapped += e["event"] == "mapped";
        conflicts += e["event"] == "claim-conflict";
    }
    EXPECT_EQ(mapped, 1);
    EXPECT_EQ(conflicts, kClaims - 1);
    const auto device = coapGet(server->coapsPort(), pki.deviceCert, pki.deviceKey, pki.dtlsFingerprint, devUrn(kDev));
    ASSERT_EQ(device.code, 205);
    EXPECT_EQ(nlohmann::json::from_cbor(device.payload)["cport"], 1000 + winner);
}

TEST_P(SqlBackends, LockoutSurvivesARestartAndIsSharedByASecondInstance) {
    storeDevices();
    for (std::uint64_t i = 0; i < 3; ++i) EXPECT_EQ(get("/.well-known/tte/status?" + cred(kLockDev, kOtp + 90 + i)).status, 404);
    ASSERT_EQ(get("/.well-known/tte/status?" + cred(kLockDev, kOtp + 1)).status, 429);
    EXPECT_EQ(server->stop(), 0);
    server = std::make_unique<ServerProcess>(dir.file("ms.toml"), dir);
    auto after = get("/.well-known/tte/status?" + cred(kLockDev, kOtp + 1));  // even the right OTP
    EXPECT_EQ(after.status, 429) << after.body;
    const int retry = std::stoi(after.headers["retry-after"]);
    EXPECT_GT(retry, 500);
    EXPECT_LE(retry, 600);
    EXPECT_EQ(state(kDev, kOtp), "not-mapped");  // only that Dev ID
    // A second MotherShip on the same database sees the same lockout.
    TempDir other;
    ServerProcess second(dir.file("ms.toml"), other);
    EXPECT_EQ(https(second.httpsPort(), pki.caCert, HttpCall{"GET", "/.well-known/tte/status?" + cred(kLockDev, kOtp + 1), "", "", "", "", ""}).status,
              429);
    EXPECT_NE(http(second.adminPort(), "/metrics").body.find("\ntte_registry_locked_out 1\n"), std::string::npos);
    EXPECT_EQ(second.stop(), 0);
}

TEST_P(PostgresOutage, ReadyzChecksTheDatabaseMetricsOnlyOnTheAdminListener) {
    EXPECT_EQ(get("/readyz").body, "ready\n");
    EXPECT_EQ(get("/metrics").status, 404);
    auto metrics = http(server->adminPort(), "/metrics");
    ASSERT_EQ(metrics.status, 200) << metrics.error;
    EXPECT_NE(metrics.headers["content-type"].find("text/plain; version=0.0.4"), std::string::npos);
    EXPECT_NE(metrics.body.find("\ntte_registry_up 1\n"), std::string::npos) << metrics.body;
    EXPECT_NE(metrics.body.find("tte_build_info{"), std::string::npos);
    EXPECT_EQ(http(server->adminPort(), "/readyz").body, "ready\n");
    // The database goes away: not ready (the public answer names the check, the admin one
    // also why), alive all the same; ready again once the database is back.
    pg->stop();
    auto down = get("/readyz");
    EXPECT_EQ(down.status, 503);
    EXPECT_EQ(down.body, "not ready: database\n");
    auto why = http(server->adminPort(), "/readyz");
    EXPECT_EQ(why.status, 503);
    EXPECT_TRUE(why.body.starts_with("not ready: database (")) << why.body;
    EXPECT_EQ(get("/healthz").status, 200);
    pg->start();
    EXPECT_TRUE(waitFor([&] { return get("/readyz").status == 200; }));
}

TEST_P(SqlBackends, BackupIsPrivateAndRestoresOverALiveRegistryOnlyWhenTold) {
    storeDevices();
    admin("backup --out " + dir.file("backup"));
    EXPECT_EQ(std::filesystem::status(dir.file("backup")).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    ASSERT_EQ(post("/.well-known/tte?" + cred(kDev, kOtp) + ",cip=192.0.2.10,cport=5684,cfingerprint=" + kControllerFp).status, 200);
    EXPECT_NE(admin("restore --from " + dir.file("backup"), 1).find("refusing to overwrite"), std::string::npos);
    EXPECT_EQ(state(kDev, kOtp), "mapped");  // nothing changed
    writeFile(dir.file("junk"), "not a backup");
    EXPECT_NE(admin("restore --force --from " + dir.file("junk"), 1).find("backup " + dir.file("junk") + " is not"),
              std::string::npos);
    EXPECT_EQ(server->stop(), 0);
    EXPECT_EQ(admin("restore --force --from " + dir.file("backup")), "restored 3 devices from " + dir.file("backup") + "\n");
    server = std::make_unique<ServerProcess>(dir.file("ms.toml"), dir);
    EXPECT_EQ(state(kDev, kOtp), "not-mapped");  // as at the backup
    // Into an empty database no --force is needed.
    const std::string fresh = GetParam() == "postgresql" ? pg->newDatabase() : "sqlite://" + dir.file("fresh.db");
    auto r = runShell(binary("tte-mothership") + " --database '" + fresh + "' admin restore --from " + dir.file("backup"));
    EXPECT_EQ(r.exitCode, 0) << r.output;
    EXPECT_EQ(r.output, "restored 3 devices from " + dir.file("backup") + "\n");
}

TEST_P(MothershipSuite, RevokedDeviceIsRefusedEverywhere) {
    storeDevices();
    const std::string dev = toHex(kRevokeDev, 8);
    auto r = revokeAs(dev, R"({"reason":"QA reject"})", pki.stationCert, pki.stationKey);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, R"({"devid":")" + dev + R"(","state":"revoked"})" "\n");
    // The status query tells the label's holder; the device's own key gets 4.03 over CoAP.
    EXPECT_EQ(state(kRevokeDev, kOtp + 2), "revoked");
    EXPECT_EQ(coapGet(server->coapsPort(), pki.otherCert, pki.otherKey, pki.dtlsFingerprint, devUrn(kRevokeDev)).code, 403);
    // The mapping POST answers as for an unknown Dev ID: the same 404 and body.
    const std::string controller = ",cip=192.0.2.1,cport=1,cfingerprint=" + kControllerFp;
    auto mapping = post("/.well-known/tte?" + cred(kRevokeDev, kOtp + 2) + controller);
    auto unknown = post("/.well-known/tte?" + cred(0x1fe, kOtp + 2) + controller);
    EXPECT_EQ(mapping.status, 404);
    EXPECT_EQ(mapping.body, unknown.body);
    EXPECT_EQ(mapping.body, R"({"error":"not-found","message":"no device with this Dev ID and OTP"})" "\n");
    // The introducer's page says revoked.
    auto page = get("/.well-known/tte?" + cred(kRevokeDev, kOtp + 2), "text/html");
    EXPECT_EQ(page.status, 403);
    EXPECT_NE(page.body.find("id=\"revoked\""), std::string::npos) << page.body;
    EXPECT_NE(page.body.find(devUrn(kRevokeDev)), std::string::npos);
    // Revoking again answers the same and keeps the first reason; one audit line per revocation.
    ASSERT_EQ(revokeAs(dev, R"({"reason":"again"})", pki.stationCert, pki.stationKey).status, 200);
    const auto shown = nlohmann::json::parse(admin("show --devid " + dev));
    EXPECT_EQ(shown["state"], "revoked");
    EXPECT_EQ(shown["revoked_by"], "station station-1");
    EXPECT_EQ(shown["revoke_reason"], "QA reject");
    EXPECT_TRUE(shown["revoked_at"].is_number());
    std::map<std::string, int> events;
    for (const auto& e : shown["audit"]) ++events[e["event"].get<std::string>()];
    EXPECT_EQ(events["revoked"], 1);
    EXPECT_EQ(events["claim-revoked"], 1);
    EXPECT_EQ(events["coap-revoked"], 1);
    EXPECT_EQ(events["otp-wrong"], 0);  // the right OTP of a revoked device is no failure
    // The other devices are untouched.
    EXPECT_EQ(state(kDev, kOtp), "not-mapped");
}

TEST_P(MothershipSuite, StationRevokeRefusesBadInputAndAnotherStationsDevice) {
    storeDevices();
    admin("station add --cert " + pki.deviceCert + " --name station-2");
    const std::string reason = R"({"reason":"rework"})";
    const auto message = [](const HttpResult& r) { return nlohmann::json::parse(r.body, nullptr, false).value("message", r.body); };
    auto unknown = revokeAs("000001fe", reason, pki.stationCert, pki.stationKey);
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(message(unknown), "no device with Dev ID 000001fe");
    auto badJson = revokeAs(toHex(kDev, 8), R"({"reason": )", pki.stationCert, pki.stationKey);
    EXPECT_EQ(badJson.status, 400);
    EXPECT_TRUE(message(badJson).starts_with("RevokeRequest: invalid JSON")) << badJson.body;
    auto noReason = revokeAs(toHex(kDev, 8), R"({"why":"x"})", pki.stationCert, pki.stationKey);
    EXPECT_EQ(noReason.status, 400);
    EXPECT_EQ(message(noReason), "RevokeRequest: unknown field 'why'");
    auto empty = revokeAs(toHex(kDev, 8), R"({"reason":""})", pki.stationCert, pki.stationKey);
    EXPECT_EQ(empty.status, 400);
    EXPECT_EQ(message(empty), "RevokeRequest: field 'reason': empty");
    auto badId = revokeAs("12345", reason, pki.stationCert, pki.stationKey);
    EXPECT_EQ(badId.status, 400) << badId.body;
    EXPECT_EQ(message(badId), "devid: expected 8 hex digits, got 5");
    // Another station's device: 403, and nothing is revoked.
    auto foreign = revokeAs(toHex(kDev, 8), reason, pki.deviceCert, pki.deviceKey);
    EXPECT_EQ(foreign.status, 403);
    EXPECT_EQ(message(foreign), "device " + toHex(kDev, 8) +
                                    " was provisioned by station station-1, not by station-2: a station revokes only its own devices");
    auto anonymous = revokeAs(toHex(kDev, 8), reason, "", "");
    EXPECT_EQ(anonymous.status, 401);
    EXPECT_EQ(state(kDev, kOtp), "not-mapped");
    EXPECT_EQ(admin("show --devid " + toHex(kDev, 8)).find("\"revoked\""), std::string::npos);
}

// A reworked board's new record names its old Dev ID: stored only once that device is revoked,
// shown by admin show/export and the station's device lookup.
TEST_P(MothershipSuite, AReworkedBoardsRecordLinksARevokedDevice) {
    storeDevices();
    const auto next = [&](std::uint64_t seq) {
        return signedRecord(pki.stationKey, "station-1", 0x110, kOtp + 20, pki.otherFingerprint, seq, "lot-1", std::nullopt, kDev);
    };
    const auto early = nlohmann::json::parse(upload(nlohmann::json::array({next(20)})).body)["results"][0];
    EXPECT_EQ(early["status"], "rejected");
    EXPECT_EQ(early["message"], "reworked_from 00000101: the device is not-mapped, not revoked; revoke it before its board gets a new identity");
    const auto unknown = nlohmann::json::parse(upload(nlohmann::json::array({signedRecord(
        pki.stationKey, "station-1", 0x111, kOtp + 21, pki.otherFingerprint, 21, "lot-1", std::nullopt, 0x1fe)})).body)["results"][0];
    EXPECT_EQ(unknown["message"], "reworked_from 000001fe: no device with this Dev ID");
    ASSERT_EQ(revokeAs(toHex(kDev, 8), R"({"reason":"rework"})", pki.stationCert, pki.stationKey).status, 200);
    const auto stored = nlohmann::json::parse(upload(nlohmann::json::array({next(22)})).body)["results"][0];
    EXPECT_EQ(stored["status"], "stored") << stored;
    const auto shown = nlohmann::json::parse(admin("show --devid 00000110"));
    EXPECT_EQ(shown["reworked_from"], toHex(kDev, 8));
    EXPECT_TRUE(shown["revoked_at"].is_null());
    EXPECT_EQ(shown["audit"][0]["detail"], "record station-1-22, reworked from 00000101");
    auto lookup = https(server->httpsPort(), pki.caCert,
                        HttpCall{"GET", "/api/v1/devices/00000110", "", "", "", pki.stationCert, pki.stationKey});
    ASSERT_EQ(lookup.status, 200) << lookup.body;
    EXPECT_EQ(protocol::DeviceInfo::fromJson(lookup.body)->reworkedFrom, protocol::DevId{kDev});
    EXPECT_EQ(state(0x110, kOtp + 20), "not-mapped");
}

TEST_P(MothershipSuite, AdminRevokesADeviceABoxOrALot) {
    storeDevices();
    admin("lot set --lot lot-2 --first 00000200 --last 000002ff");
    auto boxed = upload({signedRecord(pki.stationKey, "station-1", 0x200, kOtp + 10, pki.deviceFingerprint, 10, "lot-2", 2),
                         signedRecord(pki.stationKey, "station-1", 0x201, kOtp + 11, pki.deviceFingerprint, 11, "lot-2", 2),
                         signedRecord(pki.stationKey, "station-1", 0x202, kOtp + 12, pki.deviceFingerprint, 12, "lot-2", 3)});
    ASSERT_EQ(boxed.status, 200) << boxed.body;
    const auto stored = nlohmann::json::parse(boxed.body);
    for (const auto& res : stored["results"]) ASSERT_EQ(res["status"], "stored") << res;

    EXPECT_EQ(admin("revoke --devid " + toHex(kRevokeDev, 8) + " --reason 'returned, damaged'"),
              "00000103 revoked\nDev ID 00000103: 1 revoked, 0 already revoked\n");
    EXPECT_EQ(admin("revoke --lot lot-1 --reason recall"),
              "00000101 revoked\n00000102 revoked\n00000103 already revoked\nlot lot-1: 2 revoked, 1 already revoked\n");
    EXPECT_EQ(admin("revoke --box 00000002 --reason 'box lost'"),
              "00000200 revoked\n00000201 revoked\nbox 00000002: 2 revoked, 0 already revoked\n");
    EXPECT_EQ(state(kDev, kOtp), "revoked");
    EXPECT_EQ(state(kLockDev, kOtp + 1), "revoked");
    EXPECT_EQ(state(0x200, kOtp + 10), "revoked");
    EXPECT_EQ(state(0x202, kOtp + 12), "not-mapped");  // box 3
    const auto shown = nlohmann::json::parse(admin("show --devid 00000103"));
    EXPECT_EQ(shown["revoke_reason"], "returned, damaged");  // the first revocation's
    EXPECT_EQ(shown["revoked_by"], "admin");
    // The export shows the revocation of every device.
    const std::string jsonl = admin("export --format jsonl");
    std::istringstream lines(jsonl);
    int revoked = 0;
    for (std::string line; std::getline(lines, line);) {
        const auto j = nlohmann::json::parse(line);
        if (j["state"] == "revoked") {
            ++revoked;
            EXPECT_FALSE(j["revoke_reason"].get<std::string>().empty()) << line;
        } else {
            EXPECT_TRUE(j["revoke_reason"].is_null()) << line;
        }
    }
    EXPECT_EQ(revoked, 5);
    // Bad input: one line naming the problem, nothing revoked.
    EXPECT_EQ(admin("revoke --devid 000001fe --reason x", 1), "tte-mothership: no device with Dev ID 000001fe\n");
    EXPECT_EQ(admin("revoke --box 00000009 --reason x", 1), "tte-mothership: no device in box 00000009\n");
    EXPECT_EQ(admin("revoke --lot lot-9 --reason x", 1), "tte-mothership: no device in lot lot-9\n");
    EXPECT_EQ(admin("revoke --reason x", 1), "tte-mothership: revoke needs exactly one of --devid, --box, --lot\n");
    EXPECT_NE(admin("revoke --devid 00000202 --lot lot-2 --reason x", 2).find("excludes"), std::string::npos);
    EXPECT_EQ(admin("revoke --devid 202 --reason x", 1), "tte-mothership: --devid: expected 8 hex digits, got 3\n");
    EXPECT_EQ(state(0x202, kOtp + 12), "not-mapped");
}

TEST_P(MothershipSuite, DatabaseHoldsNoOtpAndBacksUp) {
    storeDevices();
    ASSERT_EQ(post("/.well-known/tte?" + cred(kDev, kOtp) + ",cip=192.0.2.10,cport=5684,cfingerprint=" + kControllerFp).status, 200);
    admin("backup --out " + dir.file("backup.db"));
    const std::string csv = admin("export --format csv");
    EXPECT_NE(csv.find(devUrn(kDev)), std::string::npos);
    EXPECT_NE(http(server->adminPort(), "/metrics").body.find("tte_claims_total 1\n"), std::string::npos);
    EXPECT_EQ(server->stop(), 0);  // SIGTERM: drains, commits, exits 0
    std::string db;
    if (GetParam() == "postgresql") {
        db = runShell("pg_dump --dbname='" + dbUrl + "'").output;
        EXPECT_NE(db.find(devUrn(kDev)), std::string::npos);
    } else {
        for (const char* f : {"registry.db", "registry.db-wal", "backup.db"}) db += readText(dir.file(f));
        EXPECT_NE(db.find(devUrn(kDev)), std::string::npos);
    }
    std::string be, le;
    for (int i = 0; i < 8; ++i) be += static_cast<char>(kOtp >> (56 - 8 * i)), le += static_cast<char>(kOtp >> (8 * i));
    for (const std::string& needle : {toHex(kOtp, 16), std::string("1122334455667788"), be, le}) {
        EXPECT_EQ(db.find(needle), std::string::npos) << "OTP found in the database";
    }
    std::string upper = toHex(kOtp, 16);
    for (auto& c : upper) c = static_cast<char>(std::toupper(c));
    EXPECT_EQ(db.find(upper), std::string::npos);
}

TEST(OtpHashKeyInAToken, HashesAsTheSameKeyInMemoryAndNamesAMissingKey) {
    TempDir dir;
    const Secret key{std::string(32, 'k')};
    const std::string pin = otpKeyInAToken(dir, &key);
    ASSERT_NE(pin, "");
    auto token = mothership::OtpHasher::openToken(kOtpKeyUri + pin);
    ASSERT_TRUE(token) << token.error().toString();
    const auto memory = mothership::OtpHasher::fromKey(key.clone()).value();
    for (const std::uint64_t otp : {kOtp, kOtp + 1, std::uint64_t{~0ULL}}) {
        auto a = token->hash(kDev, otp);
        ASSERT_TRUE(a) << a.error().toString();
        EXPECT_EQ(toHex(*a), toHex(*memory.hash(kDev, otp)));
    }
    EXPECT_NE(toHex(*token->hash(kDev, kOtp)), toHex(*token->hash(kDev + 1, kOtp)));
    auto missing = mothership::OtpHasher::openToken("pkcs11:token=tte-ms;object=nope" + pin);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::notFound);
    EXPECT_NE(missing.error().message.find("OTP-hash key pkcs11:token=tte-ms;object=nope"), std::string::npos)
        << missing.error().message;
    auto noToken = mothership::OtpHasher::openToken("pkcs11:token=elsewhere;object=otp-hash" + pin);
    ASSERT_FALSE(noToken);
    EXPECT_NE(noToken.error().message.find("the OTP-hash key's token"), std::string::npos) << noToken.error().message;
}

INSTANTIATE_TEST_SUITE_P(Backends, MothershipSuite, ::testing::Values("sqlite", "postgresql", "sqlite_token"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, SqlBackends, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, PostgresOutage, ::testing::Values("postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tte::test
