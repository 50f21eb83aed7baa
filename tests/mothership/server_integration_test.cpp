// The whole MotherShip against real parts (the suite of server_suite.h, on SQLite, on SQLite
// with the OTP-hash key in a token, and on PostgreSQL): a station uploading over mutual TLS, an
// introducer over HTTPS (libcurl), a device over CoAP/DTLS (libcoap, pinning the MotherShip's
// key) and coap-client-openssl once as a smoke; lockouts, readiness, backups, and the OTP-hash
// key in a token. Revocation is tested in server_revocation_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <latch>
#include <thread>
#include <unistd.h>
#include <vector>

#include "server_suite.h"
#include "tte/mothership/crypto.h"
#include "tte/protocol/fingerprint.h"

namespace tte::test {
namespace {

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
