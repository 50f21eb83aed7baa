// ControllerService over a real in-memory SQLite store and a manual clock: introductions
// (msg 6), the device list, check-in decisions (msg 11/12) and their exact errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tte/controller/service.h"
#include "tte/controller/store.h"
#include "tte/protocol/controller_messages.h"

namespace tte::controller {
namespace {

using nlohmann::json;

const std::string kUrn = "urn:dev:ops:32473-Thermo-00000000abcdef01";
const std::string kFp = std::string(64, 'a');

std::string intro(json changes = json::object()) {
    json doc = {{"urn", kUrn}, {"fingerprint", kFp}, {"otp", "123456789abcdef0"},
                {"devid", "abcdef01"}, {"ms", "tte-000001.net"}, {"description", "BLD30/2/361 - Thermostat"}};
    doc.merge_patch(changes);
    return doc.dump();
}

HttpRequest get(std::string target) { return {"GET", std::move(target), "", "", "", "192.0.2.1", {}}; }

std::string cbor(const json& doc) {
    auto bytes = json::to_cbor(doc);
    return std::string(bytes.begin(), bytes.end());
}

class ServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = DeviceStore::open(":memory:");
        ASSERT_TRUE(s) << s.error().toString();
        store = std::move(*s);
        service = std::make_unique<ControllerService>(*store, clock, ServiceOptions{std::chrono::seconds(3600), false});
    }
    ManualClock clock;
    std::unique_ptr<DeviceStore> store;
    std::unique_ptr<ControllerService> service;
};

TEST_F(ServiceTest, IntroductionIsStoredAndListed) {
    auto a = service->handle({"POST", "/tte/v1/introductions", intro(), "application/json", "", "192.0.2.1", {}});
    ASSERT_EQ(a.status, 201) << a.body;
    auto device = protocol::ControllerDevice::fromJson(a.body);  // the protocol's own document
    ASSERT_TRUE(device) << device.error().message;
    EXPECT_EQ(device->devId, protocol::DevId{0xabcdef01});
    EXPECT_EQ(device->ms, protocol::MsId{1});
    EXPECT_FALSE(device->msState);
    ASSERT_TRUE(protocol::DeviceList::fromJson(service->devices().body));
    auto stored = json::parse(a.body);
    EXPECT_EQ(stored["state"], "introduced");
    EXPECT_EQ(stored["description"], "BLD30/2/361 - Thermostat");
    EXPECT_FALSE(stored.contains("otp")) << "the OTP is never echoed";
    auto list = json::parse(service->handle(get("/tte/v1/devices")).body);
    ASSERT_EQ(list["devices"].size(), 1u);
    EXPECT_EQ(list["devices"][0]["urn"], kUrn);
    EXPECT_EQ(list["devices"][0]["fingerprint"], kFp);
}

TEST_F(ServiceTest, SameIntroductionTwiceIsIdempotent) {
    ASSERT_EQ(service->introduce(intro()).status, 201);
    auto again = service->introduce(intro({{"description", "moved"}}));
    EXPECT_EQ(again.status, 201);
    EXPECT_EQ(json::parse(again.body)["description"], "moved");
}

TEST_F(ServiceTest, BadIntroductionsNameTheProblem) {
    struct Case {
        std::string body;
        std::string message;
    };
    std::vector<Case> cases = {
        {"not json", "Introduction: invalid JSON at byte 2"},
        {json{{"fingerprint", kFp}}.dump(), "Introduction: missing field 'urn'"},
        {intro({{"otp", 5}}), "Introduction: field 'otp' must be a string"},
        {intro({{"urn", "urn:dev:mac:0024befffe804ff1"}}), "Introduction: field 'urn': Dev URN: expected prefix urn:dev:ops:"},
        {intro({{"fingerprint", "abc"}}), "Introduction: field 'fingerprint': fingerprint: expected 64 hex digits, got 3"},
        {intro({{"otp", "12345678"}}), "Introduction: field 'otp': otp: expected 16 hex digits, got 8"},
        {intro({{"devid", "abcdef02"}}), "Introduction: devid abcdef02 does not match the URN's abcdef01"},
        {intro({{"ms", "tte-000000.net"}}), "Introduction: field 'ms': MS ID 0 is reserved for examples"},
        {intro({{"ms", "example.com"}}),
         "Introduction: field 'ms': MotherShip host name: expected tte-<6 hex digits>.net, got 'example.com'"},
        {intro({{"description", std::string(201, 'x')}}), "Introduction: field 'description': longer than 200 bytes"},
        {intro({{"extra", 1}}), "Introduction: unknown field 'extra'"},
    };
    for (const auto& c : cases) {
        auto a = service->introduce(c.body);
        EXPECT_EQ(a.status, 400) << c.body;
        EXPECT_EQ(json::parse(a.body)["message"], c.message) << c.body;
        EXPECT_EQ(json::parse(a.body)["error"], "invalid-argument");
    }
    EXPECT_EQ(json::parse(service->devices().body)["devices"].size(), 0u);
}

