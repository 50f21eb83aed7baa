// The MotherShip against real parts (the suite of server_suite.h): revoking devices – a
// station revoking its own, and refused for bad input or another station's device; the admin
// revoking a device, a box or a lot; a reworked board's record, stored only once the device it
// replaces is revoked. The suite is instantiated in server_integration_test.cpp.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "server_suite.h"
#include "tte/protocol/station_messages.h"

namespace tte::test {
namespace {

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

}  // namespace
}  // namespace tte::test
