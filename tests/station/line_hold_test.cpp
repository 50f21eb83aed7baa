// The line hold over the fakes: a lost label job is printed once more, a second loss holds
// the line, a late job holds the line instead of failing its board, a printer that stops or
// cannot be reached holds the line without a second job for the waiting label, and nothing is
// failed or burned in any of them. Each hold is in the journal (`held`, `resumed`).
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "support/fakes/station_site.h"
#include "tte/base/hex.h"
#include "tte/station/reports.h"

namespace tte::station {
namespace {

using testing::Site;

PrinterCondition paused() { return {false, true, "printer fake is paused", "resume it (cupsenable fake)"}; }
PrinterCondition unreachable() { return {false, false, "printer fake cannot be reached (connection refused)", "start CUPS"}; }

/// The journal's entries of `kind` ("" for all).
std::vector<JournalEntry> entriesOf(Site& site, const std::string& kind) {
    std::vector<JournalEntry> out;
    auto all = site.journal->entries();
    EXPECT_TRUE(all);
    for (const auto& e : all.value_or(std::vector<JournalEntry>{}))
        if (kind.empty() || e.kind == kind) out.push_back(e);
    return out;
}

/// What the line showed, in order, and what the slots were told.
struct Watch {
    explicit Watch(Site& site) : m_site(site) {
        site.pipeline->lineHold().setObserver([this](const LineState& s) {
            std::lock_guard lock(m);
            lines.push_back(s.held ? s.text() : "resumed");
            jobsWhenShown.push_back(static_cast<int>(m_site.printer.submitted.size()));
        });
        site.pipeline->setObserver([this](const SlotEvent& e) {
            std::lock_guard lock(m);
            if (e.step == "reprint" || e.step == "waiting" || e.step == "failed") slotNotes.push_back(e.step + ": " + e.message);
        });
    }
    std::mutex m;
    std::vector<std::string> lines;
    std::vector<int> jobsWhenShown;
    std::vector<std::string> slotNotes;

private:
    Site& m_site;
};

TEST(LineHold, CancelledJobIsPrintedAgainOnce) {
    Site site("", "", 1);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    Watch watch(site);
    site.printer.jobScripts = {{fakes::FakePrinter::Fate::cancelled, 2}};
    auto r = site.pipeline->run(0, 1, {});
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 1);
    EXPECT_EQ(r->failed, 0);
    ASSERT_EQ(site.printer.submitted.size(), 2u);
    EXPECT_EQ(site.printer.submitted[0], site.printer.submitted[1]);  // the same label, the same OTP
    EXPECT_EQ(site.printer.mostOpenJobsOfOneLabel, 1);
    ASSERT_EQ(watch.slotNotes.size(), 1u);
    EXPECT_EQ(watch.slotNotes[0], "reprint: job 1 on fake is cancelled: the label was not printed");
    EXPECT_TRUE(watch.lines.empty());  // one loss does not hold the line
    EXPECT_TRUE(entriesOf(site, "held").empty());
    // Both jobs journalled for the board; the printed one in `labelled`.
    auto printing = entriesOf(site, "printing");
    ASSERT_EQ(printing.size(), 2u);
    EXPECT_EQ(printing[0].body["job"], 1);
    EXPECT_EQ(printing[1].body["job"], 2);
    EXPECT_EQ(entriesOf(site, "labelled").at(0).body["job"], "job-2");
}

TEST(LineHold, SecondLostJobHoldsTheLineUntilThePrinterWasStoppedAndResumed) {
    Site site("", "", 2);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    Watch watch(site);
    site.printer.jobScripts = {{fakes::FakePrinter::Fate::cancelled, 0}, {fakes::FakePrinter::Fate::aborted, 1}};
    // Ready while the two jobs are lost and for three rounds after: the line stays held, no
    // third job; then the operator pauses and resumes the printer.
    site.printer.conditions = {{}, {}, {}, {}, {}, {}, paused(), {}};
    auto r = site.pipeline->run(0, 1, {});
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 2);
    EXPECT_EQ(r->failed, 0);
    EXPECT_TRUE(entriesOf(site, "failed").empty());
    ASSERT_EQ(site.printer.submitted.size(), 4u);  // 2 lost + the one printed, then the second board
    EXPECT_EQ(site.printer.submitted[0], site.printer.submitted[2]);
    ASSERT_GE(watch.lines.size(), 2u);
    EXPECT_EQ(watch.lines[0],
              "Two label jobs of device 00000100 were lost (job 2 on fake is aborted: the label was not printed) \u2013 "
              "check the printer, then pause and resume it or press Resume");
    EXPECT_EQ(watch.jobsWhenShown[0], 2);
    EXPECT_EQ(watch.lines.back(), "resumed");
    for (std::size_t i = 0; i + 1 < watch.jobsWhenShown.size(); ++i) EXPECT_EQ(watch.jobsWhenShown[i], 2) << i;
    auto held = entriesOf(site, "held");
    ASSERT_FALSE(held.empty());
    EXPECT_EQ(held[0].body["reason"], "printer");
    EXPECT_EQ(entriesOf(site, "resumed").size(), 1u);
    // The second board was allocated only after the line resumed.
    bool resumed = false;
    for (const auto& e : entriesOf(site, "")) {
        if (e.kind == "resumed") resumed = true;
        if (e.kind == "allocated" && e.devId == 0x101u) {
            EXPECT_TRUE(resumed);
        }
    }
}