TEST_F(ServiceTest, SameUrnWithAnotherFingerprintConflicts) {
    ASSERT_EQ(service->introduce(intro()).status, 201);
    auto a = service->introduce(intro({{"fingerprint", std::string(64, 'b')}}));
    EXPECT_EQ(a.status, 409);
    EXPECT_EQ(json::parse(a.body)["message"], kUrn + " is already introduced with another fingerprint");
}

TEST_F(ServiceTest, RoutingAnswers404And405) {
    EXPECT_EQ(service->handle(get("/nope")).status, 404);
    EXPECT_EQ(service->handle(get("/tte/v1/introductions")).status, 405);
    EXPECT_EQ(service->handle(get("/healthz")).status, 200);
}

TEST_F(ServiceTest, IntroducedDeviceChecksIn) {
    ASSERT_EQ(service->introduce(intro()).status, 201);
    auto a = service->checkin(kFp, cbor({{"urn", kUrn}}));
    EXPECT_EQ(a.code, 204) << a.payload;
    auto list = json::parse(service->devices().body);
    EXPECT_EQ(list["devices"][0]["state"], "registered");
    EXPECT_FALSE(list["devices"][0]["last_seen"].is_null());
    EXPECT_NE(service->metrics().find("tte_controller_checkins_total 1\n"), std::string::npos);
}

TEST_F(ServiceTest, UnintroducedDeviceIsToldNotYet) {
    auto a = service->checkin(kFp, cbor({{"urn", kUrn}}));
    EXPECT_EQ(a.code, 404);
    EXPECT_EQ(a.payload, "not introduced yet: no introduction for this device key");
    EXPECT_EQ(json::parse(service->devices().body)["devices"].size(), 0u);
    // A late message 6 takes effect at the device's next try.
    ASSERT_EQ(service->introduce(intro()).status, 201);
    EXPECT_EQ(service->checkin(kFp, cbor({{"urn", kUrn}})).code, 204);
}

TEST_F(ServiceTest, AKeyThatIsNotTheIntroducedOneIsToldApart) {
    ASSERT_EQ(service->introduce(intro()).status, 201);
    auto a = service->checkin(std::string(64, 'b'), cbor({{"urn", kUrn}}));
    EXPECT_EQ(a.code, 403);
    EXPECT_EQ(a.payload, "wrong key: the urn was introduced with another device key");
    EXPECT_EQ(json::parse(service->devices().body)["devices"][0]["state"], "introduced");
    EXPECT_NE(service->metrics().find("tte_controller_checkins_refused_total 1\n"), std::string::npos);
}

TEST_F(ServiceTest, UnintroducedDeviceIsAcceptedWhenConfigured) {
    ControllerService open(*store, clock, ServiceOptions{std::chrono::seconds(3600), true});
    EXPECT_EQ(open.checkin(kFp, cbor({{"urn", kUrn}})).code, 204);
    auto list = json::parse(open.devices().body);
    EXPECT_EQ(list["devices"][0]["state"], "registered");
    EXPECT_EQ(list["devices"][0]["introduced"], false);
}

TEST_F(ServiceTest, ExpiredIntroductionIsRefused) {
    ASSERT_EQ(service->introduce(intro()).status, 201);
    clock.advance(std::chrono::seconds(3600));
    EXPECT_EQ(json::parse(service->devices().body)["devices"][0]["state"], "expired");
    auto a = service->checkin(kFp, cbor({{"urn", kUrn}}));
    EXPECT_EQ(a.code, 403);
    EXPECT_EQ(a.payload, "introduction expired");
}

TEST_F(ServiceTest, RegisteredDeviceOutlivesTheTtl) {
    ASSERT_EQ(service->introduce(intro()).status, 201);
    ASSERT_EQ(service->checkin(kFp, cbor({{"urn", kUrn}})).code, 204);
    clock.advance(std::chrono::hours(24 * 365));
    EXPECT_EQ(service->checkin(kFp, cbor({{"urn", kUrn}})).code, 204);
}

TEST_F(ServiceTest, CheckinWithAnotherUrnOrBadPayloadIsRefused) {
    ASSERT_EQ(service->introduce(intro()).status, 201);
    auto other = service->checkin(kFp, cbor({{"urn", "urn:dev:ops:32473-Thermo-00000000abcdef02"}}));
    EXPECT_EQ(other.code, 403);
    EXPECT_EQ(other.payload, "urn does not match the introduced device key");
    auto junk = service->checkin(kFp, "\xff\x00");
    EXPECT_EQ(junk.code, 400);
    EXPECT_EQ(junk.payload, "Checkin: invalid CBOR");
    auto badUrn = service->checkin(kFp, cbor({{"urn", "urn:x"}}));
    EXPECT_EQ(badUrn.code, 400);
    EXPECT_EQ(badUrn.payload, "Checkin: field 'urn': Dev URN: expected prefix urn:dev:ops:");
}

}  // namespace
}  // namespace tte::controller
