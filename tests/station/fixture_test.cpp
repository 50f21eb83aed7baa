// The line against fakes: every board traced to its chip and to the operator and seat,
// locked after verify, refused when it was provisioned before, reworked from its lock, and
// the fixture's seats served continuously while boards are swapped.
#include <algorithm>
#include <condition_variable>
#include <thread>

#include <gtest/gtest.h>

#include "support/fakes/station_site.h"
#include "tte/base/hex.h"
#include "tte/station/operations.h"
#include "tte/station/reports.h"

namespace tte::station {
namespace {

using testing::Site;

const char* kSeats = R"([[seat]]
name = "A1"
port = "1-1"
[[seat]]
name = "A2"
port = "1-2"
)";

TEST(Line, EveryBoardIsTracedToItsChipTheOperatorAndItsSeatAndLocked) {
    Site site("", kSeats, 2);
    site.journal->setOperator("alice");
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    auto r = site.pipeline->run(0, 2, {});
    ASSERT_TRUE(r) << r.error().toString();
    ASSERT_EQ(r->committed, 2);
    ASSERT_TRUE(site.uploader->drain(std::chrono::seconds(1)));
    ASSERT_EQ(site.ms->records.size(), 2u);
    std::set<std::string> uids;
    for (const auto& [id, rec] : site.ms->records) {
        ASSERT_TRUE(rec.mcuUid) << id;
        uids.insert(*rec.mcuUid);
    }
    EXPECT_EQ(uids, (std::set<std::string>{site.flasher->uids["1-1"], site.flasher->uids["1-2"]}));
    const auto entries = site.journal->entries().value();
    for (const auto& e : entries) {
        EXPECT_EQ(e.body.value("operator", ""), "alice") << e.kind;
        if (e.devId && e.kind != "live") {
            EXPECT_TRUE(e.body.value("seat", "") == "A1" || e.body.value("seat", "") == "A2") << e.kind;
        }
    }
    auto first = *site.journal->entries(0x100);
    EXPECT_EQ(first.front().body["mcu_uid"], site.flasher->uids[first.front().body["port"].get<std::string>()]);
    std::vector<std::string> kinds;
    for (const auto& e : first) kinds.push_back(e.kind);
    EXPECT_EQ(kinds, (std::vector<std::string>{"allocated", "keyed", "flashed", "locked", "printing", "labelled", "committed", "live"}));
    // Locked: the bootloader refuses reads, naming read protection.
    EXPECT_EQ(site.flasher->protection["1-1"], ReadProtection::level1);
    auto read = site.flasher->read("1-1", 0x08008000, 16);
    ASSERT_FALSE(read);
    EXPECT_NE(read.error().message.find("read-protected"), std::string::npos);
    // The export names operator and seat on every line.
    auto text = exportJournal(site.config, *site.journal, site.keys);
    ASSERT_TRUE(text);
    std::istringstream lines(*text);
    std::string line;
    std::getline(lines, line);  // the header
    int n = 0;
    while (std::getline(lines, line)) {
        auto j = nlohmann::json::parse(line);
        EXPECT_EQ(j["operator"], "alice") << line;
        if (!j["devid"].is_null()) {
            EXPECT_TRUE(j["seat"] == "A1" || j["seat"] == "A2") << line;
        }
        ++n;
    }
    EXPECT_GT(n, 14);
}

TEST(Line, ALotWithoutLockLeavesBoardsOpenAndRdp2IsOnlyWhatTheLotAsks) {
    {
        Site site("lock = \"none\"", "", 1);
        ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
        ASSERT_EQ(site.pipeline->run(0, 1, {})->committed, 1);
        EXPECT_EQ(site.flasher->protection["1-1"], ReadProtection::level0);
        EXPECT_NE(lockWarning(site.config.lot).find("NOT read-protected"), std::string::npos);
    }
    {
        Site site("lock = \"rdp2\"", "", 1);
        ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
        ASSERT_EQ(site.pipeline->run(0, 1, {})->committed, 1);
        EXPECT_EQ(site.flasher->protection["1-1"], ReadProtection::level2);
    }
    EXPECT_EQ(lockWarning(Site("", "", 1).config.lot), "");
    auto bad = parseConfig(testing::configText("lock = \"rdp3\""), "/tmp", "station.toml");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message,
              "station.toml:23: lot.lock: must be \"rdp1\" (the default), \"none\" (development lots) or \"rdp2\" "
              "(permanent), not 'rdp3'");
}

