// Store-and-forward: MotherShip down → records queue with capped backoff on the manual
// clock, drain once it returns; a crash between upload and settle is answered "duplicate"
// and counted once; a pre-enrolled lot maps and introduces after the record is live.
#include <gtest/gtest.h>

#include "support/fakes/station_site.h"
#include "tte/base/hex.h"

namespace tte::station {
namespace {

using namespace std::chrono_literals;
using testing::Site;

TEST(Uploader, QueuesWhileTheMotherShipIsDownAndBacksOffCapped) {
    Site site("", "", 3);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    site.ms->down = true;
    ASSERT_EQ(site.pipeline->run(0, 2, {})->committed, 3);  // provisioning goes on

    std::vector<long> waits;
    for (int i = 0; i < 9; ++i) {
        auto r = site.uploader->drainOnce();
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().message, "connection refused");
        auto b = site.uploader->backlog();
        EXPECT_EQ(b->pending, 3);
        EXPECT_EQ(b->lastError, "connection refused");
        waits.push_back(std::chrono::duration_cast<std::chrono::seconds>(b->retryIn).count());
        // Not due yet: no attempt is made.
        const int calls = site.ms->uploadCalls;
        EXPECT_EQ(*site.uploader->drainOnce(), 0);
        EXPECT_EQ(site.ms->uploadCalls, calls);
        site.clock.advance(b->retryIn);
    }
    EXPECT_EQ(waits, (std::vector<long>{1, 2, 4, 8, 16, 32, 60, 60, 60}));

    site.ms->down = false;
    auto n = site.uploader->drainOnce();
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 3);
    EXPECT_EQ(site.ms->records.size(), 3u);
    auto b = site.uploader->backlog();
    EXPECT_EQ(b->pending, 0);
    EXPECT_EQ(b->lastError, "");
    EXPECT_EQ(b->retryIn, Clock::Duration{0});
}

TEST(Uploader, SurvivesARestartAndUploadsOnceInEffect) {
    Site site("", "", 2);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_TRUE(site.pipeline->run(0, 1, {}));
    // The MotherShip stores the batch, then the station dies before it settles.
    struct Crash {};
    site.uploader->setFaultHook([](std::string_view p) {
        if (p == "uploaded") throw Crash{};
    });
    EXPECT_THROW((void)site.uploader->drainOnce(), Crash);
    EXPECT_EQ(site.ms->records.size(), 2u);
    site.reopen();
    EXPECT_EQ(site.uploader->backlog()->pending, 2);
    ASSERT_TRUE(site.uploader->drain(1s));
    EXPECT_EQ(site.ms->records.size(), 2u);
    auto entries = *site.journal->entries();
    int live = 0;
    for (const auto& e : entries) live += e.kind == "live";
    EXPECT_EQ(live, 2);
    // Nothing more to send: the queue no longer holds the OTPs.
    auto queue = site.journal->queue();
    ASSERT_TRUE(queue);
    for (const auto& item : *queue) {
        EXPECT_EQ(item.state, "done");
        EXPECT_TRUE(item.sealedOtp.empty());
    }
    const int calls = site.ms->uploadCalls;
    ASSERT_TRUE(site.uploader->drain(1s));
    EXPECT_EQ(site.ms->uploadCalls, calls);
}

TEST(Uploader, ARejectedRecordIsShownNotRetried) {
    Site site("", "", 1);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_TRUE(site.pipeline->run(0, 1, {}));
    // Another station's record with the same id already sits at the MotherShip.
    site.ms->records["st1-8"] = protocol::StationRecord{};  // lot-opened, then 7 entries up to the commit
    auto n = site.uploader->drainOnce();
    ASSERT_TRUE(n);
    auto items = *site.journal->queue();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].id, "st1-8");
    EXPECT_EQ(items[0].state, "rejected");
    EXPECT_EQ(site.uploader->backlog()->rejected, 1);
}

TEST(Uploader, PreEnrolledLotMapsAndIntroducesAfterTheRecord) {
    Site site("", std::string("[controller]\naddress = \"10.0.0.2\"\nport = 5685\nfingerprint = \"") +
                      std::string(64, 'c') + "\"\nurl = \"https://10.0.0.2:9443\"\n",
              2);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_TRUE(site.pipeline->run(0, 1, {}));
    site.controller.down = true;
    ASSERT_FALSE(site.uploader->drainOnce());
    EXPECT_EQ(site.ms->mapped.size(), 2u);  // records and mappings went through
    EXPECT_EQ(site.uploader->backlog()->pending, 2);  // introductions wait
    site.controller.down = false;
    site.clock.advance(1s);
    ASSERT_TRUE(site.uploader->drainOnce());
    ASSERT_EQ(site.controller.introductions.size(), 2u);
    auto intro = nlohmann::json::parse(site.controller.introductions[0]);
    EXPECT_EQ(intro["ms"], "tte-000001.net");
    const std::uint32_t devId = static_cast<std::uint32_t>(*parseHexInt(intro["devid"].get<std::string>(), 8, "devid"));
    EXPECT_EQ(intro["otp"], site.ms->otpByDevId[devId]);
    EXPECT_EQ(site.ms->mapped[devId], std::string(64, 'c'));
    EXPECT_EQ(site.uploader->backlog()->pending, 0);
}

}  // namespace
}  // namespace tte::station
