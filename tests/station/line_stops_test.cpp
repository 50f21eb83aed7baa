// The line stops that are not the printer's, over the fakes: the HSM token away (or refusing its
// PIN), the lot's Dev ID quota used up, the MotherShip out of reach too long. Each holds the
// line with its reason and the one thing to do; no board is failed, no Dev ID is burned, no
// board starts while it holds; and the line goes on by itself once the cause is gone.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <thread>

#include <gtest/gtest.h>

#include "support/fakes/station_site.h"
#include "tte/base/hex.h"

namespace tte::station {
namespace {

using testing::Site;

std::vector<JournalEntry> entriesOf(Site& site, const std::string& kind) {
    std::vector<JournalEntry> out;
    auto all = site.journal->entries();
    EXPECT_TRUE(all);
    for (const auto& e : all.value_or(std::vector<JournalEntry>{}))
        if (kind.empty() || e.kind == kind) out.push_back(e);
    return out;
}

/// A PKCS#11 error as the real token adapter returns it (hsm/src/ck_rv.cpp).
Error ckr(unsigned long rv, const std::string& name, Errc code, const std::string& sentence) {
    return Error{code, "C_GenerateRandom: " + sentence, "PKCS#11", static_cast<std::int64_t>(rv), name};
}
Error tokenRemoved() { return ckr(0x32, "CKR_DEVICE_REMOVED", Errc::unavailable, "the token was removed"); }

/// Waits (up to 20 s) until the line shows a hold for `reason`.
bool heldFor(Site& site, HoldReason reason) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
        const LineState s = site.pipeline->lineHold().state();
        if (s.held && s.reason == reason) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
}

/// The journal never shows a board started while the line held.
void expectNoStartWhileHeld(Site& site) {
    bool held = false;
    for (const auto& e : entriesOf(site, "")) {
        if (e.kind == "held") held = true;
        if (e.kind == "resumed") held = false;
        EXPECT_FALSE(held && e.kind == "allocated") << "device " << toHex(e.devId.value_or(0), 8) << " started while held";
    }
}

TEST(LineStops, ATokenPulledOutMidBoardHoldsTheLineAndTheBoardGoesOnWhenItIsBack) {
    Site site("", "", 3);
    site.wireLine();
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    std::mutex m;
    std::condition_variable waited;
    std::vector<std::string> waits;
    site.pipeline->setObserver([&](const SlotEvent& e) {
        std::lock_guard lock(m);
        if (e.step == "waiting") waits.push_back(toHex(e.devId, 8) + " " + e.message);
        waited.notify_all();
    });
    const std::string boardWaits = "00000100 HSM token tte-station cannot be reached (CKR_DEVICE_REMOVED)";
    // The token goes away right after the first board's keys were made.
    site.pipeline->setFaultHook([&](std::string_view point, std::uint32_t devId) {
        if (point == "keyed" && devId == 0x100) site.keys.setTokenFault(tokenRemoved());
    });
    Result<RunSummary> r = fail(Errc::internal, "not run");
    std::thread run([&] { r = site.pipeline->run(0, 2, {}); });
    ASSERT_TRUE(heldFor(site, HoldReason::token));
    const LineState held = site.pipeline->lineHold().state();
    EXPECT_EQ(held.problem, "HSM token tte-station cannot be reached (CKR_DEVICE_REMOVED)");
    EXPECT_EQ(held.action, "plug the token in");
    EXPECT_TRUE(held.byItself);
    {
        // The other slot may hit the missing token first and hold the line before board 100
        // reaches its next token call: the token comes back only once board 100 waits too.
        std::unique_lock lock(m);
        ASSERT_TRUE(waited.wait_for(lock, std::chrono::seconds(20), [&] {
            return std::find(waits.begin(), waits.end(), boardWaits) != waits.end();
        }));
    }
    site.keys.setTokenFault(std::nullopt);  // put back
    run.join();
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 3);
    EXPECT_EQ(r->failed, 0);
    EXPECT_TRUE(entriesOf(site, "failed").empty());
    EXPECT_GT(site.keys.checks(), 0);
    // Dev IDs 100, 101, 102: none burned.
    auto allocated = entriesOf(site, "allocated");
    ASSERT_EQ(allocated.size(), 3u);
    for (std::size_t i = 0; i < allocated.size(); ++i) EXPECT_EQ(allocated[i].devId, 0x100 + i);
    // The hold is journalled once the token can sign again: held (token), then resumed. (A
    // slot whose call failed just before the token came back may hold once more, briefly.)
    auto heldEntries = entriesOf(site, "held");
    ASSERT_GE(heldEntries.size(), 1u);
    EXPECT_TRUE(heldEntries[0].body.contains("journalled_at"));
    for (const auto& e : heldEntries) EXPECT_EQ(e.body["reason"], "token");
    auto resumed = entriesOf(site, "resumed");
    ASSERT_EQ(resumed.size(), heldEntries.size());
    for (const auto& e : resumed) EXPECT_EQ(e.body["reason"], "token");
    expectNoStartWhileHeld(site);
    std::lock_guard lock(m);
    // The board whose token went away waits with its Dev ID (the other slot's may wait too).
    EXPECT_NE(std::find(waits.begin(), waits.end(), boardWaits), waits.end());
    EXPECT_FALSE(site.pipeline->lineHold().held());
}

