// The HTTPS endpoints' behaviour without the network: Service::handle() over the
// in-memory registry and a manual clock (exact lockout times, exact error messages); the
// config's checks and the CoAP server's key checks at start.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "support/mothership.h"
#include "tte/base/hex.h"
#include "tte/mothership/coap_server.h"
#include "tte/mothership/config.h"
#include "tte/mothership/crypto.h"
#include "tte/mothership/service.h"
#include "tte/protocol/fingerprint.h"

namespace tte::mothership {
namespace {

constexpr std::uint32_t kDev = 0x100;
constexpr std::uint64_t kOtp = 0x0102030405060708ULL;

class ServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(reg->setLotQuota("lot-1", 0x100, 0x1ff));
        DeviceRow d;
        d.devId = kDev;
        d.urn = test::devUrn(kDev);
        d.fingerprint = std::string(64, 'd');
        const auto h = hasher.hash(kDev, kOtp);
        ASSERT_TRUE(h);
        d.otpHash.assign(h->begin(), h->end());
        d.lot = "lot-1";
        d.recordId = "s-1";
        d.station = "s";
        ASSERT_TRUE(reg->insertDevice(d, 1));
    }
    HttpResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                      const std::string& client = "198.51.100.1", const std::string& accept = "") {
        return service.handle(HttpRequest{method, target, body, body.empty() ? "" : "application/x-www-form-urlencoded",
                                          accept, client, std::nullopt});
    }
    static std::string cred(std::uint64_t otp = kOtp, std::uint32_t dev = kDev) {
        return "otp=" + toHex(otp, 16) + ",devid=" + toHex(dev, 8);
    }
    static std::string message(const HttpResponse& r) { return nlohmann::json::parse(r.body)["message"]; }

    std::unique_ptr<Registry> reg = makeMemoryRegistry();
    OtpHasher hasher = OtpHasher::fromKey(Secret(std::string(32, 'k'))).value();
    ManualClock clock;
    Metrics metrics;
    FailureLimiter limiter{*reg, clock, LimiterOptions{3, 5, std::chrono::seconds(60), std::chrono::seconds(120)}};
    Service service{*reg, hasher, clock, limiter, metrics, ServiceOptions{}};
};

TEST_F(ServiceTest, PageFormMappingAndAlreadyUsed) {
    auto page = call("GET", "/.well-known/tte?OTP=" + toHex(kOtp, 16) + "&DevID=" + toHex(kDev, 8));
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("name=\"cfingerprint\""), std::string::npos);
    auto ok = call("POST", "/.well-known/tte?" + cred(), "cip=192.0.2.1&cport=5684&cfingerprint=" + std::string(64, 'C') +
                                                             "&description=%3Cscript%3E+x");
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(nlohmann::json::parse(ok.body)["urn"], test::devUrn(kDev));
    EXPECT_EQ(reg->device(kDev)->controller->fingerprint, std::string(64, 'c'));
    EXPECT_EQ(reg->device(kDev)->description, "<script> x");
    auto again = call("POST", "/.well-known/tte?" + cred() + ",cip=192.0.2.1,cport=5684,cfingerprint=" + std::string(64, 'c'));
    EXPECT_EQ(again.status, 409);
    EXPECT_EQ(message(again), "the OTP was already used: the device is mapped");
    auto used = call("GET", "/.well-known/tte?" + cred());
    EXPECT_NE(used.body.find("This enrollment code was already used."), std::string::npos);
    auto html = call("POST", "/.well-known/tte?" + cred(), "cip=192.0.2.1&cport=5684&cfingerprint=" + std::string(64, 'c'),
                     "198.51.100.1", "text/html");
    EXPECT_EQ(html.status, 409);
    EXPECT_EQ(html.contentType, "text/html; charset=utf-8");
}

