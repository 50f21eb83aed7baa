// Rework of a live device with the real parts (issue 22): `tte-provision rework --devid D`
// revokes D at a real tte-mothership through the station API (mutual TLS, the station's token
// key), then provisions the same simulated board as a new device. The old identity's OTP and
// key are refused everywhere (status `revoked`, mapping POST 404 as for an unknown device, the
// device's own CoAP request 4.03), the new identity enrolls end to end (introducer, Controller,
// tte-device), and the link old → new is in the journal and at the MotherShip. With the
// MotherShip down the rework changes nothing and says why.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

#include "support/sites.h"
#include "support/station_site.h"

namespace tte {
namespace {

using nlohmann::json;
using test::SimDevice;
using test::StationSite;

const std::string kControllerFp(64, 'c');

std::string queryOf(const SimDevice& d) { return d.enrollmentUrl.substr(d.enrollmentUrl.find('?') + 1); }

test::HttpResult msCall(StationSite& site, const std::string& method, const std::string& path) {
    return test::https(site.mothership()->httpsPort(), site.caCert().string(), {method, path, "", "", "", "", ""});
}

/// The MotherShip's state for a device, asked with its label's OTP (status query).
std::string msState(StationSite& site, const SimDevice& d) {
    auto r = msCall(site, "GET", "/.well-known/tte/status?" + queryOf(d));
    if (r.status != 200) return "http " + std::to_string(r.status) + " " + r.body + r.error;
    return json::parse(r.body)["state"].get<std::string>();
}

/// tte-device's first boot from a flash image: its one-line outcome and exit code.
test::RunResult boot(StationSite& site, const test::fs::path& image, const std::string& name) {
    return test::run({(test::binDir() / "tte-device").string(), "run", "--flash", image.string(), "--timeout-ms", "4000",
                      "--retry-base-ms", "200", "--retry-cap-ms", "1000", "--max-attempts", "3"},
                     site.path("."), name, std::chrono::seconds(60));
}

std::map<std::string, json> byDevId(const std::vector<json>& records) {
    std::map<std::string, json> out;
    for (const auto& r : records) out[r["devid"].get<std::string>()] = r;
    return out;
}

TEST(StationRework, ALiveDeviceIsRevokedThenItsBoardBecomesANewDeviceThatEnrolls) {
    StationSite site({.devices = 3, .slots = 1});
    ASSERT_EQ(site.setUp(), "");
    auto run = site.provision({"run", "--count", "2"});
    ASSERT_EQ(run.code, 0) << run.out << run.err;
    auto before = site.provisionedDevices();
    ASSERT_EQ(before.size(), 2u);
    const SimDevice old = before.front();
    ASSERT_EQ(msState(site, old), "not-mapped");
    const auto oldImage = site.path("old.flash");
    test::fs::copy_file(old.flash, oldImage);

    auto rework = site.provision({"rework", "--devid", old.devIdHex, "--reason", "housing cracked"});
    ASSERT_EQ(rework.code, 0) << rework.out << rework.err;
    EXPECT_NE(rework.out.find("device " + old.devIdHex + " at " + old.port + " revoked at the MotherShip (housing cracked)"),
              std::string::npos)
        << rework.out;
    auto fresh = StationSite::readDevice(old.flash);
    ASSERT_TRUE(fresh);
    EXPECT_NE(fresh->devId, old.devId);
    EXPECT_NE(fresh->fingerprint, old.fingerprint);
    EXPECT_NE(fresh->enrollmentUrl, old.enrollmentUrl);
    EXPECT_NE(rework.out.find("device " + fresh->devIdHex + " at " + old.port + " provisioned, reworked from " + old.devIdHex),
              std::string::npos)
        << rework.out;
    EXPECT_EQ(test::zbar(site.labelsDir() / (fresh->devIdHex + ".png"), site.path(".")), fresh->enrollmentUrl);

    // The old identity is refused everywhere.
    EXPECT_EQ(msState(site, old), "revoked");
    const std::string controller = ",cip=192.0.2.1,cport=5684,cfingerprint=" + kControllerFp;
    auto mapping = msCall(site, "POST", "/.well-known/tte?" + queryOf(old) + controller);
    auto unknown = msCall(site, "POST", "/.well-known/tte?otp=0123456789abcdef,devid=000001fe" + controller);
    EXPECT_EQ(mapping.status, 404) << mapping.body;
    EXPECT_EQ(mapping.body, unknown.body);
    auto oldBoot = boot(site, oldImage, "old-device");
    EXPECT_EQ(oldBoot.code, 3) << oldBoot.out << oldBoot.err;
    EXPECT_NE(oldBoot.out.find("outcome=mothership-forbidden"), std::string::npos) << oldBoot.out;

    // The MotherShip holds the revocation and the link; the journal too.
    auto records = byDevId(site.msRecords());
    EXPECT_EQ(records.at(old.devIdHex)["state"], "revoked");
    EXPECT_EQ(records.at(old.devIdHex)["revoked_by"], "station st1");
    EXPECT_EQ(records.at(old.devIdHex)["revoke_reason"], "housing cracked");
    EXPECT_EQ(records.at(fresh->devIdHex)["reworked_from"], old.devIdHex);
    EXPECT_EQ(records.at(fresh->devIdHex)["state"], "not-mapped");
    const auto show = json::parse(site.msAdmin({"show", "--devid", old.devIdHex}).out);
    std::map<std::string, int> events;
    for (const auto& e : show["audit"]) ++events[e["event"].get<std::string>()];
    EXPECT_EQ(events["revoked"], 1);
    EXPECT_EQ(events["claim-revoked"], 1);
    EXPECT_GE(events["coap-revoked"], 1);  // the old key's request (a retransmission may add one)
    std::vector<std::string> oldKinds;
    json allocated;
    for (const auto& e : site.journalEntries()) {
        const std::string kind = e.value("kind", "");
        if (e.value("devid", json()) == json(old.devId)) oldKinds.push_back(kind);
        if (kind == "allocated" && e.value("devid", json()) == json(fresh->devId)) allocated = e["body"];
    }
    ASSERT_GE(oldKinds.size(), 2u);
    EXPECT_EQ(oldKinds[oldKinds.size() - 2], "revoked");
    EXPECT_EQ(oldKinds.back(), "reworked");
    EXPECT_EQ(allocated.value("reworked_from", ""), old.devIdHex) << allocated;
    EXPECT_EQ(allocated.value("port", ""), old.port) << allocated;
    EXPECT_EQ(site.provision({"journal", "verify"}).code, 0);

    // The new identity enrolls end to end: its label, a real Controller, the device's boot.
    auto ctl = test::startController(site.path("."), "controller", {"--no-status-queries"});
    ASSERT_FALSE(ctl.fingerprint.empty());
    auto enroll = site.introduce(fresh->devIdHex, {"--controller", ctl.coaps, "--controller-fingerprint",
                                                   ctl.fingerprint, "--notify", ctl.notifyUrl()});
    ASSERT_EQ(enroll.code, 0) << enroll.out << enroll.err;
    auto newBoot = boot(site, old.flash, "new-device");
    ASSERT_EQ(newBoot.code, 0) << newBoot.out << newBoot.err;
    EXPECT_NE(newBoot.out.find("boot 1: outcome=checked-in controller=" + ctl.coaps), std::string::npos) << newBoot.out;
    EXPECT_EQ(msState(site, *fresh), "registered");

    // Reworking the old Dev ID again does nothing.
    auto again = site.provision({"rework", "--devid", old.devIdHex});
    EXPECT_EQ(again.code, 0) << again.out << again.err;
    EXPECT_NE(again.out.find("device " + old.devIdHex + " at " + old.port + " is already reworked"), std::string::npos)
        << again.out;
}

TEST(StationRework, WithTheMotherShipDownNothingIsProvisionedAndTheErrorSaysWhy) {
    StationSite site({.devices = 2, .slots = 1});
    ASSERT_EQ(site.setUp(), "");
    auto run = site.provision({"run", "--count", "1"});
    ASSERT_EQ(run.code, 0) << run.out << run.err;
    const SimDevice live = site.provisionedDevices().front();
    const std::string flashBefore = test::readText(live.flash);
    const auto journalBefore = site.journalEntries().size();
    site.stopMotherShip();
    auto rework = site.provision({"rework", "--devid", live.devIdHex});
    EXPECT_EQ(rework.code, 1) << rework.out << rework.err;
    EXPECT_TRUE(rework.err.starts_with("tte-provision: device " + live.devIdHex +
                                       " was not reworked: the revocation at the MotherShip failed: "))
        << rework.err;
    EXPECT_NE(rework.err.find("; nothing was provisioned"), std::string::npos) << rework.err;
    EXPECT_EQ(test::readText(live.flash), flashBefore);
    EXPECT_EQ(site.journalEntries().size(), journalBefore);
    // Back up: the record is still live and only then revoked and reworked.
    ASSERT_EQ(site.startMotherShip(), "");
    EXPECT_EQ(msState(site, live), "not-mapped");
    // Bad input: a Dev ID the journal does not know, one that is not hex.
    auto unknown = site.provision({"rework", "--devid", "000001fe"});
    EXPECT_EQ(unknown.code, 1);
    EXPECT_EQ(unknown.err, "tte-provision: the journal has no device 000001fe\n");
    auto bad = site.provision({"rework", "--devid", "1fe"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("--devid: expected 8 hex digits, got 3"), std::string::npos) << bad.err;
    auto ok = site.provision({"rework", "--devid", live.devIdHex});
    EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
    EXPECT_EQ(msState(site, live), "revoked");
    EXPECT_EQ(byDevId(site.msRecords()).at(live.devIdHex)["revoke_reason"], "reworked at station st1");
}

}  // namespace
}  // namespace tte