TEST(Line, ABoardProvisionedBeforeIsRefusedUntilReworkedAndReworkRegressesItsLock) {
    Site site("", "", 2);
    site.journal->setOperator("bob");
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_EQ(site.pipeline->run(1, 1, {"1-1"})->committed, 1);
    const std::string uid = site.flasher->uids["1-1"];
    // The locked board is put into another seat: refused before any Dev ID is taken.
    site.flasher->uids["1-2"] = uid;
    site.flasher->protection["1-2"] = ReadProtection::level1;
    auto locked = site.pipeline->provision("1-2");
    ASSERT_FALSE(locked);
    EXPECT_EQ(locked.error().message.substr(0, 30), "the board in seat 1-2 (serial ");
    EXPECT_NE(locked.error().message.find("is read-protected (RDP level 1): it was provisioned before; rework it "
                                          "(tte-provision rework --port 1-2)"),
              std::string::npos)
        << locked.error().message;
    // Opened by other means (or never locked), its unique ID still gives it away.
    site.flasher->protection["1-2"] = ReadProtection::level0;
    auto open = site.pipeline->provision("1-2");
    ASSERT_FALSE(open);
    EXPECT_EQ(open.error().message, "the board in seat 1-2 (MCU unique ID " + uid +
                                        ") was provisioned before as device 00000100 (committed): rework it "
                                        "(tte-provision rework --devid 00000100) or take it off the line");
    EXPECT_EQ(*site.journal->lastAllocated(0x100, 0x1ff), 0x100u);  // no Dev ID burned
    auto all = *site.journal->entries();
    EXPECT_EQ(std::count_if(all.begin(), all.end(), [](const JournalEntry& e) { return e.kind == "refused"; }), 2);
    // Rework of the locked board in its seat: revoked at the MotherShip, regressed (mass
    // erase), then provisioned anew.
    auto reworked = reworkById(ReworkParts{*site.journal, *site.flasher, site.encoder, *site.ms, *site.uploader, *site.pipeline},
                               0x100, "moved to another seat");
    ASSERT_TRUE(reworked) << reworked.error().toString();
    EXPECT_TRUE(reworked->revoked);
    ASSERT_TRUE(reworked->newDevId);
    EXPECT_EQ(*reworked->newDevId, 0x101u);
    auto old = *site.journal->entries(0x100);
    auto last = *std::find_if(old.rbegin(), old.rend(), [](const JournalEntry& e) { return e.kind == "reworked"; });
    EXPECT_EQ(last.body["erased"], "mass erase (read unprotect, RDP level 1 to 0)");
    EXPECT_EQ(last.body["mcu_uid"], uid);
    EXPECT_EQ(last.body["operator"], "bob");
    EXPECT_EQ(site.journal->entries(0x101)->front().body["mcu_uid"], uid);
    EXPECT_EQ(site.flasher->protection["1-1"], ReadProtection::level1);
}

/// Waits (with a deadline) until `n` events of `step` were seen.
struct Events {
    std::mutex m;
    std::condition_variable cv;
    std::vector<SlotEvent> all;
    void add(const SlotEvent& e) {
        std::lock_guard lock(m);
        all.push_back(e);
        cv.notify_all();
    }
    int count(const std::string& step, const std::string& seat = {}) {
        int n = 0;
        for (const auto& e : all) n += e.step == step && (seat.empty() || e.seat == seat) ? 1 : 0;
        return n;
    }
    bool waitFor(const std::string& step, int n, const std::string& seat = {}) {
        std::unique_lock lock(m);
        return cv.wait_for(lock, std::chrono::seconds(10), [&] { return count(step, seat) >= n; });
    }
};

