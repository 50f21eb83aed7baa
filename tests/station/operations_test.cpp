// The operations tte-provision and tte-station share (operations.h): rework, reprint, the
// lot opened against the MotherShip's quota, and a run that is asked to stop.
#include <gtest/gtest.h>

#include "support/fakes/station_site.h"
#include "tte/base/hex.h"
#include "tte/station/operations.h"

namespace tte::station {
namespace {

using testing::Site;

/// A site whose lot is open and whose first `n` ports were run, `failPort` failing at flash.
void runSite(Site& site, int n, const std::string& failPort = "") {
    std::string notice;
    ASSERT_TRUE(openLotWithQuota(site.config, *site.pipeline, *site.ms, notice));
    EXPECT_EQ(notice, "");
    if (!failPort.empty()) site.flasher->failPorts = {failPort};
    ASSERT_TRUE(site.pipeline->run(n, 1, {}));  // one slot: port 1-1 gets the first Dev ID, 1-2 the next
    site.flasher->failPorts.clear();
}

TEST(Operations, ReprintPrintsTheSameUrlAndJournalsTheReason) {
    Site site;
    runSite(site, 2);
    const std::size_t before = site.printer.printed.size();
    auto printed = reprintLabel(*site.journal, site.printer, "1-2", "label torn at packing");
    ASSERT_TRUE(printed) << printed.error().toString();
    ASSERT_EQ(site.printer.printed.size(), before + 1);
    const std::string url = site.printer.printed.at(printed->job);
    EXPECT_NE(url.find("devid=00000101"), std::string::npos) << url;
    int same = 0;  // the first label and the reprint carry the same Enrollment URL (same OTP)
    for (const auto& [job, u] : site.printer.printed) same += u == url ? 1 : 0;
    EXPECT_EQ(same, 2);
    auto all = site.journal->entries();
    ASSERT_TRUE(all);
    const JournalEntry& last = all->back();
    EXPECT_EQ(last.kind, "reprinted");
    EXPECT_FALSE(last.devId.has_value());
    EXPECT_EQ(last.body["devid"], "00000101");
    EXPECT_EQ(last.body["reason"], "label torn at packing");
    // The device's own state is unchanged, and the journal verifies.
    auto dev = deviceAtPort(*site.journal, "1-2");
    ASSERT_TRUE(dev);
    EXPECT_EQ(dev->state, "committed");
    EXPECT_TRUE(site.journal->verify()->ok());
}

TEST(Operations, ReprintRefusesWithTheReason) {
    Site site;
    runSite(site, 2, "1-2");
    auto noReason = reprintLabel(*site.journal, site.printer, "1-1", "");
    ASSERT_FALSE(noReason);
    EXPECT_EQ(noReason.error().message, "reprint needs a reason");
    auto unknown = reprintLabel(*site.journal, site.printer, "9-9", "torn");
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().message, "the journal has no device at port 9-9");
    auto failed = reprintLabel(*site.journal, site.printer, "1-2", "torn");
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, Errc::conflict);
    EXPECT_EQ(failed.error().message, "device 00000101 at 1-2 has no record (failed): nothing to reprint");
    // A kept label that is not this device's (the printer's store mixed up) is not reprinted.
    site.printer.printed["job-1"] = "https://tte-000001.net/.well-known/tte?otp=0000000000000000,devid=000000ff";
    auto wrong = reprintLabel(*site.journal, site.printer, "1-1", "torn");
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().message, "device 00000100: the kept label mem:job-1 is not this device's");
}

TEST(Operations, ReworkErasesAFailedDeviceOnlyOnce) {
    Site site;
    runSite(site, 2, "1-2");
    // Two slots: which Dev ID each port got depends on the order the slots ran in.
    const std::uint32_t failedId = deviceAtPort(*site.journal, "1-2")->devId;
    const std::uint32_t liveId = deviceAtPort(*site.journal, "1-1")->devId;
    auto r = reworkDevice(*site.journal, *site.flasher, site.encoder, "1-2");
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->devId, failedId);
    EXPECT_FALSE(r->alreadyReworked);
    EXPECT_EQ(site.flasher->flash["1-2"][site.encoder.blockAddress()], std::vector<std::uint8_t>(kNvmSize, 0xff));
    auto again = reworkDevice(*site.journal, *site.flasher, site.encoder, "1-2");
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->alreadyReworked);
    // A provisioned board sent back is not erased by port: its record must be revoked first.
    auto withRecord = reworkDevice(*site.journal, *site.flasher, site.encoder, "1-1");
    ASSERT_FALSE(withRecord);
    EXPECT_EQ(withRecord.error().message,
              "device " + toHex(liveId, 8) + " at 1-1 has a record (committed): rework it with `tte-provision rework --devid " +
                  toHex(liveId, 8) + "`, which revokes it at the MotherShip first");
}

ReworkParts reworkParts(Site& site) {
    return ReworkParts{*site.journal, *site.flasher, site.encoder, *site.ms, *site.uploader, *site.pipeline};
}