TEST(LineHold, OperatorResumeReleasesALineHeldByTwoLostJobs) {
    Site site("", "", 1);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    site.printer.jobScripts = {{fakes::FakePrinter::Fate::cancelled, 0}, {fakes::FakePrinter::Fate::cancelled, 0}};
    LineHold& hold = site.pipeline->lineHold();
    std::thread operatorThread([&] {
        // The operator presses Resume once the banner shows.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!hold.held() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
        hold.operatorResume();
    });
    auto r = site.pipeline->run(0, 1, {});
    operatorThread.join();
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 1);
    EXPECT_EQ(site.printer.submitted.size(), 3u);
    EXPECT_EQ(entriesOf(site, "held").size(), 1u);
    EXPECT_EQ(entriesOf(site, "resumed").size(), 1u);
}

TEST(LineHold, LateJobHoldsTheLineInsteadOfFailingTheBoard) {
    Site site("", "", 1);
    site.config.labelJobTimeoutS = 2;  // 4 polls of 500 ms on the manual clock
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    Watch watch(site);
    site.printer.jobScripts = {{fakes::FakePrinter::Fate::printed, 12}};
    auto r = site.pipeline->run(0, 1, {});
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 1);
    EXPECT_EQ(r->failed, 0);
    EXPECT_EQ(site.printer.submitted.size(), 1u);  // waited for, never printed twice
    ASSERT_EQ(watch.lines.size(), 2u);
    EXPECT_EQ(watch.lines[0],
              "The label of device 00000100 did not print within 2 s (job 1 on fake is pending) \u2013 check the printer; "
              "the label prints when it is back; the line goes on by itself");
    EXPECT_EQ(watch.lines[1], "resumed");
    auto held = entriesOf(site, "held");
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(held[0].body["reason"], "printer");
    auto resumed = entriesOf(site, "resumed");
    ASSERT_EQ(resumed.size(), 1u);
    EXPECT_GE(resumed[0].body["held_s"].get<int>(), 4);  // 12 polls of 500 ms, held after 4
}

TEST(LineHold, APrintedLabelResumesALineTheQueueStillShowsStopped) {
    // CUPS reports a queue's state and a job's state apart: the last look at the queue may
    // still show it paused when the job is already printed. The line runs on all the same.
    Site site("", "", 2);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    site.printer.conditions = {paused(), paused()};
    site.printer.jobScripts = {{fakes::FakePrinter::Fate::printed, 1}};
    std::atomic<bool> stop{false};
    std::atomic<bool> done{false};
    Result<RunSummary> r = fail(Errc::internal, "not run");
    std::thread run([&] {
        r = site.pipeline->run(0, 1, {}, &stop);
        done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    stop = true;  // ends a run stuck behind a line nobody releases
    run.join();
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 2);
    EXPECT_FALSE(site.pipeline->lineHold().held());
    EXPECT_EQ(entriesOf(site, "held").size(), 1u);
    EXPECT_EQ(entriesOf(site, "resumed").size(), 1u);
}

TEST(LineHold, StoppedOrUnreachablePrinterHoldsWithoutASecondJob) {
    Site site("", "", 3);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    Watch watch(site);
    // The first board's job waits while the printer is paused, then cannot be reached.
    site.printer.jobScripts = {{fakes::FakePrinter::Fate::printed, 8}};
    site.printer.conditions = {{}, paused(), paused(), paused(), unreachable(), unreachable(), unreachable()};
    auto r = site.pipeline->run(0, 1, {});
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 3);
    EXPECT_EQ(r->failed, 0);
    EXPECT_EQ(site.printer.submitted.size(), 3u);
    EXPECT_EQ(site.printer.mostOpenJobsOfOneLabel, 1);
    ASSERT_EQ(watch.lines.size(), 3u);
    EXPECT_EQ(watch.lines[0], "Printer fake is paused \u2013 resume it (cupsenable fake); the line goes on by itself");
    EXPECT_EQ(watch.lines[1], "Printer fake cannot be reached (connection refused) \u2013 start CUPS; the line goes on by itself");
    EXPECT_EQ(watch.lines[2], "resumed");
    EXPECT_EQ(watch.slotNotes, (std::vector<std::string>{"waiting: printer fake is paused",
                                                         "waiting: printer fake cannot be reached (connection refused)"}));
    EXPECT_EQ(entriesOf(site, "held").size(), 2u);  // one per reason shown
    EXPECT_EQ(entriesOf(site, "resumed").size(), 1u);
}