// PROTOCOL §11: a DTLS-PSK device's mapping needs the device–Controller PSK (cpsk), keeps it
// wrapped, and says "dtls": "psk"; a certificate device's cpsk is dropped.
TEST_F(ServiceTest, PskDeviceMappingKeepsTheControllerPskWrapped) {
    constexpr std::uint32_t kPskDev = 0x101;
    const auto psk = protocol::parsePsk(std::string(62, 'a') + "01").value();
    DeviceRow d;
    d.devId = kPskDev;
    d.urn = test::devUrn(kPskDev);
    d.fingerprint = protocol::pskFingerprint(psk.bytes()).hex();
    const auto h = hasher.hash(kPskDev, kOtp);
    ASSERT_TRUE(h);
    d.otpHash.assign(h->begin(), h->end());
    d.lot = "lot-1";
    d.recordId = "s-2";
    d.pskWrapped = wrapPsk(hasher, kPskDev, PskRole::device, psk).value();
    ASSERT_TRUE(reg->insertDevice(d, 1));
    const std::string controller = "cip=192.0.2.1&cport=5684&cfingerprint=" + std::string(64, 'c');
    auto missing = call("POST", "/.well-known/tte?" + cred(kOtp, kPskDev), controller);
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(message(missing), "missing parameter 'cpsk': the device uses DTLS-PSK and needs the Controller's PSK "
                                "(enroll it with tte-introducer)");
    EXPECT_EQ(reg->device(kPskDev)->state, DeviceState::notMapped) << "the OTP is not spent";
    const std::string cpsk = std::string(62, 'b') + "02";
    auto ok = call("POST", "/.well-known/tte?" + cred(kOtp, kPskDev), controller + "&cpsk=" + cpsk);
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(nlohmann::json::parse(ok.body)["dtls"], "psk");
    const auto stored = reg->device(kPskDev)->controller->pskWrapped;
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->size(), 120u);
    EXPECT_EQ(stored->find(cpsk), std::string::npos);
    EXPECT_EQ(unwrapPsk(hasher, kPskDev, PskRole::controller, *stored)->hex(), cpsk);
    // Bound to its device and role: another Dev ID or role does not unwrap it.
    EXPECT_EQ(unwrapPsk(hasher, kDev, PskRole::controller, *stored).error().message,
              "wrapped PSK: does not authenticate (another key, device or role)");
    EXPECT_FALSE(unwrapPsk(hasher, kPskDev, PskRole::device, *stored));
    EXPECT_EQ(unwrapPsk(hasher, kPskDev, PskRole::controller, "abc").error().message, "wrapped PSK: not 120 hex digits");
    const OtpHasher other = OtpHasher::fromKey(Secret(std::string(32, 'o'))).value();
    EXPECT_FALSE(unwrapPsk(other, kPskDev, PskRole::controller, *stored));

    auto cert = call("POST", "/.well-known/tte?" + cred(), controller + "&cpsk=" + cpsk);
    ASSERT_EQ(cert.status, 200) << cert.body;
    EXPECT_FALSE(nlohmann::json::parse(cert.body).contains("dtls"));
    EXPECT_FALSE(reg->device(kDev)->controller->pskWrapped) << "a certificate device keeps no PSK";
}

