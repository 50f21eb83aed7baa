// The pipeline against fakes: 20 devices over 4 slots, lot checks, failures that burn the
// Dev ID, crash recovery, quota exhaustion, no secret in the journal.
#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "support/fakes/station_site.h"
#include "tte/base/hex.h"
#include "tte/protocol/crypto.h"

namespace tte::station {
namespace {

using testing::Site;

std::string fileText(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Pipeline, ProvisionsTwentyDevicesOverFourSlots) {
    Site site;
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    std::vector<SlotEvent> events;
    std::mutex m;
    site.pipeline->setObserver([&](const SlotEvent& e) {
        std::lock_guard lock(m);
        events.push_back(e);
    });
    auto r = site.pipeline->run(0, 4, {});
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 20);
    EXPECT_EQ(r->failed, 0);
    const auto journalled = std::count_if(events.begin(), events.end(), [](const SlotEvent& e) { return !e.transient(); });
    EXPECT_EQ(journalled, 20 * 7);  // allocated, keyed, flashed, locked, printing, labelled, committed
    // and the seats' progress: flashing 0, ½, all; verifying ½, all; locking (the fake's reports)
    EXPECT_EQ(events.size() - static_cast<std::size_t>(journalled), 20u * 6);

    ASSERT_TRUE(site.uploader->drain(std::chrono::seconds(1)));
    EXPECT_EQ(site.ms->records.size(), 20u);
    // Every label carries its device's Dev ID and the OTP the MotherShip received.
    ASSERT_EQ(site.printer.printed.size(), 20u);
    std::set<std::string> urls;
    for (const auto& [devId, otp] : site.ms->otpByDevId)
        urls.insert("https://tte-000001.net/.well-known/tte?otp=" + otp + ",devid=" + toHex(devId, 8));
    for (const auto& [job, url] : site.printer.printed) EXPECT_TRUE(urls.contains(url)) << url;
    // Dev IDs 0x100..0x113, each once.
    std::set<std::uint32_t> ids;
    for (const auto& [devId, otp] : site.ms->otpByDevId) ids.insert(devId);
    EXPECT_EQ(ids.size(), 20u);
    EXPECT_EQ(*ids.begin(), 0x100u);
    EXPECT_EQ(*ids.rbegin(), 0x113u);
    // The flash of each device holds the block for its Dev ID, after the firmware.
    for (const auto& [port, mem] : site.flasher->flash) {
        ASSERT_TRUE(mem.contains(0x08000000));
        ASSERT_TRUE(mem.contains(0x08008000));
        EXPECT_EQ(mem.at(0x0800C000), std::vector<std::uint8_t>(kNvmSize, 0xff));
    }
    auto v = site.journal->verify();
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok());
    auto b = site.uploader->backlog();
    EXPECT_EQ(b->pending, 0);
    EXPECT_EQ(b->done, 20);
    // A second run finds nothing left to do.
    auto again = site.pipeline->run(0, 4, {});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->committed, 0);
}

TEST(Pipeline, JournalFileHoldsNoOtpOrKey) {
    Site site("", "", 3);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_TRUE(site.pipeline->run(0, 1, {}));
    ASSERT_TRUE(site.uploader->drain(std::chrono::seconds(1)));
    site.journal.reset();  // checkpoint and close
    const std::string db = fileText(site.config.database) + fileText(site.config.database + "-wal");
    ASSERT_EQ(site.keys.issuedOtps.size(), 3u);
    for (const auto& otp : site.keys.issuedOtps) {
        EXPECT_EQ(db.find(otp), std::string::npos);
        auto raw = *fromHex(otp, "otp");
        EXPECT_EQ(db.find(std::string(raw.begin(), raw.end())), std::string::npos);
    }
}