TEST(Line, TheFixtureIsServedWhileBoardsAreSwappedAndOtherPortsAreIgnored) {
    Site site("", kSeats, 3);  // 1-3 holds a board too, but no seat is configured there
    site.journal->setOperator("carol");
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    Events events;
    site.pipeline->setObserver([&](const SlotEvent& e) { events.add(e); });
    std::atomic<bool> stop{false};
    Result<RunSummary> summary;
    std::thread line([&] { summary = site.pipeline->serve(6, std::chrono::milliseconds(1), &stop); });
    // Two boards done; each done board stays done until it is taken out.
    ASSERT_TRUE(events.waitFor("committed", 2));
    site.flasher->remove("1-1");
    ASSERT_TRUE(events.waitFor("empty", 1, "A1"));
    site.flasher->replace("1-1");
    site.flasher->replace("1-2");  // swapped without the seat being seen empty
    ASSERT_TRUE(events.waitFor("committed", 4));
    site.flasher->replace("1-1");
    site.flasher->replace("1-2");
    ASSERT_TRUE(events.waitFor("committed", 6));
    line.join();  // the count is reached: the run ends by itself
    ASSERT_TRUE(summary) << summary.error().toString();
    EXPECT_EQ(summary->committed, 6);
    EXPECT_EQ(events.count("ignored"), 1);
    EXPECT_EQ(events.count("allocated", "A1"), 3);
    EXPECT_EQ(events.count("allocated", "A2"), 3);
    // Never two boards in one seat: each allocation follows the seat's previous commit.
    std::map<std::string, bool> busy;
    const auto entries = site.journal->entries().value();
    for (const auto& e : entries) {
        const std::string seat = e.body.value("seat", "");
        if (e.kind == "allocated") {
            EXPECT_FALSE(busy[seat]) << seat;
            busy[seat] = true;
        }
        if (e.kind == "committed" || e.kind == "failed") busy[seat] = false;
    }
    EXPECT_FALSE(site.flasher->flash.contains("1-3"));
}

// With hotplug events (libusb's, here the fake's) a seat is looked at when the bus changed, not
// every watch interval: with an interval of a minute the swapped boards are still provisioned
// at once, and between the events no board is asked who it is.
TEST(Line, HotplugEventsDriveTheSeatsInsteadOfPolling) {
    Site site("", kSeats, 2);
    site.flasher->hotplug = true;
    site.journal->setOperator("carol");
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    Events events;
    site.pipeline->setObserver([&](const SlotEvent& e) { events.add(e); });
    std::atomic<bool> stop{false};
    Result<RunSummary> summary;
    std::thread line([&] { summary = site.pipeline->serve(4, std::chrono::minutes(1), &stop); });
    ASSERT_TRUE(events.waitFor("committed", 2));
    const int asked = site.flasher->identifies();
    site.flasher->remove("1-1");
    ASSERT_TRUE(events.waitFor("empty", 1, "A1"));
    site.flasher->replace("1-1");
    site.flasher->replace("1-2");
    ASSERT_TRUE(events.waitFor("committed", 4));
    line.join();
    ASSERT_TRUE(summary) << summary.error().toString();
    EXPECT_EQ(summary->committed, 4);
    EXPECT_GT(site.flasher->identifies(), asked);
    // A stop is seen within a tick although no event comes.
    site.flasher->replace("1-1");
    std::thread again([&] { summary = site.pipeline->serve(0, std::chrono::minutes(1), &stop); });
    ASSERT_TRUE(events.waitFor("committed", 5));
    stop = true;
    again.join();
    ASSERT_TRUE(summary) << summary.error().toString();
}

TEST(Line, AStopFinishesTheBoardsInFlight) {
    Site site("", kSeats, 2);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    std::atomic<bool> stop{false};
    Events events;
    site.pipeline->setObserver([&](const SlotEvent& e) {
        if (e.step == "flashed") stop = true;  // SIGTERM in the middle of a board
        events.add(e);
    });
    auto summary = site.pipeline->serve(0, std::chrono::milliseconds(1), &stop);
    ASSERT_TRUE(summary) << summary.error().toString();
    EXPECT_GE(summary->committed, 1);
    EXPECT_EQ(summary->committed, events.count("allocated"));  // every board taken was finished
    EXPECT_EQ(summary->failed, 0);
}

