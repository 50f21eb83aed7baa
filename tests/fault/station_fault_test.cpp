// The station killed with SIGKILL at each pipeline step in turn, in a real child process:
// after a restart no Dev ID is reused, no record is live without a verified flash and label,
// the journal verifies, and the upload backlog drains exactly once. The station runs on its
// real journal (SQLite) with fakes that keep their state in files across the restart.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "support/fakes/station.h"
#include "support/fakes/station_site.h"

namespace tte::station {
namespace {

using testing::configText;

/// One station "process": everything that lives in the dir survives it.
struct Station {
    explicit Station(const std::string& dir)
        : keys(dir), ms(keys, protocol::LotQuota{"lot-a", protocol::DevId{0x100}, protocol::DevId{0x2ff}, 0}, dir + "/mothership.jsonl") {
        if (!std::filesystem::exists(dir + "/fw.dfu")) std::ofstream(dir + "/fw.dfu") << std::string(1024, 'F');
        config = *parseConfig(configText(), dir);
        std::vector<std::string> ports;
        for (int i = 1; i <= 6; ++i) ports.push_back("1-" + std::to_string(i));
        flasher = std::make_unique<fakes::FakeFlasher>(ports);
        journal = std::move(*Journal::open(config.database, keys));
        pipeline = std::make_unique<Pipeline>(config, *journal, PipelinePorts{keys, *flasher, printer, encoder, clock});
        uploader = std::make_unique<Uploader>(config, *journal, keys, ms, nullptr, clock);
    }
    ManualClock clock;
    fakes::FakeKeys keys;
    fakes::FakeMotherShip ms;
    StationConfig config;
    std::unique_ptr<fakes::FakeFlasher> flasher;
    fakes::FakePrinter printer;
    fakes::FakeEncoder encoder;
    std::unique_ptr<Journal> journal;
    std::unique_ptr<Pipeline> pipeline;
    std::unique_ptr<Uploader> uploader;
};

/// Runs the station until the `n`-th time it reaches `point`, where it is killed.
void runAndDie(const std::string& dir, const std::string& point, int n) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        Station s(dir);
        int hits = 0;
        auto hook = [&](std::string_view p) {
            if (p == point && ++hits == n) std::raise(SIGKILL);
        };
        s.pipeline->setFaultHook([&](std::string_view p, std::uint32_t) { hook(p); });
        s.uploader->setFaultHook(hook);
        if (!s.pipeline->openLot(*s.ms.lotQuota("lot-a"))) _exit(3);
        // Provision one device at a time and upload after each, so every point is reached.
        for (int i = 0; i < 3; ++i) {
            (void)s.pipeline->run(1, 1, {});
            (void)s.uploader->drainOnce();
        }
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the station was not killed at " << point << " (exit "
                                     << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

class KillAt : public ::testing::TestWithParam<std::string> {};

TEST_P(KillAt, RestartKeepsEveryPromise) {
    test::TempDir tmp("station-fault");
    const std::string dir = tmp.path().string();
    runAndDie(dir, GetParam(), 2);  // killed while the second device is at this point
    {
        Station s(dir);
        ASSERT_TRUE(s.pipeline->openLot(std::nullopt));  // MotherShip quota as journalled
        ASSERT_TRUE(s.pipeline->recover());
        auto r = s.pipeline->run(0, 2, {});
        ASSERT_TRUE(r) << r.error().toString();
        ASSERT_TRUE(s.uploader->drain(std::chrono::seconds(5)));

        auto all = *s.journal->entries();
        std::map<std::uint32_t, std::set<std::string>> steps;
        std::multiset<std::uint32_t> allocations;
        for (const auto& e : all) {
            if (!e.devId) continue;
            steps[*e.devId].insert(e.kind);
            if (e.kind == "allocated") allocations.insert(*e.devId);
        }
        // No Dev ID allocated twice.
        EXPECT_EQ(std::set<std::uint32_t>(allocations.begin(), allocations.end()).size(), allocations.size());
        // Every record at the MotherShip belongs to a device that was flashed, labelled and
        // committed, never to a failed one; every committed device is live there.
        for (const auto& [devId, otp] : s.ms.otpByDevId) {
            const auto& st = steps[devId];
            EXPECT_TRUE(st.contains("flashed") && st.contains("labelled") && st.contains("committed")) << devId;
            EXPECT_FALSE(st.contains("failed")) << devId;
        }
        int committed = 0;
        for (const auto& [devId, st] : steps) committed += st.contains("committed");
        EXPECT_EQ(static_cast<int>(s.ms.otpByDevId.size()), committed);
        // Exactly once in effect: stored once each, whatever was re-sent.
        EXPECT_EQ(s.ms.stored, committed);
        auto v = s.journal->verify();
        ASSERT_TRUE(v);
        EXPECT_TRUE(v->ok()) << (v->problems.empty() ? "" : v->problems[0]);
        EXPECT_EQ(s.uploader->backlog()->pending, 0);
        // Six devices got a chance; the one killed mid-pipeline is burned and waits for rework.
        EXPECT_GE(committed, 5);
    }
}

INSTANTIATE_TEST_SUITE_P(EachStep, KillAt,
                         ::testing::Values("allocated", "keyed", "flashed", "printed", "labelled", "signed", "committed", "uploaded"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tte::station