TEST(LineStops, ALockedPinHoldsWithTheOneThingToDoAndAStopLeavesTheBoardForTheNextStart) {
    Site site("", "", 1);
    site.wireLine();
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    site.pipeline->setFaultHook([&](std::string_view point, std::uint32_t) {
        if (point == "keyed")
            site.keys.setTokenFault(ckr(0xa4, "CKR_PIN_LOCKED", Errc::permissionDenied, "the PIN is locked"));
    });
    std::atomic<bool> stop{false};
    Result<RunSummary> r = fail(Errc::internal, "not run");
    std::thread run([&] { r = site.pipeline->run(0, 1, {}, &stop); });
    ASSERT_TRUE(heldFor(site, HoldReason::token));
    EXPECT_EQ(site.pipeline->lineHold().state().text(),
              "HSM token tte-station has locked its PIN after too many wrong tries (CKR_PIN_LOCKED) \u2013 have the security "
              "officer unlock the PIN; the line goes on by itself");
    stop = true;
    run.join();
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 0);
    EXPECT_EQ(r->failed, 0);
    ASSERT_EQ(r->failures.size(), 1u);
    EXPECT_EQ(r->failures[0],
              "1-1: the station stopped while the HSM token was away: device 00000100 waits (rework at the next start)");
    site.keys.setTokenFault(std::nullopt);
    EXPECT_TRUE(entriesOf(site, "failed").empty());
}

TEST(LineStops, AUsedUpQuotaHoldsUntilTheMotherShipGrantsMore) {
    Site site("", "", 5);
    site.config.lot.lastDevId = 0x102;
    site.ms->quota.last = protocol::DevId{0x102};
    site.config.quotaPollS = 5;
    site.wireLine();
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    Result<RunSummary> r = fail(Errc::internal, "not run");
    std::thread run([&] { r = site.pipeline->run(0, 2, {}); });
    ASSERT_TRUE(heldFor(site, HoldReason::quota));
    const LineState held = site.pipeline->lineHold().state();
    EXPECT_EQ(held.problem, "the Dev ID quota 00000100..00000102 of lot lot-a is used up");
    EXPECT_EQ(held.action, "ask for a new quota or lot (tte-mothership admin lot set --lot lot-a)");
    {
        std::lock_guard lock(site.ms->mutex);
        site.ms->quota.last = protocol::DevId{0x1ff};  // ops: admin lot set --last 000001ff
    }
    run.join();
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 5);
    EXPECT_EQ(r->failed, 0);
    EXPECT_TRUE(r->failures.empty());
    EXPECT_TRUE(entriesOf(site, "failed").empty());
    auto extended = entriesOf(site, "quota-extended");
    ASSERT_EQ(extended.size(), 1u);
    EXPECT_EQ(extended[0].body["before"], 0x102);
    EXPECT_EQ(extended[0].body["last"], 0x1ff);
    EXPECT_EQ(entriesOf(site, "held").at(0).body["reason"], "quota");
    EXPECT_EQ(entriesOf(site, "resumed").at(0).body["reason"], "quota");
    EXPECT_EQ(entriesOf(site, "allocated").back().devId, 0x104u);
    expectNoStartWhileHeld(site);
    // A restarted station keeps the extension (no hold at 102 again).
    site.reopen();
    site.wireLine();
    site.flasher->replace("1-1");
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    auto again = site.pipeline->run(0, 1, {"1-1"});
    ASSERT_TRUE(again) << again.error().toString();
    EXPECT_EQ(again->committed, 1);
    EXPECT_EQ(entriesOf(site, "held").size(), 1u);
}