TEST_F(ServiceTest, BadInputGetsPreciseMessages) {
    // The messages are those of the protocol library's parsers (PROTOCOL §2, §6).
    EXPECT_EQ(message(call("GET", "/.well-known/tte/status?devid=00000100")), "missing parameter 'otp'");
    EXPECT_EQ(message(call("GET", "/.well-known/tte/status?otp=,devid=00000100")), "empty parameter 'otp'");
    EXPECT_EQ(message(call("GET", "/.well-known/tte/status?" + cred() + ",x=1")), "unknown parameter 'x'");
    EXPECT_EQ(message(call("GET", "/.well-known/tte/status?" + cred() + ",otp=1")), "duplicate parameter 'otp'");
    EXPECT_EQ(message(call("GET", "/.well-known/tte/status?" + cred() + ",,x=1")), "empty parameter at position 37");
    EXPECT_EQ(message(call("GET", "/.well-known/tte/status?otp=%zz")), "bad percent-escape at position 5");
    EXPECT_EQ(message(call("GET", "/.well-known/tte/status?otp=12,devid=00000100")), "otp: expected 16 hex digits, got 2");
    EXPECT_EQ(message(call("GET", "/.well-known/tte/status?otp=" + toHex(kOtp, 16) + ",devid=0000010g")),
              "devid: 'g' at position 8 is not a hex digit");
    const std::string base = "/.well-known/tte?" + cred();
    const std::string fp = std::string(64, 'c');
    EXPECT_EQ(message(call("POST", base + ",cport=1,cfingerprint=" + fp)), "missing parameter 'cip'");
    EXPECT_EQ(message(call("POST", base + ",cip=300.1.1.1,cport=1,cfingerprint=" + fp)),
              "cip: not an IPv4 or IPv6 address");
    EXPECT_EQ(message(call("POST", base + ",cip=::1,cport=65536,cfingerprint=" + fp)),
              "cport: must be a decimal number from 1 to 65535");
    EXPECT_EQ(message(call("POST", base + ",cip=::1,cport=1,cfingerprint=abc")),
              "cfingerprint: expected 64 hex digits, got 3");
    EXPECT_EQ(message(call("POST", base + ",cip=::1", "cip=::1&cport=1&cfingerprint=" + fp)),
              "duplicate parameter 'cip'");
    EXPECT_EQ(message(call("POST", base, "cip=::1&cport=1%2&cfingerprint=" + fp)), "body: bad percent-escape at position 16");
    EXPECT_EQ(message(call("POST", base, "cip=::1&cport=1&cfingerprint=" + fp + "&description=a%09b")),
              "description: contains a control character");
    auto page = call("GET", "/.well-known/tte?otp=zz,devid=00000100");
    EXPECT_EQ(page.status, 400);
    EXPECT_EQ(page.body.find("<script"), std::string::npos);
    EXPECT_EQ(call("DELETE", base).status, 405);
    EXPECT_EQ(call("GET", "/nothing").status, 404);
    EXPECT_EQ(call("GET", "/healthz").body, "ok\n");
    EXPECT_EQ(reg->device(kDev)->state, DeviceState::notMapped);
}

TEST_F(ServiceTest, WrongOtpAndUnknownDeviceLookTheSameAndLockOut) {
    auto wrong = call("GET", "/.well-known/tte/status?" + cred(kOtp + 1));
    auto unknown = call("GET", "/.well-known/tte/status?" + cred(kOtp, 0x1ff), "", "198.51.100.2");
    EXPECT_EQ(wrong.status, 404);
    EXPECT_EQ(wrong.body, unknown.body);
    EXPECT_EQ(call("GET", "/.well-known/tte/status?" + cred(kOtp + 2), "", "198.51.100.3").status, 404);
    EXPECT_EQ(call("GET", "/.well-known/tte/status?" + cred(kOtp + 3), "", "198.51.100.4").status, 404);
    auto locked = call("GET", "/.well-known/tte/status?" + cred(), "", "198.51.100.5");
    EXPECT_EQ(locked.status, 429);
    ASSERT_EQ(locked.headers.size(), 1u);
    EXPECT_EQ(locked.headers[0], (std::pair<std::string, std::string>{"Retry-After", "120"}));
    clock.advance(std::chrono::seconds(119));
    EXPECT_EQ(call("GET", "/.well-known/tte/status?" + cred()).headers[0].second, "1");
    clock.advance(std::chrono::seconds(1));
    EXPECT_EQ(call("GET", "/.well-known/tte/status?" + cred()).status, 200);
    EXPECT_EQ(reg->device(kDev)->failures, 3);
    int wrongEvents = 0;
    const auto trail = reg->audit(kDev);
    ASSERT_TRUE(trail);
    for (const auto& e : *trail) wrongEvents += e.event == "otp-wrong";
    EXPECT_EQ(wrongEvents, 3);
}

TEST_F(ServiceTest, ClientAddressLocksOutAcrossDevices) {
    for (std::uint32_t i = 0; i < 5; ++i) call("GET", "/.well-known/tte/status?" + cred(kOtp, 0x110 + i));
    EXPECT_EQ(call("GET", "/.well-known/tte/status?" + cred()).status, 429);
    EXPECT_EQ(call("GET", "/.well-known/tte/status?" + cred(), "", "198.51.100.9").status, 200);
}

