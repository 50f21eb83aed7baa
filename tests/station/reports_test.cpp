// status, journal export and reconcile against fakes.
#include <gtest/gtest.h>

#include "support/fakes/station_site.h"
#include "tte/base/hex.h"
#include "tte/station/reports.h"

namespace tte::station {
namespace {

using testing::Site;

TEST(Reports, StatusCountsDevicesAndShowsTheBacklog) {
    Site site("", "", 4);
    site.flasher->failPorts.insert("1-4");
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_TRUE(site.pipeline->run(0, 1, {}));
    site.ms->down = true;
    (void)site.uploader->drainOnce();
    auto s = stationStatus(site.config, *site.journal, *site.uploader, site.clock.wallNow());
    ASSERT_TRUE(s);
    EXPECT_EQ(s->allocated, 4);
    EXPECT_EQ(s->committed, 3);
    EXPECT_EQ(s->failed, 1);
    EXPECT_EQ(s->live, 0);
    EXPECT_EQ(*s->nextDevId, 0x104u);
    EXPECT_EQ(formatStatus(site.config, *s),
              "station st1, lot lot-a (Dev IDs 00000100..000001ff)\n"
              "  devices: 4 allocated, 0 live, 3 awaiting upload, 0 in progress, 1 failed (rework), 0 reworked\n"
              "  line: running\n"
              "  lot lot-a:                              3 done,    1 failed,    0 reworked, yield  75.0 %,  180.0 devices/hour\n"
              "  shift since 2025-12-17T22:00:00Z:       3 done,    1 failed,    0 reworked, yield  75.0 %,  180.0 devices/hour\n"  // the manual clock's day starts in the 22:00 shift
              "  next Dev ID: 00000104\n"
              "  upload backlog: 3 pending, 0 done, 0 rejected; last error: connection refused\n"
              "  journal: " + std::to_string(s->entries) + " entries\n");
    site.ms->down = false;
    site.clock.advance(std::chrono::seconds(1));
    ASSERT_TRUE(site.uploader->drainOnce());
    s = stationStatus(site.config, *site.journal, *site.uploader, site.clock.wallNow());
    EXPECT_EQ(s->live, 3);
    EXPECT_EQ(s->committed, 0);
}

TEST(Reports, ExportHoldsEveryEntryAndNoOtp) {
    Site site("", "", 2);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_TRUE(site.pipeline->run(0, 1, {}));
    auto text = exportJournal(site.config, *site.journal, site.keys);
    ASSERT_TRUE(text);
    for (const auto& otp : site.keys.issuedOtps) EXPECT_EQ(text->find(otp), std::string::npos);
    std::istringstream lines(*text);
    std::string line;
    std::getline(lines, line);
    auto head = nlohmann::json::parse(line);
    EXPECT_EQ(head["station"], "st1");
    int n = 0;
    while (std::getline(lines, line)) {
        auto e = nlohmann::json::parse(line);
        EXPECT_EQ(e["seq"], ++n);
    }
    EXPECT_EQ(head["entries"], n);
    EXPECT_EQ(n, 1 + 2 * 7);  // lot-opened + 7 steps per device (locked and printing included)
}

TEST(Reports, ReconcileFindsWhatIsMissingOnEitherSide) {
    Site site("", "", 3);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_TRUE(site.pipeline->run(2, 1, {}));
    ASSERT_TRUE(site.uploader->drain(std::chrono::seconds(1)));
    ASSERT_TRUE(site.pipeline->run(1, 1, {}));  // 0x102 committed, not uploaded
    auto r = reconcile(site.config, *site.journal, *site.ms);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].devId, 0x102u);
    EXPECT_EQ((*r)[0].problem, "committed, not uploaded yet");
    // The MotherShip lost a record, and holds one the journal never made.
    site.ms->records.erase(site.ms->records.begin());
    protocol::StationRecord foreign = site.ms->records.begin()->second;
    foreign.recordId = "st9-1";
    foreign.devId = protocol::DevId{0x103};
    foreign.urn = *protocol::makeDevUrn(32473, "sensor", foreign.devId);
    site.ms->records["st9-1"] = foreign;
    r = reconcile(site.config, *site.journal, *site.ms);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].problem, "live in the journal, unknown at the MotherShip");
    EXPECT_EQ((*r)[2].devId, 0x103u);
    EXPECT_EQ((*r)[2].problem, "at the MotherShip, not in the journal");
    site.ms->down = true;
    auto down = reconcile(site.config, *site.journal, *site.ms);
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, Errc::unavailable);
}

}  // namespace
}  // namespace tte::station