TEST(LineHold, PrinterDownAtSubmitHoldsAndSubmitsOnceBack) {
    Site site("", "", 1);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    site.printer.conditions = {unreachable(), unreachable(), {}};
    auto r = site.pipeline->run(0, 1, {});
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 1);
    EXPECT_EQ(site.printer.submitted.size(), 1u);
    EXPECT_EQ(entriesOf(site, "held").size(), 1u);
}

TEST(LineHold, StopWhileHeldLeavesTheWaitingBoardForTheNextStart) {
    Site site("", "", 2);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    site.printer.setFault(PrinterCondition{false, true, "printer fake is out of labels", "load a roll"});
    std::atomic<bool> stop{false};
    Result<RunSummary> r = fail(Errc::internal, "not run");
    std::thread run([&] { r = site.pipeline->run(0, 1, {}, &stop); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!site.pipeline->lineHold().held() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    stop = true;  // the operator closes the station while the line holds
    run.join();
    site.printer.setFault(std::nullopt);
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->committed, 0);
    EXPECT_EQ(r->failed, 0);
    ASSERT_EQ(r->failures.size(), 1u);
    EXPECT_EQ(r->failures[0], "1-1: the station stopped while the line held: device 00000100 waits for its label (rework at the next start)");
    EXPECT_TRUE(entriesOf(site, "failed").empty());
    // The next start marks it for rework and cancels its job.
    site.reopen();
    auto recovered = site.pipeline->recover();
    ASSERT_TRUE(recovered);
    EXPECT_EQ(*recovered, 1);
    EXPECT_EQ(site.printer.cancelled, (std::vector<int>{1}));
}

TEST(LineHold, AStartWaitingForAHeldLineGivesUpWhenTheRunStops) {
    Site site("", "", 1);
    LineHold& hold = site.pipeline->lineHold();
    ASSERT_TRUE(hold.hold("printer", HoldReason::printer, "printer fake is out of labels", "load a roll"));
    std::atomic<bool> stop{false};
    std::atomic<bool> started{false};
    Status r;
    std::thread waiter([&] {
        r = hold.whenRunning(&stop, [&]() -> Status {
            started = true;
            return {};
        });
    });
    stop = true;
    waiter.join();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::cancelled);
    EXPECT_EQ(r.error().message, "the run was stopped while the line was held");
    EXPECT_FALSE(started);
    // A running line starts at once, whatever the flag says.
    ASSERT_TRUE(hold.release("printer"));
    EXPECT_TRUE(hold.whenRunning(&stop, [&]() -> Status {
        started = true;
        return {};
    }));
    EXPECT_TRUE(started);
}

TEST(LineHold, StatusShowsAHeldLineAndARestartResumesIt) {
    Site site("", "", 1);
    ASSERT_TRUE(site.pipeline->openLot(*site.ms->lotQuota("lot-a")));
    ASSERT_TRUE(site.pipeline->lineHold().hold("printer", HoldReason::printer, "printer fake is out of labels", "load a roll"));
    auto s = stationStatus(site.config, *site.journal, *site.uploader, site.clock.wallNow());
    ASSERT_TRUE(s);
    const std::string text = formatStatus(site.config, *s);
    EXPECT_NE(text.find("  line: HELD since "), std::string::npos) << text;
    EXPECT_NE(text.find(" (printer): printer fake is out of labels \u2013 load a roll\n"), std::string::npos) << text;
    // The station stops while held; the next start resumes the line (it holds again by itself).
    site.reopen();
    ASSERT_TRUE(site.pipeline->recover());
    s = stationStatus(site.config, *site.journal, *site.uploader, site.clock.wallNow());
    EXPECT_NE(formatStatus(site.config, *s).find("  line: running (held 1 time so far)\n"), std::string::npos)
        << formatStatus(site.config, *s);
    EXPECT_EQ(entriesOf(site, "resumed").at(0).body["after"], "station restarted");
}

}  // namespace
}  // namespace tte::station