TEST_F(ServiceTest, ProbesOnBothListenersMetricsOnlyOnTheAdminOne) {
    EXPECT_EQ(call("GET", "/readyz").body, "ready\n");
    EXPECT_EQ(call("GET", "/readyz").status, 200);
    EXPECT_EQ(call("GET", "/metrics").status, 404);  // not on the public port
    const auto admin = [&](const std::string& method, const std::string& target) {
        return service.handleAdmin(HttpRequest{method, target, "", "", "", "127.0.0.1", std::nullopt});
    };
    EXPECT_EQ(admin("GET", "/healthz").body, "ok\n");
    EXPECT_EQ(admin("GET", "/readyz").body, "ready\n");
    EXPECT_EQ(admin("POST", "/metrics").status, 405);
    EXPECT_EQ(admin("GET", "/.well-known/tte/status?" + cred()).status, 404);
    call("GET", "/.well-known/tte/status?" + cred());
    call("GET", "/.well-known/tte/status?" + cred(kOtp + 1));
    metrics.watchRegistry(*reg, clock);
    const std::string text = admin("GET", "/metrics").body;
    for (const char* line : {"tte_http_responses_total{code=\"200\"} ", "tte_http_responses_total{code=\"404\"} ",
                             "tte_otp_failures_total 1\n", "tte_registry_up 1\n",
                             "tte_registry_devices{state=\"not-mapped\"} 1\n", "tte_registry_lots 1\n",
                             "tte_registry_locked_out 0\n", "tte_http_request_duration_seconds_count{route=\"status\"} 2\n",
                             "tte_http_request_duration_seconds_bucket{route=\"status\",le=\"+Inf\"} 2\n",
                             "# TYPE tte_http_request_duration_seconds histogram\n", "tte_build_info{",
                             "tte_coap_request_duration_seconds_count 0\n", "process_start_time_seconds "}) {
        EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
    }
    EXPECT_NE(text.find("revision=\""), std::string::npos);
}

TEST_F(ServiceTest, AStationPreEnrollsItsOwnDeviceWithoutSpendingTheOtp) {
    const std::string st1(64, '1'), st2(64, '2');
    ASSERT_TRUE(reg->addStation(StationRow{"s", st1, "", 1}));
    ASSERT_TRUE(reg->addStation(StationRow{"st2", st2, "", 1}));
    const std::string cfp(64, 'c');
    const std::string body = R"({"cip":"192.0.2.5","cport":5685,"cfingerprint":")" + cfp + "\"}";
    const auto api = [&](const std::string& target, const std::string& b, const std::string& station) {
        return service.handle(HttpRequest{"POST", target, b, "application/json", "", "x", station});
    };
    // Another station's device: refused, nothing mapped.
    auto other = api("/api/v1/devices/00000100/pre-enroll", body, st2);
    EXPECT_EQ(other.status, 403);
    EXPECT_EQ(message(other), "device 00000100 was provisioned by station s, not by st2: a station pre-enrolls only its own devices");
    EXPECT_EQ(reg->device(kDev)->state, DeviceState::notMapped);
    EXPECT_EQ(message(api("/api/v1/devices/00000100/pre-enroll", R"({"cip":"192.0.2.5","cport":5685})", st1)),
              "PreEnrollRequest: missing field 'cfingerprint'");
    EXPECT_EQ(api("/api/v1/devices/000001fe/pre-enroll", body, st1).status, 404);
    auto ok = api("/api/v1/devices/00000100/pre-enroll", body, st1);
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(ok.body, R"({"cfingerprint":")" + cfp + R"(","devid":"00000100","state":"pre-enrolled"})" "\n");
    EXPECT_EQ(api("/api/v1/devices/00000100/pre-enroll", body, st1).body, ok.body);  // a re-send
    auto elsewhere = api("/api/v1/devices/00000100/pre-enroll",
                         R"({"cip":"192.0.2.6","cport":5685,"cfingerprint":")" + cfp + "\"}", st1);
    EXPECT_EQ(elsewhere.status, 409);
    EXPECT_EQ(message(elsewhere), "device 00000100 is pre-enrolled to another Controller (controller 192.0.2.5 port 5685 "
                                  "fingerprint " + cfp + ")");
    // The label's holder: pre-enrolled, the Controller's fingerprint, no used-OTP warning.
    auto st = call("GET", "/.well-known/tte/status?" + cred());
    EXPECT_EQ(nlohmann::json::parse(st.body)["state"], "pre-enrolled");
    EXPECT_EQ(nlohmann::json::parse(st.body)["cfingerprint"], cfp);
    auto post = call("POST", "/.well-known/tte?" + cred() + ",cip=192.0.2.1,cport=5684,cfingerprint=" + std::string(64, 'e'));
    EXPECT_EQ(post.status, 409);
    EXPECT_EQ(message(post), "the device is pre-enrolled to Controller " + cfp + " by its manufacturer: nothing to do");
    auto page = call("GET", "/.well-known/tte?" + cred());
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("id=\"pre-enrolled\""), std::string::npos) << page.body;
    EXPECT_EQ(page.body.find("already used"), std::string::npos) << page.body;
    EXPECT_EQ(reg->device(kDev)->preEnrolledBy, "s");
    // Fetched by the device: registered, still with its Controller.
    ASSERT_TRUE(reg->markRegistered(kDev, "coap", 2));
    st = call("GET", "/.well-known/tte/status?" + cred());
    EXPECT_EQ(nlohmann::json::parse(st.body)["state"], "registered");
    EXPECT_EQ(nlohmann::json::parse(st.body)["cfingerprint"], cfp);
    EXPECT_EQ(nlohmann::json::parse(api("/api/v1/devices/00000100/pre-enroll", body, st1).body)["state"], "registered");
}

