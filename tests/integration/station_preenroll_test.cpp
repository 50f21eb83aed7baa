// Pre-enrolled lots with the real parts (issue 22): tte-provision runs a lot that names a real
// tte-controller; its uploader maps each device through the MotherShip's station API (mutual TLS,
// the station's token key) instead of spending the label's OTP, and introduces it to the
// Controller. The installer who scans such a label is told "pre-enrolled to Controller <fp>"
// (tte-introducer exits 0, no warning), the MotherShip's page says so in words, the device's
// first boot leads it to that Controller (registered there), and another station may not map
// the devices of this one.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/sites.h"
#include "support/station_site.h"
#include "tte/client/https_client.h"

namespace tte {
namespace {

using nlohmann::json;
using test::SimDevice;
using test::StationSite;

std::string queryOf(const SimDevice& d) { return d.enrollmentUrl.substr(d.enrollmentUrl.find('?') + 1); }

test::HttpResult msCall(StationSite& site, test::HttpCall call) {
    return test::https(site.mothership()->httpsPort(), site.caCert().string(), call);
}

json msStatus(StationSite& site, const SimDevice& d) {
    auto r = msCall(site, {"GET", "/.well-known/tte/status?" + queryOf(d), "", "", "", "", ""});
    EXPECT_EQ(r.status, 200) << r.body << r.error;
    return json::parse(r.body, nullptr, false);
}

TEST(StationPreEnroll, ThePreEnrolledLabelSaysSoAndTheDeviceReachesItsController) {
    StationSite site({.devices = 3, .slots = 1});
    auto ctl = test::startController(site.path("."), "controller", {"--no-status-queries"});
    ASSERT_FALSE(ctl.fingerprint.empty());
    const auto colon = ctl.coaps.rfind(':');
    site.setExtraConfig("[controller]\naddress = \"" + ctl.coaps.substr(0, colon) + "\"\nport = " +
                        ctl.coaps.substr(colon + 1) + "\nfingerprint = \"" + ctl.fingerprint + "\"\nurl = \"https://" +
                        ctl.https + "\"\n");
    ASSERT_EQ(site.setUp(), "");
    auto run = site.provision({"run", "--count", "2"});
    ASSERT_EQ(run.code, 0) << run.out << run.err;
    const auto devices = site.provisionedDevices();
    ASSERT_EQ(devices.size(), 2u);
    const SimDevice& d = devices.front();

    // Mapped through the station API: the OTP is unspent, the status says pre-enrolled.
    auto st = msStatus(site, d);
    EXPECT_EQ(st["state"], "pre-enrolled") << st;
    EXPECT_EQ(st["cfingerprint"], ctl.fingerprint) << st;
    std::map<std::string, int> events;
    const auto show = json::parse(site.msAdmin({"show", "--devid", d.devIdHex}).out);
    for (const auto& e : show["audit"]) ++events[e["event"].get<std::string>()];
    EXPECT_EQ(events["pre-enrolled"], 1) << show;
    EXPECT_EQ(events["mapped"], 0) << show;  // no claim with the label's OTP
    EXPECT_EQ(show["preenrolled_by"], "st1") << show;

    // The installer scans the label: no Controller of their own needed, no warning, exit 0.
    auto scan = site.introduce(d.devIdHex, {});
    EXPECT_EQ(scan.code, 0) << scan.out << scan.err;
    EXPECT_NE(scan.out.find("pre-enrolled to Controller " + ctl.fingerprint + "\n"), std::string::npos) << scan.out;
    EXPECT_EQ(scan.err, "");
    // One who gives a Controller anyway (the POST answers 409) is told the same.
    auto withController = site.introduce(
        d.devIdHex, {"--controller", "192.0.2.1:5684", "--controller-fingerprint", std::string(64, 'e')},
        "introducer-with-controller");
    EXPECT_EQ(withController.code, 0) << withController.out << withController.err;
    EXPECT_NE(withController.out.find("pre-enrolled to Controller " + ctl.fingerprint), std::string::npos) << withController.out;
    EXPECT_EQ(withController.err.find("WARNING"), std::string::npos) << withController.err;

    // The page says it in words a customer understands.
    auto page = msCall(site, {"GET", "/.well-known/tte?" + queryOf(d), "", "", "text/html", "", ""});
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("id=\"pre-enrolled\""), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("Nothing to do: this device was set up for you by the manufacturer."), std::string::npos);
    EXPECT_NE(page.body.find(ctl.fingerprint), std::string::npos);
    EXPECT_EQ(page.body.find("already used"), std::string::npos);

    // The device's first boot: the MotherShip leads it to the Controller, which was introduced.
    auto boot = test::run({(test::binDir() / "tte-device").string(), "run", "--flash", d.flash.string(), "--timeout-ms",
                           "4000", "--retry-base-ms", "200", "--retry-cap-ms", "1000", "--max-attempts", "4"},
                          site.path("."), "device", std::chrono::seconds(60));
    ASSERT_EQ(boot.code, 0) << boot.out << boot.err;
    EXPECT_NE(boot.out.find("boot 1: outcome=checked-in controller=" + ctl.coaps), std::string::npos) << boot.out;
    auto list = client::httpsRequest(client::HttpsOptions::pinned(ctl.fingerprint, std::chrono::seconds(10)), "GET",
                                     "https://" + ctl.https + "/tte/v1/devices");
    ASSERT_TRUE(list) << list.error().toString();
    bool registered = false;
    const json listedDevices = json::parse(list->body)["devices"];
    for (const auto& listed : listedDevices)
        if (listed["urn"] == d.urn) registered = listed["state"] == "registered";
    EXPECT_TRUE(registered) << list->body;
    // Registered now, and still told as pre-enrolled.
    st = msStatus(site, d);
    EXPECT_EQ(st["state"], "registered") << st;
    EXPECT_EQ(st["cfingerprint"], ctl.fingerprint) << st;
    auto again = site.introduce(d.devIdHex, {}, "introducer-again");
    EXPECT_EQ(again.code, 0) << again.out << again.err;
    EXPECT_NE(again.out.find("pre-enrolled to Controller " + ctl.fingerprint), std::string::npos) << again.out;

    // The station API: only the station's own devices; the same mapping again is no change.
    ASSERT_EQ(site.addStation("st2"), "");
    const std::string body = "{\"cip\":\"192.0.2.1\",\"cport\":5684,\"cfingerprint\":\"" + std::string(64, 'e') + "\"}";
    const std::string path = "/api/v1/devices/" + devices.back().devIdHex + "/pre-enroll";
    auto other = msCall(site, {"POST", path, body, "application/json", "", site.path("station/st2.pem").string(),
                               site.path("station/st2.key").string()});
    EXPECT_EQ(other.status, 403) << other.body << other.error;
    EXPECT_EQ(json::parse(other.body, nullptr, false)["message"],
              "device " + devices.back().devIdHex + " was provisioned by station st1, not by st2: a station pre-enrolls only "
              "its own devices");
    auto elsewhere = msCall(site, {"POST", path, body, "application/json", "", site.path("station/station.pem").string(),
                                   site.path("station/station.key").string()});
    EXPECT_EQ(elsewhere.status, 409) << elsewhere.body << elsewhere.error;
    EXPECT_NE(elsewhere.body.find("is pre-enrolled to another Controller"), std::string::npos) << elsewhere.body;
    EXPECT_EQ(msStatus(site, devices.back())["cfingerprint"], ctl.fingerprint);
}

}  // namespace
}  // namespace tte