TEST(Line, SeatsAreReadStrictly) {
    auto bad = parseConfig(testing::configText("", R"([[seat]]
name = "A1"
port = "1-1"
[[seat]]
name = "A1"
port = "usb1"
colour = "red"
)"),
                           "/tmp", "station.toml");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message,
              "station.toml:28: seat[1].name: seat A1 is named twice\n"
              "station.toml:29: seat[1].port: must be a USB port path such as \"1-1.2\" (bus-port.port…)\n"
              "station.toml:30: seat[1].colour: unknown key");
    auto good = parseConfig(testing::configText("", kSeats), "/tmp", "station.toml");
    ASSERT_TRUE(good) << good.error().toString();
    ASSERT_EQ(good->seats.size(), 2u);
    EXPECT_EQ(good->seatName("1-2"), "A2");
    EXPECT_EQ(good->seatName("1-9"), "1-9");
}

TEST(Line, CountersPerLotAndPerShiftComeFromTheJournal) {
    Site site("", "", 3);
    site.flasher->failPorts.insert("1-2");
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_EQ(site.pipeline->run(0, 1, {})->committed, 2);
    auto s = stationStatus(site.config, *site.journal, *site.uploader, site.clock.wallNow());
    ASSERT_TRUE(s) << s.error().toString();
    EXPECT_EQ(s->lotCounters.done, 2);
    EXPECT_EQ(s->lotCounters.failed, 1);
    EXPECT_DOUBLE_EQ(*s->lotCounters.yield(), 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(s->lotCounters.perHour, 120.0);  // within the same second: counted over a minute
    // Eight hours later, the next shift: the failed board is reworked and provisioned anew.
    site.clock.advance(std::chrono::hours(8));
    site.flasher->failPorts.clear();
    ASSERT_TRUE(reworkDevice(*site.journal, *site.flasher, site.encoder, "1-2"));
    site.clock.advance(std::chrono::minutes(30));
    ASSERT_TRUE(site.pipeline->provision("1-2"));
    s = stationStatus(site.config, *site.journal, *site.uploader, site.clock.wallNow());
    ASSERT_TRUE(s);
    EXPECT_EQ(s->lotCounters.done, 3);
    EXPECT_EQ(s->lotCounters.failed, 1);
    EXPECT_EQ(s->lotCounters.reworked, 1);
    EXPECT_EQ(s->shiftCounters.done, 1);
    EXPECT_EQ(s->shiftCounters.failed, 0);
    EXPECT_EQ(s->shiftCounters.reworked, 1);  // the manual clock starts at 00:00 UTC: 08:00 is in the 06:00 shift
    EXPECT_EQ(s->shiftStart.substr(10), "T06:00:00Z");
    const auto text = formatStatus(site.config, *s);
    EXPECT_NE(text.find("lot lot-a:"), std::string::npos) << text;
    EXPECT_NE(text.find("shift since " + s->shiftStart), std::string::npos) << text;
}

TEST(Line, TheShiftIsTheOneNowFallsIn) {
    using namespace std::chrono;
    const auto day = sys_days(year(2026) / 12 / 3);
    const std::vector<int> starts = {6 * 60, 14 * 60, 22 * 60};
    EXPECT_EQ(shiftStartOf(day + hours(5) + minutes(59), starts), day - days(1) + hours(22));
    EXPECT_EQ(shiftStartOf(day + hours(6), starts), day + hours(6));
    EXPECT_EQ(shiftStartOf(day + hours(23), starts), day + hours(22));
    auto bad = parseConfig(testing::configText().replace(testing::configText().find("slots = 4"), 9,
                                                         "slots = 4\nshifts = [\"06:00\", \"5:00\"]"),
                           "/tmp", "station.toml");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "station.toml:5: station.shifts: must be \"HH:MM\" times (UTC), not '5:00'");
}


