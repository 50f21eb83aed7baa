// The production line with the real parts (issue 10): `tte-provision run` provisions twenty
// simulated STM32F405 devices over four slots with a SoftHSM token, a private cupsd and a real
// tte-mothership. Every label decodes to its device's Enrollment URL, the MotherShip holds
// twenty live records whose OTP is the label's, the journal verifies, every flash image read
// back from its device boots in QEMU with its identity, and one device enrolls end to end
// from its label. Then the MotherShip goes down during a run: records queue (status shows the
// backlog) and go live exactly once after it is back and the station syncs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <future>
#include <map>
#include <set>
#include <sstream>

#include "support/qemu.h"
#include "support/sites.h"
#include "support/station_site.h"
#include "tte/client/https_client.h"

namespace tte {
namespace {

using nlohmann::json;
using test::SimDevice;
using test::StationSite;

using test::zbar;
using test::zbarPdf;

/// GET /.well-known/tte/status with a label's OTP: the MotherShip's state for that device.
std::string msState(StationSite& site, const SimDevice& d) {
    const auto query = d.enrollmentUrl.substr(d.enrollmentUrl.find('?') + 1);
    auto r = test::https(site.mothership()->httpsPort(), site.caCert().string(),
                           {"GET", "/.well-known/tte/status?" + query, "", "", "", "", ""});
    if (r.status != 200) return "http " + std::to_string(r.status) + " " + r.body + r.error;
    return json::parse(r.body)["state"].get<std::string>();
}

std::map<std::string, json> byDevId(const std::vector<json>& records) {
    std::map<std::string, json> out;
    for (const auto& r : records) out[r["devid"].get<std::string>()] = r;
    return out;
}

/// Reads each device's whole flash back through the simulated DfuSe bootloader (tte-flash
/// read), as the demo keeps flash/<devid>.bin.
test::fs::path readBack(StationSite& site, const SimDevice& d) {
    const auto out = site.path("flash") / (d.devIdHex + ".bin");
    test::fs::create_directories(out.parent_path());
    auto r = test::run({(test::binDir() / "tte-flash").string(), "--sim", site.path("sim").string(), "read", "--address",
                        "0x08000000", "--length", "1048576", "-o", out.string(), "--device", d.port},
                       site.path("flash"), "read-" + d.port);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    return out;
}

TEST(StationLine, TwentyDevicesOverFourSlotsWithTheRealParts) {
    StationSite site({.devices = 20, .slots = 4});
    ASSERT_EQ(site.setUp(), "");
    const auto started = std::chrono::steady_clock::now();
    auto run = site.provision({"run", "--count", "20", "--slots", "4"});
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    ASSERT_EQ(run.code, 0) << run.out << run.err;
    EXPECT_NE(run.out.find("provisioned 20, failed 0"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("upload backlog: 0 pending, 20 done, 0 rejected"), std::string::npos) << run.out;
    std::printf("tte-provision run: 20 devices over 4 slots in %lld ms\n", static_cast<long long>(took.count()));
    // The slots worked in parallel, never more than four devices between allocation and commit.
    std::set<std::string> inFlight;
    std::size_t most = 0;
    std::istringstream progress(run.out);
    for (std::string line; std::getline(progress, line);) {
        std::istringstream words(line);
        std::string port, devId, step;
        words >> port >> devId >> step;
        if (step == "allocated") inFlight.insert(devId);
        if (step == "committed") inFlight.erase(devId);
        most = std::max(most, inFlight.size());
    }
    EXPECT_GE(most, 2u) << run.out;
    EXPECT_LE(most, 4u) << run.out;

    const auto devices = site.provisionedDevices();
    ASSERT_EQ(devices.size(), 20u);
    std::set<std::string> ports;
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const auto& d = devices[i];
        ports.insert(d.port);
        EXPECT_EQ(d.devId, 0x100 + i) << "Dev IDs are allocated one after another";
        EXPECT_EQ(d.urn, "urn:dev:ops:32473-tte.line-" + d.devIdHex);
        EXPECT_EQ(d.msAddress, "127.0.0.1");
        EXPECT_EQ(d.msPort, site.mothership()->coapsPort());
        EXPECT_EQ(d.msFingerprint, site.msFingerprint());
    }
    EXPECT_EQ(ports.size(), 20u);

    // Labels: the station keeps each label as printed (the printer's document) and its PNG.
    const auto scratch = site.path("scan");
    test::fs::create_directories(scratch);
    for (const auto& d : devices) {
        EXPECT_EQ(zbar(site.labelsDir() / (d.devIdHex + ".png"), scratch), d.enrollmentUrl) << d.devIdHex;
        EXPECT_EQ(zbarPdf(site.labelsDir() / (d.devIdHex + ".pdf"), scratch), d.enrollmentUrl) << d.devIdHex;
    }
    // CUPS completed twenty jobs on the queue, and its tte-file device holds twenty documents,
    // one per job (CUPS's pdftopdf rewrites them, so not byte for byte): each decodes to the URL
    // of exactly one device, every device's URL once.
    auto jobs = test::run({"/usr/bin/lpstat", "-h", site.cups().server(), "-W", "completed", "-o", StationSite::kQueue},
                          scratch, "lpstat");
    EXPECT_EQ(std::count(jobs.out.begin(), jobs.out.end(), '\n'), 20) << jobs.out << jobs.err;
    const auto documents = site.cups().outputs(StationSite::kQueue);
    ASSERT_EQ(documents.size(), 20u);
    std::set<std::string> printedUrls;
    for (const auto& doc : documents) printedUrls.insert(zbarPdf(doc, scratch));
    std::set<std::string> deviceUrls;
    for (const auto& d : devices) deviceUrls.insert(d.enrollmentUrl);
    EXPECT_EQ(printedUrls, deviceUrls);
    // The station decoded the printed documents, and says so in its journal.
    const auto journal = site.journalEntries();
    int labelled = 0;
    for (const auto& e : journal) {
        if (e.value("kind", "") != "labelled") continue;
        ++labelled;
        const std::string from = e["body"].value("scanned_from", "");
        EXPECT_TRUE(from.starts_with("printed document " + site.cups().outputDir(StationSite::kQueue).string()))
            << from;
    }
    EXPECT_EQ(labelled, 20);

    // The MotherShip: twenty live records, each the device's key, and the OTP it hashed is
    // the label's (the public status query answers only for the right OTP).
    auto records = byDevId(site.msRecords());
    ASSERT_EQ(records.size(), 20u);
    for (const auto& d : devices) {
        ASSERT_TRUE(records.contains(d.devIdHex)) << d.devIdHex;
        const auto& rec = records[d.devIdHex];
        EXPECT_EQ(rec["state"], "not-mapped") << rec;
        EXPECT_EQ(rec["urn"], d.urn);
        EXPECT_EQ(rec["fingerprint"], d.fingerprint);
        EXPECT_EQ(rec["station"], "st1");
        EXPECT_EQ(rec["lot"], site.options().lot);
        EXPECT_EQ(msState(site, d), "not-mapped") << d.devIdHex;
    }

    auto verify = site.provision({"journal", "verify"});
    EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
    EXPECT_NE(verify.out.find("journal verifies: "), std::string::npos) << verify.out;
    auto status = site.provision({"status"});
    EXPECT_NE(status.out.find("upload backlog: 0 pending, 20 done, 0 rejected"), std::string::npos) << status.out;

    // Every image, read back through the bootloader, boots in QEMU with its own identity.
    std::vector<test::fs::path> images;
    for (const auto& d : devices) images.push_back(readBack(site, d));
    // Several QEMUs at a time (each is one TCG thread, mostly idle until its boot line).
    constexpr std::size_t kParallel = 5;
    const auto bootStart = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < devices.size(); i += kParallel) {
        std::vector<std::future<std::string>> boots;
        for (std::size_t j = i; j < std::min(devices.size(), i + kParallel); ++j) {
            boots.push_back(std::async(std::launch::async, [image = images[j]] {
                const std::string bytes = test::readText(image);
                const device::qemu::Image flash(bytes.begin(), bytes.end());
                return device::qemu::lineStarting(device::qemu::bootUntilBootLine(flash), "TTE BOOT");
            }));
        }
        for (std::size_t j = i; j < std::min(devices.size(), i + kParallel); ++j) {
            const auto& d = devices[j];
            EXPECT_EQ(boots[j - i].get(), "TTE BOOT OK ms=tte-000001.net devid=" + d.devIdHex + " urn=" + d.urn +
                                              " msfp=" + site.msFingerprint());
        }
    }
    std::printf("QEMU: 20 images booted in %lld ms\n",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - bootStart).count()));

    // One device enrolls end to end: the introducer reads its label image, introduces it to a
    // real controller; the device boots from its flash image, asks the MotherShip, checks in.
    const auto& first = devices.front();
    auto controller = test::startController(site.path("."), "controller",
                                            {"--ms-cacert", site.caCert().string(), "--ms-connect-to", site.connectTo(),
                                             "--poll-interval", "1", "--poll-backoff", "1"});
    ASSERT_FALSE(controller.fingerprint.empty());
    auto enroll = site.introduce(first.devIdHex, {"--controller", controller.coaps, "--controller-fingerprint",
                                                  controller.fingerprint, "--description", "line device", "--notify",
                                                  controller.notifyUrl()});
    ASSERT_EQ(enroll.code, 0) << enroll.out << enroll.err;
    EXPECT_EQ(msState(site, first), "mapped");
    auto boot = test::run({(test::binDir() / "tte-device").string(), "run", "--flash", images.front().string(),
                           "--timeout-ms", "4000", "--retry-base-ms", "200", "--retry-cap-ms", "1000", "--max-attempts", "4"},
                          site.path("."), "device", std::chrono::seconds(60));
    ASSERT_EQ(boot.code, 0) << boot.out << boot.err;
    EXPECT_NE(boot.out.find("boot 1: outcome=checked-in controller=" + controller.coaps), std::string::npos) << boot.out;
    EXPECT_EQ(msState(site, first), "registered");
    auto list = client::httpsRequest(client::HttpsOptions::pinned(controller.fingerprint, std::chrono::seconds(10)), "GET",
                                         "https://" + controller.https + "/tte/v1/devices");
    ASSERT_TRUE(list) << list.error().toString();
    const auto listed = json::parse(list->body)["devices"];
    ASSERT_EQ(listed.size(), 1u) << listed;
    EXPECT_EQ(listed[0]["state"], "registered") << listed;
    EXPECT_NE(listed[0].dump().find(first.devIdHex), std::string::npos) << listed;
}