TEST(Pipeline, RecordsAreSignedByTheStationAndChained) {
    Site site("", "", 2);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_TRUE(site.pipeline->run(0, 1, {}));
    ASSERT_TRUE(site.uploader->drain(std::chrono::seconds(1)));
    auto entries = *site.journal->entries();
    for (const auto& e : entries) {
        if (e.kind != "committed") continue;
        const auto& rec = e.body["record"];
        EXPECT_EQ(rec["record_id"], "st1-" + std::to_string(e.seq));
        EXPECT_EQ(rec["prev"], e.prev);
        EXPECT_FALSE(rec.contains("otp"));
        EXPECT_EQ(rec["lot"], "lot-a");
        EXPECT_TRUE(rec["box"].is_null());
        EXPECT_TRUE(site.ms->records.contains(rec["record_id"]));
    }
}

TEST(Pipeline, RefusesALotThatDoesNotCheckOut) {
    {
        Site site("firmware_sha256 = \"" + std::string(64, 'a') + "\"");
        auto s = site.pipeline->openLot(*site.ms->lotQuota("lot-a"));
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().code, Errc::corrupt);
        EXPECT_EQ(s.error().message, "lot lot-a: firmware " + site.dir + "/fw.dfu has SHA-256 " +
                                         protocol::sha256Hex(std::string(1024, 'F')) + ", the lot pins " + std::string(64, 'a'));
    }
    {
        Site site;
        auto s = site.pipeline->openLot(protocol::LotQuota{"lot-a", protocol::DevId{0x180}, protocol::DevId{0x2ff}, 0});
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().code, Errc::outOfRange);
        EXPECT_EQ(s.error().message,
                  "lot lot-a: Dev IDs 00000100..000001ff are outside the MotherShip's quota 00000180..000002ff");
    }
    {
        Site site;
        auto s = site.pipeline->openLot(std::nullopt);
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().code, Errc::unavailable);
        EXPECT_EQ(s.error().message,
                  "lot lot-a: the MotherShip's quota cannot be checked (unreachable) and was never checked before");
        // Once checked, a later opening with the MotherShip down uses the journalled quota.
        ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
        site.reopen();
        EXPECT_TRUE(site.pipeline->openLot(std::nullopt));
    }
    {
        Site site;
        std::filesystem::remove(site.dir + "/fw.dfu");
        auto s = site.pipeline->openLot(*site.ms->lotQuota("lot-a"));
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().message, "lot lot-a: firmware " + site.dir + "/fw.dfu: cannot read " + site.dir + "/fw.dfu");
    }
    {
        Site site;
        std::ofstream(site.dir + "/fw.dfu") << std::string(40000, 'F');  // past 0x08008000
        auto s = site.pipeline->openLot(*site.ms->lotQuota("lot-a"));
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().message, "lot lot-a: firmware overlaps the provisioning block and NVM sectors at 0x08008000");
    }
    {
        std::string zero(64, '0');
        Site site;
        site.config.lot.msFingerprint = zero;
        auto s = site.pipeline->openLot(*site.ms->lotQuota("lot-a"));
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().message, "lot lot-a: the MotherShip fingerprint is all zero");
    }
}

TEST(Pipeline, AFailedFlashBurnsTheDevIdAndQueuesNothing) {
    Site site("", "", 3);
    site.flasher->failPorts.insert("1-2");
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    auto r = site.pipeline->run(0, 1, {});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->committed, 2);
    EXPECT_EQ(r->failed, 1);
    ASSERT_EQ(r->failures.size(), 1u);
    EXPECT_EQ(r->failures[0], "1-2: flash: read-back differs at 0x08008010");
    ASSERT_TRUE(site.uploader->drain(std::chrono::seconds(1)));
    EXPECT_EQ(site.ms->records.size(), 2u);
    EXPECT_FALSE(site.ms->otpByDevId.contains(0x101));  // burned: never live
    EXPECT_TRUE(site.ms->otpByDevId.contains(0x102));
    auto e = *site.journal->entries(0x101);
    EXPECT_EQ(e.back().kind, "failed");
    EXPECT_EQ(e.back().body["step"], "flash");
    // The failed port is not provisioned again until reworked.
    auto fresh = site.pipeline->freshPorts({"1-1", "1-2", "1-3"});
    EXPECT_TRUE(fresh->empty());
}