TEST(Operations, ReworkOfALiveDeviceRevokesItFirstThenProvisionsANewIdentity) {
    Site site;
    runSite(site, 2);
    ASSERT_TRUE(site.uploader->drainOnce());
    ASSERT_EQ(deviceAtPort(*site.journal, "1-1")->state, "live");
    auto r = reworkById(reworkParts(site), 0x100, "housing cracked");
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_TRUE(r->revoked);
    EXPECT_EQ(r->port, "1-1");
    ASSERT_TRUE(r->newDevId);
    EXPECT_EQ(*r->newDevId, 0x102u);
    EXPECT_EQ(r->uploadNotice, "");
    EXPECT_EQ(site.ms->revoked.at(0x100), "housing cracked");
    // The new identity's record, uploaded, names the old Dev ID (signed with the rest).
    bool linked = false;
    for (const auto& [id, rec] : site.ms->records)
        if (rec.devId.value == 0x102) linked = rec.reworkedFrom == protocol::DevId{0x100};
    EXPECT_TRUE(linked);
    // The journal: the old device revoked and reworked, the new one allocated at the same port
    // with reworked_from, committed and live; a new OTP was printed for it.
    auto old = site.journal->entries(0x100).value();
    ASSERT_GE(old.size(), 3u);
    EXPECT_EQ(old[old.size() - 2].kind, "revoked");
    EXPECT_EQ(old[old.size() - 2].body["reason"], "housing cracked");
    EXPECT_EQ(old.back().kind, "reworked");
    auto fresh = site.journal->entries(0x102).value();
    ASSERT_FALSE(fresh.empty());
    EXPECT_EQ(fresh.front().kind, "allocated");
    EXPECT_EQ(fresh.front().body["reworked_from"], "00000100");
    EXPECT_EQ(fresh.front().body["port"], "1-1");
    EXPECT_EQ(deviceAtPort(*site.journal, "1-1")->devId, 0x102u);
    EXPECT_EQ(deviceAtPort(*site.journal, "1-1")->state, "live");
    EXPECT_NE(site.ms->otpByDevId.at(0x102), site.ms->otpByDevId.at(0x100));
    EXPECT_TRUE(site.journal->verify()->ok());
    // Once more: nothing to do.
    auto again = reworkById(reworkParts(site), 0x100, "housing cracked");
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->alreadyReworked);
}

TEST(Operations, ReworkProvisionsNothingWhenTheMotherShipCannotRevoke) {
    Site site;
    runSite(site, 2);
    ASSERT_TRUE(site.uploader->drainOnce());
    const auto before = site.journal->entries().value().size();
    site.ms->revokeFails = Error{Errc::unavailable, "connection refused", "curl", 7, "CURLE_COULDNT_CONNECT"};
    auto r = reworkById(reworkParts(site), 0x100, "housing cracked");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_EQ(r.error().message,
              "device 00000100 was not reworked: the revocation at the MotherShip failed: connection refused; nothing was provisioned");
    EXPECT_EQ(site.journal->entries().value().size(), before);
    EXPECT_EQ(deviceAtPort(*site.journal, "1-1")->state, "live");
    site.ms->revokeFails = Error{Errc::permissionDenied, "device 00000100 was provisioned by station st2, not by st1", {}, 0, {}};
    EXPECT_EQ(reworkById(reworkParts(site), 0x100, "x").error().code, Errc::permissionDenied);
    // A committed record that cannot be uploaded cannot be revoked: nothing happens either.
    site.ms->revokeFails.reset();
    std::string notice;
    ASSERT_TRUE(site.pipeline->run(1, 1, {"1-3"}));
    site.ms->down = true;
    auto queued = reworkById(reworkParts(site), 0x102, "x");
    ASSERT_FALSE(queued);
    EXPECT_EQ(queued.error().code, Errc::unavailable);
    EXPECT_TRUE(queued.error().message.starts_with(
        "device 00000102 was not reworked: its record is not at the MotherShip yet (connection refused"))
        << queued.error().message;
    EXPECT_EQ(deviceAtPort(*site.journal, "1-3")->state, "committed");
    EXPECT_TRUE(site.ms->revoked.empty());
    EXPECT_EQ(reworkById(reworkParts(site), 0x1ff, "x").error().message, "the journal has no device 000001ff");
}

TEST(Operations, ReworkByIdOfAFailedDeviceErasesItAsBefore) {
    Site site;
    runSite(site, 2, "1-2");
    auto r = reworkById(reworkParts(site), 0x101, "x");
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_TRUE(r->erased);
    EXPECT_FALSE(r->revoked);
    EXPECT_FALSE(r->newDevId);
    EXPECT_TRUE(site.ms->revoked.empty());
    EXPECT_EQ(site.flasher->flash["1-2"][site.encoder.blockAddress()], std::vector<std::uint8_t>(kNvmSize, 0xff));
}

TEST(Operations, OpenLotUsesTheJournalledQuotaWhenTheMotherShipIsDown) {
    Site site;
    runSite(site, 1);
    site.ms->down = true;
    std::string notice;
    site.reopen();
    ASSERT_TRUE(openLotWithQuota(site.config, *site.pipeline, *site.ms, notice));
    EXPECT_EQ(notice, "MotherShip unreachable (connection refused): using the quota journalled before");
}

TEST(Operations, AStoppedRunTakesNoNewDevice) {
    Site site;
    std::string notice;
    ASSERT_TRUE(openLotWithQuota(site.config, *site.pipeline, *site.ms, notice));
    const std::atomic<bool> stop{true};
    auto r = site.pipeline->run(0, 4, {}, &stop);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->committed + r->failed, 0);
    auto all = site.journal->entries();
    ASSERT_TRUE(all);
    for (const auto& e : *all) EXPECT_NE(e.kind, "allocated");
}

}  // namespace
}  // namespace tte::station