TEST(LineStops, AStopWhileTheQuotaIsUsedUpEndsTheRunWithoutFailingABoard) {
    Site site("", "", 3);
    site.config.lot.lastDevId = 0x100;
    site.ms->quota.last = protocol::DevId{0x100};
    site.wireLine();
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    std::atomic<bool> stop{false};
    Result<RunSummary> r = fail(Errc::internal, "not run");
    std::thread run([&] { r = site.pipeline->run(0, 1, {}, &stop); });
    ASSERT_TRUE(heldFor(site, HoldReason::quota));
    stop = true;
    run.join();
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 1);
    EXPECT_EQ(r->failed, 0);
    ASSERT_EQ(r->failures.size(), 1u);
    EXPECT_EQ(r->failures[0], "1-2: the run was stopped while the quota of lot lot-a was used up");
    EXPECT_EQ(entriesOf(site, "allocated").size(), 1u);
}

TEST(LineStops, TheMotherShipOutOfReachTooLongHoldsNewBoardsUntilUploadsGoThrough) {
    Site site("", "", 2);
    site.config.msHoldAfterS = 60;
    site.wireLine();
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_TRUE(site.pipeline->provision("1-1"));
    site.ms->down = true;
    EXPECT_FALSE(site.uploader->drainOnce());
    site.clock.advance(std::chrono::seconds(59));
    (void)site.uploader->drainOnce();
    EXPECT_FALSE(site.pipeline->lineHold().held());  // failing, but not for long enough
    site.clock.advance(std::chrono::seconds(2));
    (void)site.uploader->drainOnce();
    ASSERT_TRUE(site.pipeline->lineHold().held());
    const LineState held = site.pipeline->lineHold().state();
    EXPECT_EQ(held.reason, HoldReason::mothership);
    EXPECT_EQ(held.problem, "the MotherShip has taken no record for more than 60 s (connection refused)");
    EXPECT_EQ(held.action, "check the network and the MotherShip at https://127.0.0.1:8443");
    // A new board waits: its allocation comes only after the line runs again.
    Result<std::uint32_t> second = fail(Errc::internal, "not run");
    std::thread board([&] { second = site.pipeline->provision("1-2"); });
    {
        std::lock_guard lock(site.ms->mutex);
        site.ms->down = false;
    }
    site.clock.advance(std::chrono::seconds(120));  // past the backoff
    auto drained = site.uploader->drainOnce();
    ASSERT_TRUE(drained) << drained.error().toString();
    EXPECT_EQ(*drained, 1);
    board.join();
    ASSERT_TRUE(second) << second.error().toString();
    EXPECT_EQ(*second, 0x101u);
    EXPECT_FALSE(site.pipeline->lineHold().held());
    EXPECT_TRUE(entriesOf(site, "failed").empty());
    EXPECT_EQ(entriesOf(site, "held").at(0).body["reason"], "mothership");
    EXPECT_EQ(entriesOf(site, "resumed").at(0).body["reason"], "mothership");
    expectNoStartWhileHeld(site);
}

TEST(LineStops, OnlyTheTokensOwnFaultsHoldTheLine) {
    EXPECT_TRUE(isTokenFault(tokenRemoved()));
    EXPECT_TRUE(isTokenFault(ckr(0xa0, "CKR_PIN_INCORRECT", Errc::unauthenticated, "the PIN is wrong")));
    EXPECT_FALSE(isTokenFault(ckr(0x60, "CKR_KEY_HANDLE_INVALID", Errc::notFound, "no key")));
    EXPECT_FALSE(isTokenFault(Error{Errc::unavailable, "connection refused", {}, 0, {}}));
}

TEST(LineStops, TheBoundsAreReadStrictly) {
    auto text = testing::configText();
    const std::string key = "key = \"station.key\"\n";
    text.replace(text.find(key), key.size(), key + "hold_after_s = 0\nquota_poll_s = 7\n");
    auto c = parseConfig(text, "/tmp");
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("mothership.hold_after_s"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace tte::station