TEST(Pipeline, TheNextDeviceInASlotIsProvisionedAfterTheCommittedOne) {
    Site site("", "", 2);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_EQ(site.pipeline->run(0, 2, {})->committed, 2);
    // The provisioned devices are still in their slots: nothing to do.
    EXPECT_TRUE(site.pipeline->freshPorts({"1-1", "1-2"})->empty());
    // The operator takes the device out of slot 1-2 and puts a blank one in.
    site.flasher->replace("1-2");
    auto r = site.pipeline->run(0, 2, {});
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 1);
    auto e = *site.journal->entries(0x102);
    ASSERT_FALSE(e.empty());
    EXPECT_EQ(e.front().body["port"], "1-2");
    EXPECT_EQ(e.back().kind, "committed");
    EXPECT_TRUE(site.pipeline->freshPorts({"1-1", "1-2"})->empty());
}

TEST(Pipeline, ASmudgedLabelFailsScanBack) {
    Site site("", "", 1);
    site.printer.smudge = true;
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    auto d = site.pipeline->provision("1-1");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().message, "scan-back: the scanned label does not carry this device's Enrollment URL");
    EXPECT_TRUE(site.journal->duePending("record", 10)->empty());
}

TEST(Pipeline, NeverMoreDevicesThanTheQuota) {
    Site site("", "", 5);
    site.config.lot.lastDevId = 0x102;
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    auto r = site.pipeline->run(0, 2, {});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->committed, 3);
    ASSERT_FALSE(r->failures.empty());
    EXPECT_EQ(r->failures.back(), "stopped: lot lot-a: the Dev ID quota 00000100..00000102 is used up");
}

TEST(Pipeline, RecoveryFailsInterruptedDevicesAndNeverReusesTheirDevIds) {
    Site site("", "", 4);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    // A crash right after "flashed": simulate by stopping the state machine via the hook.
    struct Crash {};
    site.pipeline->setFaultHook([](std::string_view point, std::uint32_t devId) {
        if (point == "flashed" && devId == 0x101) throw Crash{};
    });
    ASSERT_TRUE(site.pipeline->provision("1-1"));
    EXPECT_THROW((void)site.pipeline->provision("1-2"), Crash);
    site.reopen();  // restart
    ASSERT_TRUE(site.pipeline->openLot(std::nullopt));
    auto n = site.pipeline->recover();
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1);
    auto e = *site.journal->entries(0x101);
    EXPECT_EQ(e.back().kind, "failed");
    EXPECT_EQ(e.back().body["reason"], "station stopped during this step (interrupted after flashed)");
    auto r = site.pipeline->run(0, 2, {});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->committed, 2);  // 1-3 and 1-4 get 0x102 and 0x103
    ASSERT_TRUE(site.uploader->drain(std::chrono::seconds(1)));
    EXPECT_EQ(site.ms->records.size(), 3u);
    EXPECT_FALSE(site.ms->otpByDevId.contains(0x101));
    EXPECT_TRUE(site.ms->otpByDevId.contains(0x103));
    EXPECT_TRUE(site.journal->verify()->ok());
}

TEST(Pipeline, BulkLotDerivesOtpsPerBox) {
    Site site("box_size = 2", "", 3);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_TRUE(site.pipeline->run(0, 1, {}));
    ASSERT_TRUE(site.uploader->drain(std::chrono::seconds(1)));
    auto expected = site.keys.bulkOtp(1, 0x102);
    EXPECT_EQ(site.ms->otpByDevId[0x102], toHex(expected->bytes()));
    auto e = *site.journal->entries(0x102);
    for (const auto& entry : e) {
        if (entry.kind == "committed") {
            EXPECT_EQ(entry.body["record"]["box"], "00000001");
        }
    }
}

}  // namespace
}  // namespace tte::station