TEST(StationLine, MotherShipDownRecordsQueueAndGoLiveExactlyOnce) {
    StationSite site({.devices = 8, .slots = 4});
    ASSERT_EQ(site.setUp(), "");
    // The lot is opened once with the MotherShip up: its quota is journalled.
    auto up = site.provision({"run", "--count", "2"});
    ASSERT_EQ(up.code, 0) << up.out << up.err;
    ASSERT_EQ(site.msRecords().size(), 2u);

    site.stopMotherShip();
    auto down = site.provision({"run", "--count", "4", "--drain", "0"});
    ASSERT_EQ(down.code, 0) << down.out << down.err;
    EXPECT_NE(down.out.find("MotherShip unreachable"), std::string::npos) << down.out;
    EXPECT_NE(down.out.find("provisioned 4, failed 0"), std::string::npos) << down.out;
    auto status = site.provision({"status"});
    EXPECT_EQ(status.code, 0) << status.err;
    EXPECT_NE(status.out.find("upload backlog: 4 pending, 2 done, 0 rejected"), std::string::npos) << status.out;
    EXPECT_EQ(site.msRecords().size(), 2u) << "nothing reached the MotherShip while it was down";
    // A sync while it is down gives up after its timeout, says why, and keeps the backlog.
    auto early = site.provision({"sync", "--timeout", "1"});
    EXPECT_EQ(early.code, 1) << early.out << early.err;
    EXPECT_NE(early.err.find("4 items still queued (last error: "), std::string::npos) << early.err;
    EXPECT_NE(early.err.find("Couldn't connect to server"), std::string::npos) << early.err;
    EXPECT_NE(early.out.find("upload backlog: 4 pending, 2 done, 0 rejected"), std::string::npos) << early.out;

    ASSERT_EQ(site.startMotherShip(), "");
    const auto started = std::chrono::steady_clock::now();
    auto sync = site.provision({"sync", "--timeout", "20"});
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(sync.code, 0) << sync.out << sync.err;
    EXPECT_NE(sync.out.find("upload backlog: 0 pending, 6 done, 0 rejected"), std::string::npos) << sync.out;
    EXPECT_LT(took, std::chrono::seconds(10)) << "records live within seconds";

    // Exactly once: six records, one per device; a second sync changes nothing.
    auto again = site.provision({"sync", "--timeout", "5"});
    EXPECT_EQ(again.code, 0) << again.err;
    const auto devices = site.provisionedDevices();
    ASSERT_EQ(devices.size(), 6u);
    auto records = site.msRecords();
    ASSERT_EQ(records.size(), 6u);
    auto map = byDevId(records);
    for (const auto& d : devices) {
        ASSERT_TRUE(map.contains(d.devIdHex)) << d.devIdHex;
        EXPECT_EQ(map[d.devIdHex]["fingerprint"], d.fingerprint);
        EXPECT_EQ(msState(site, d), "not-mapped") << d.devIdHex;
    }
    auto journal = site.provision({"journal", "export"});
    ASSERT_EQ(journal.code, 0) << journal.err;
    std::map<std::uint32_t, int> live;
    std::istringstream lines(journal.out);
    for (std::string line; std::getline(lines, line);) {
        auto e = json::parse(line, nullptr, false);
        if (!e.is_discarded() && e.value("kind", "") == "live") ++live[e["devid"].get<std::uint32_t>()];
    }
    EXPECT_EQ(live.size(), 6u) << journal.out;
    for (const auto& [devId, n] : live) EXPECT_EQ(n, 1) << devId;
    auto reconcile = site.provision({"reconcile"});
    EXPECT_EQ(reconcile.code, 0) << reconcile.out << reconcile.err;
    auto verify = site.provision({"journal", "verify"});
    EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace tte