TEST_F(ServiceTest, TheMappedPageLinksToTheControllersWebAddress) {
    const std::string form = "cip=192.0.2.1&cport=5684&cfingerprint=" + std::string(64, 'c');
    auto bad = call("POST", "/.well-known/tte?" + cred(), form + "&cweb=javascript%3Aalert(1)", "198.51.100.1", "text/html");
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("cweb: must be an http:// or https:// URL"), std::string::npos) << bad.body;
    EXPECT_EQ(message(call("POST", "/.well-known/tte?" + cred(), form + "&cweb=https%3A%2F%2Fa%22b")),
              "cweb: character 0x22 at position 9 is not allowed in a URL (percent-encode it)");
    EXPECT_EQ(reg->device(kDev)->state, DeviceState::notMapped);
    auto ok = call("POST", "/.well-known/tte?" + cred(), form + "&cweb=https%3A%2F%2Fctl.example%2Fa%3Fb%3D1%26c%3D2",
                   "198.51.100.1", "text/html");
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_NE(ok.body.find("<a id=\"controller-web\" href=\"https://ctl.example/a?b=1&amp;c=2\""), std::string::npos)
        << ok.body;
}

TEST_F(ServiceTest, StationApiNeedsARegisteredCertificate) {
    EXPECT_EQ(service.handle(HttpRequest{"GET", "/api/v1/lots/lot-1", "", "", "", "x", std::nullopt}).status, 401);
    EXPECT_EQ(service.handle(HttpRequest{"GET", "/api/v1/lots/lot-1", "", "", "", "x", std::string(64, '9')}).status, 403);
}