// What a seat's tile shows while a board goes through: "flashing" from 0 bytes up to all of
// them, "verifying" up to all, "locking" before "locked", and the label image with
// "labelled"; none of these extra steps is journalled.
TEST(Line, ASeatSeesTheFlashByteByByteThenTheLockAndTheLabel) {
    Site site("", kSeats, 1);
    site.journal->setOperator("dana");
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    std::vector<SlotEvent> events;
    site.pipeline->setObserver([&](const SlotEvent& e) { events.push_back(e); });
    ASSERT_TRUE(site.pipeline->provision("1-1"));
    std::vector<std::string> steps;
    for (const auto& e : events)
        if (steps.empty() || steps.back() != e.step) steps.push_back(e.step);
    EXPECT_EQ(steps, (std::vector<std::string>{"allocated", "keyed", "flashing", "verifying", "flashed", "locking", "locked",
                                               "printing", "labelled", "committed"}));
    const auto of = [&](const std::string& step) {
        std::vector<SlotEvent> out;
        for (const auto& e : events)
            if (e.step == step) out.push_back(e);
        return out;
    };
    const auto flashing = of("flashing");
    ASSERT_GE(flashing.size(), 2u);
    EXPECT_EQ(flashing.front().bytesDone, 0u);
    EXPECT_GT(flashing.front().bytesTotal, 0u);
    EXPECT_EQ(flashing.back().bytesDone, flashing.back().bytesTotal);
    for (const auto& e : flashing) EXPECT_EQ(e.seat, "A1");
    const auto verifying = of("verifying");
    ASSERT_FALSE(verifying.empty());
    EXPECT_EQ(verifying.back().bytesDone, verifying.back().bytesTotal);
    EXPECT_TRUE(verifying.back().transient());
    EXPECT_FALSE(of("locked").front().transient());
    const auto labelled = of("labelled");
    ASSERT_EQ(labelled.size(), 1u);
    EXPECT_EQ(labelled.front().label, "mem:" + site.printer.printed.begin()->first);
    const auto entries = site.journal->entries(0x100).value();
    for (const auto& e : entries)
        EXPECT_TRUE(e.kind != "flashing" && e.kind != "verifying" && e.kind != "locking") << e.kind;
}


// A new board put into a seat while the line holds does not start; the seat says so
// ("waiting", no Dev ID yet) and the board starts by itself once the line runs.
TEST(Line, ANewBoardWaitsForAHeldLineAndSaysSo) {
    Site site("", kSeats, 2);
    site.journal->setOperator("gus");
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    site.flasher->remove("1-2");
    site.printer.setFault(PrinterCondition{false, true, "printer tte-labels is out of labels", "load a roll"});
    Events events;
    site.pipeline->setObserver([&](const SlotEvent& e) { events.add(e); });
    std::atomic<bool> stop{false};
    Result<RunSummary> summary;
    std::thread line([&] { summary = site.pipeline->serve(2, std::chrono::milliseconds(1), &stop); });
    ASSERT_TRUE(events.waitFor("waiting", 1, "A1"));  // A1's board waits for its label: the line holds
    site.flasher->replace("1-2");
    ASSERT_TRUE(events.waitFor("waiting", 1, "A2"));
    {
        std::lock_guard lock(events.m);
        const auto it = std::find_if(events.all.begin(), events.all.end(),
                                     [](const SlotEvent& e) { return e.seat == "A2" && e.step == "waiting"; });
        EXPECT_EQ(it->devId, 0u);
        EXPECT_EQ(it->message, "the line holds: printer tte-labels is out of labels");
        EXPECT_EQ(events.count("allocated", "A2"), 0);
    }
    site.printer.setFault(std::nullopt);  // a roll is loaded
    line.join();
    ASSERT_TRUE(summary) << summary.error().toString();
    EXPECT_EQ(summary->committed, 2);
    EXPECT_EQ(events.count("committed", "A2"), 1);
}

}  // namespace
}  // namespace tte::station
