// A printer fault holds the line, with the real parts: `tte-provision run` provisions 6
// simulated boards over 2 slots through a private cupsd, and after the first label the
// printer is paused (cupsdisable), runs out of labels (the tte-file backend's media-empty
// sensor), or its CUPS stops and starts again on the same port. Each time: the run says in
// one line that the line holds and why, `status` shows it, no board starts while it holds, no
// board fails; once the printer is back the line goes on by itself, and the 6 boards are done
// with exactly 6 printed labels, each decoding to its own board's Enrollment URL.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

#include "support/station_site.h"

namespace tte {
namespace {

using nlohmann::json;
using test::StationSite;

constexpr int kBoards = 6;

class StationHold : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_site = new StationSite({.devices = 3 * kBoards, .slots = 2});
        s_error = s_site->setUp();
    }
    static void TearDownTestSuite() {
        delete s_site;
        s_site = nullptr;
    }
    void SetUp() override { ASSERT_EQ(s_error, ""); }

    /// Runs 6 boards; once the first label of the run is printed, `fault()` breaks the printer;
    /// once the run says `heldLine`, `mend()` repairs it. Checks every promise of the hold.
    void runThroughFault(const std::function<void()>& fault, const std::string& heldLine, const std::function<void()>& mend) {
        StationSite& site = *s_site;
        const auto queue = StationSite::kQueue;
        const std::size_t before = site.cups().outputs(queue).size();
        const auto devicesBefore = site.provisionedDevices();
        std::set<std::string> known;
        for (const auto& d : devicesBefore) known.insert(d.devIdHex);

        const std::string scratch = site.path("hold-" + std::to_string(before)).string();
        test::fs::create_directories(scratch);
        std::vector<std::string> argv = {(test::binDir() / "tte-provision").string(), "--config",
                                         site.path("station/station.toml").string(), "--sim", site.path("sim").string(),
                                         "run", "--count", std::to_string(kBoards), "--slots", "2"};
        test::Process run(argv, scratch, "run", {"SOFTHSM2_CONF=" + site.path("softhsm/softhsm2.conf").string()});
        ASSERT_TRUE(run.started());
        ASSERT_TRUE(test::waitFor([&] { return site.cups().outputs(queue).size() > before || run.exited(); },
                                  std::chrono::seconds(120)))
            << run.out() << run.err();
        ASSERT_FALSE(run.exited()) << "the run ended before its first label: " << run.out() << run.err();
        fault();
        ASSERT_TRUE(test::waitFor([&] { return run.out().find("line held: " + heldLine) != std::string::npos || run.exited(); },
                                  std::chrono::seconds(60)))
            << run.out();
        ASSERT_FALSE(run.exited()) << run.out() << run.err();
        // Held: the status says so, and nothing moves.
        auto status = site.provision({"status"});
        EXPECT_NE(status.out.find("  line: HELD since "), std::string::npos) << status.out << status.err;
        EXPECT_NE(status.out.find(" (printer): "), std::string::npos) << status.out;
        mend();
        EXPECT_EQ(run.wait(std::chrono::seconds(180)), 0) << run.out() << run.err();
        const std::string out = run.out();
        EXPECT_NE(out.find("provisioned 6, failed 0"), std::string::npos) << out;
        // One line when the line holds (again only if the reason changes), one when it resumes.
        EXPECT_EQ(out.find("line held: "), out.rfind("line held: ")) << out;
        EXPECT_NE(out.find("line resumed"), std::string::npos) << out;
        // No slot reports a board failed ("[port] <devid> failed: <step>: ..."); the hold's own
        // words may quote a failed request of the print server.
        std::istringstream lines(out);
        for (std::string line; std::getline(lines, line);) {
            const auto close = line.find("] ");
            const bool slotLine = line.starts_with("[") && close != std::string::npos;
            EXPECT_FALSE(slotLine && line.substr(close + 2).find(" failed") == 8) << line << "\n" << out;
        }

        // Exactly 6 new labels, each its own board's Enrollment URL.
        const auto docs = site.cups().outputs(queue);
        ASSERT_EQ(docs.size(), before + kBoards) << out;
        std::set<std::string> printed;
        for (std::size_t i = before; i < docs.size(); ++i) printed.insert(test::zbarPdf(docs[i], scratch));
        std::set<std::string> expected;
        for (const auto& d : site.provisionedDevices())
            if (!known.contains(d.devIdHex)) expected.insert(d.enrollmentUrl);
        EXPECT_EQ(expected.size(), static_cast<std::size_t>(kBoards));
        EXPECT_EQ(printed, expected);

        // The journal: held and resumed with the reason, no board failed, none started while held.
        bool held = false;
        int holds = 0;
        for (const auto& e : site.journalEntries()) {
            if (!e.contains("kind")) continue;
            const std::string kind = e["kind"];
            EXPECT_NE(kind, "failed") << e.dump();
            if (kind == "held") {
                EXPECT_EQ(e["body"]["reason"], "printer") << e.dump();
                holds += held ? 0 : 1;
                held = true;
            }
            if (kind == "resumed") held = false;
            if (kind == "allocated") {
                EXPECT_FALSE(held) << "a board started while the line held: " << e.dump();
            }
        }
        EXPECT_FALSE(held);
        EXPECT_GE(holds, 1);
        status = site.provision({"status"});
        EXPECT_NE(status.out.find("  line: running (held "), std::string::npos) << status.out;
    }

    static StationSite* s_site;
    static std::string s_error;
};
StationSite* StationHold::s_site = nullptr;
std::string StationHold::s_error;

TEST_F(StationHold, PausedQueueHoldsTheLineUntilEnabled) {
    auto& cups = s_site->cups();
    const std::string q = StationSite::kQueue;
    runThroughFault([&] { ASSERT_EQ(cups.run({"cupsdisable", "-h", cups.server(), q}), 0); },
                    "Printer tte-labels is paused \u2013 resume it (cupsenable tte-labels); the line goes on by itself",
                    [&] { ASSERT_EQ(cups.run({"cupsenable", "-h", cups.server(), q}), 0); });
}

TEST_F(StationHold, EmptyLabelRollHoldsTheLineUntilLoaded) {
    const auto sensor = s_site->cups().outputDir(StationSite::kQueue) / "media-empty";
    runThroughFault([&] { std::ofstream(sensor) << "out of labels\n"; },
                    "Printer tte-labels is out of labels \u2013 load a roll; the line goes on by itself",
                    [&] { test::fs::remove(sensor); });
}

TEST_F(StationHold, StoppedCupsHoldsTheLineUntilItRunsAgain) {
    auto& cups = s_site->cups();
    runThroughFault([&] { cups.stop(); }, "Printer tte-labels cannot be reached",
                    [&] { ASSERT_EQ(cups.restart(), ""); });
}

}  // namespace
}  // namespace tte