// The protocol library's OTP-hash test vector (tests/protocol/crypto_vectors_test.cpp): a
// record uploaded by a station must be stored with exactly this hash, and the OTP must then
// open the device's status.
TEST(OtpHashVector, StationRecordIsStoredWithProtocolsOtpHash) {
    constexpr std::uint32_t kVectorDev = 0xabcdef01;
    constexpr std::uint64_t kVectorOtp = 0x123456789abcdef0ULL;
    test::TempDir dir;
    test::writeFile(dir.file("otp.key"), "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n");
    const OtpHasher hasher = OtpHasher::fromFile(dir.file("otp.key")).value();
    ASSERT_TRUE(writeSelfSignedP256(dir.file("station.key"), dir.file("station.pem"), "station-1", 1));
    const std::string stationPem = test::readText(dir.file("station.pem"));
    const std::string stationFp = protocol::fingerprintFromPem(stationPem)->hex();
    auto reg = makeMemoryRegistry();
    ASSERT_TRUE(reg->addStation(StationRow{"station-1", stationFp, stationPem, 1}));
    ASSERT_TRUE(reg->setLotQuota("lot-1", kVectorDev, kVectorDev));
    ManualClock clock;
    Metrics metrics;
    FailureLimiter limiter{*reg, clock, LimiterOptions{}};
    Service service{*reg, hasher, clock, limiter, metrics, ServiceOptions{}};
    const auto record = test::signedRecord(dir.file("station.key"), "station-1", kVectorDev, kVectorOtp,
                                             std::string(64, 'd'), 1);
    const auto upload = service.handle(HttpRequest{"POST", "/api/v1/records",
                                                   nlohmann::json{{"records", {record}}}.dump(), "application/json",
                                                   "", "192.0.2.9", stationFp});
    ASSERT_EQ(upload.status, 200) << upload.body;
    ASSERT_EQ(nlohmann::json::parse(upload.body)["results"][0]["status"], "stored") << upload.body;
    EXPECT_EQ(toHex(reg->device(kVectorDev).value().otpHash),
              "04d3931e9d0e1b2422d16843eea90981fd862833410bc5d77200aee302c121cb");
    const auto status = service.handle(HttpRequest{"GET", "/.well-known/tte/status?otp=123456789abcdef0,devid=abcdef01",
                                                   "", "", "", "192.0.2.9", std::nullopt});
    EXPECT_EQ(status.status, 200) << status.body;
}

TEST(Config, RefusesReservedMsIdsAndUnknownKeys) {
    test::TempDir dir;
    Config c;
    c.tlsCert = c.tlsKey = c.dtlsCert = c.dtlsKey = c.otpKeyFile = "x";
    EXPECT_EQ(validateConfig(c).error().message, "MS ID 0 is reserved for examples (draft 3.4); set ms_id / --ms-id");
    c.msId = 0x01000001;
    EXPECT_EQ(validateConfig(c).error().message, "MS ID 16777217: the high byte must be 0 (draft 3.4)");
    c.msId = 1;
    EXPECT_TRUE(validateConfig(c));
    c.otpKeyUri = "pkcs11:token=tte-ms;object=otp-hash";
    EXPECT_EQ(validateConfig(c).error().message,
              "the OTP-hash key: set one of otp_hash.key_file / --otp-key-file and otp_hash.key_uri / --otp-key-uri");
    c.otpKeyFile.clear();
    EXPECT_TRUE(validateConfig(c));
    c.otpKeyUri = "pkcs11:token=tte-ms";
    EXPECT_EQ(validateConfig(c).error().message,
              "otp_hash.key_uri must name the token and the key: pkcs11:token=LABEL;object=LABEL");
    c.otpKeyUri = "file:/etc/otp.key";
    EXPECT_EQ(validateConfig(c).error().code, Errc::invalidArgument);
    EXPECT_TRUE(validateConfig(c).error().message.starts_with("otp_hash.key_uri: ")) << validateConfig(c).error().message;
    c.otpKeyUri.clear();
    EXPECT_EQ(validateConfig(c).error().message,
              "the OTP-hash key: set one of otp_hash.key_file / --otp-key-file and otp_hash.key_uri / --otp-key-uri");
    c.otpKeyFile = "x";
    c.httpHandlers = 0;
    EXPECT_EQ(validateConfig(c).error().message, "https.handlers must be 1 to 1024");
    c.httpHandlers = 64;
    test::writeFile(dir.file("a.toml"), "ms_id = 1\n[https]\nlisten = \"127.0.0.1:0\"\nbogus = 1\n");
    EXPECT_EQ(loadConfigFile(dir.file("a.toml"), c).error().message, dir.file("a.toml") + ":4: https.bogus: unknown key");
    const char* src = std::getenv("TTE_SOURCE_DIR");
    Config example;
    ASSERT_TRUE(loadConfigFile(std::string(src ? src : ".") + "/config/mothership.toml", example));
    EXPECT_EQ(example.msId, 1u);
    EXPECT_EQ(example.httpThreads, 4);
    EXPECT_EQ(example.httpHandlers, 64);
    EXPECT_EQ(example.coapMaxHandshakeSessions, 500u);
    EXPECT_EQ(example.coapHandshakesPerAddressPerSecond, 8u);
    test::writeFile(dir.file("c.toml"), "ms_id = 1\n[coaps]\nhandshakes_per_address_per_s = 1000\n");
    ASSERT_TRUE(loadConfigFile(dir.file("c.toml"), c));
    EXPECT_EQ(c.coapHandshakesPerAddressPerSecond, 1000u);
    test::writeFile(dir.file("c.toml"), "ms_id = 1\n[coaps]\nhandshakes_per_address_per_s = 0\n");
    EXPECT_EQ(loadConfigFile(dir.file("c.toml"), c).error().message,
              dir.file("c.toml") + ":3: coaps.handshakes_per_address_per_s: must be 1 to 1000000, not 0");
    test::writeFile(dir.file("c.toml"), "ms_id = 1\n[coaps]\nhandshakes_per_address_per_s = 2.5\n");
    EXPECT_EQ(loadConfigFile(dir.file("c.toml"), c).error().code, Errc::invalidArgument);
    EXPECT_EQ(example.sqliteCacheMib, 256);
    test::writeFile(dir.file("b.toml"), "ms_id = 1\n[database]\nsqlite_cache_mib = 1024\n");
    ASSERT_TRUE(loadConfigFile(dir.file("b.toml"), c));
    EXPECT_EQ(c.sqliteCacheMib, 1024);
    test::writeFile(dir.file("b.toml"), "ms_id = 1\n[database]\nsqlite_cache_mib = 0\n");
    EXPECT_EQ(loadConfigFile(dir.file("b.toml"), c).error().message,
              dir.file("b.toml") + ":3: database.sqlite_cache_mib: must be 1 to 65536, not 0");
    test::writeFile(dir.file("b.toml"), "ms_id = 1\n[database]\nsqlite_cache_mib = \"256\"\n");
    EXPECT_EQ(loadConfigFile(dir.file("b.toml"), c).error().code, Errc::invalidArgument);
    c.sqliteCacheMib = 65537;
    EXPECT_EQ(validateConfig(c).error().message, "database.sqlite_cache_mib must be 1 to 65536");
}

TEST(CoapServer, RefusesADtlsKeyThatIsNotTheCertificatesOrMissing) {
    test::TempDir dir;
    ASSERT_TRUE(writeSelfSignedP256(dir.file("a.key"), dir.file("a.pem"), "a", 1));
    ASSERT_TRUE(writeSelfSignedP256(dir.file("b.key"), dir.file("b.pem"), "b", 1));
    auto reg = makeMemoryRegistry();
    ManualClock clock;
    Metrics metrics;
    auto log = std::make_shared<spdlog::logger>("coap", std::make_shared<spdlog::sinks::null_sink_mt>());
    CoapOptions o{.address = "127.0.0.1", .port = 0, .certFile = dir.file("a.pem"), .keyFile = dir.file("b.key")};
    auto mismatch = CoapServer::create(o, *reg, clock, metrics, log);
    ASSERT_FALSE(mismatch);
    EXPECT_EQ(mismatch.error().code, Errc::invalidArgument);
    EXPECT_EQ(mismatch.error().message, "cannot load the DTLS certificate " + o.certFile + " / key " + o.keyFile +
                                            " (or they do not match)");
    o.keyFile = dir.file("missing.key");
    EXPECT_FALSE(CoapServer::create(o, *reg, clock, metrics, log));
    o.keyFile = dir.file("a.key");
    auto server = CoapServer::create(o, *reg, clock, metrics, log);
    ASSERT_TRUE(server) << server.error().toString();
    EXPECT_NE((*server)->port(), 0);
}

}  // namespace
}  // namespace tte::mothership
