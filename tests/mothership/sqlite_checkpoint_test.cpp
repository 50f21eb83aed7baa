// SQLite's checkpointer (sqlite_db.cpp) on a real file: what it cannot copy back into the
// database shows in the registry's stats (the metrics' tte_registry_wal_* gauges) and in one
// log line, whether a reader's snapshot holds the log or the disk refuses the checkpoint's
// writes (here the process's file-size limit, RLIMIT_FSIZE, as a full disk would), and in two
// when the checkpoint that recovers from the disk's refusal still finds the log held.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "registry_rows.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/base/clock.h"
#include "tte/mothership/logging.h"
#include "tte/mothership/metrics.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

/// The log lines the registry told, kept for the test.
class Told {
public:
    std::function<void(const std::string&)> sink() {
        return [this](const std::string& line) {
            std::lock_guard lock(m_mutex);
            m_lines.push_back(line);
        };
    }
    /// Lines holding `event=<event>`.
    std::vector<std::string> events(const std::string& event) {
        std::lock_guard lock(m_mutex);
        std::vector<std::string> out;
        for (const auto& l : m_lines)
            if (l.starts_with("event=" + event + " ")) out.push_back(l);
        return out;
    }

private:
    std::mutex m_mutex;
    std::vector<std::string> m_lines;
};

class SqliteCheckpointTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto r = openRegistry("sqlite://" + dir.file("r.db"), 2, RegistryOptions{.sqliteCacheMib = RegistryOptions::kDefaultSqliteCacheMib, .warn = told.sink()});
        ASSERT_TRUE(r) << r.error().toString();
        reg = std::move(*r);
        ASSERT_TRUE(reg->setLotQuota("lot-1", 0x100, 0xffffff));
    }

    /// Imports `count` new devices in one transaction.
    void import(std::uint32_t count) {
        std::vector<DeviceRow> batch;
        for (std::uint32_t i = 0; i < count; ++i, ++m_next)
            batch.push_back(test_rows::row(m_next, "r-" + std::to_string(m_next)));
        auto s = reg->importDevices(batch, 1000);
        ASSERT_TRUE(s) << s.error().toString();
    }

    WalState wal() {
        auto st = reg->stats(0);
        EXPECT_TRUE(st) << st.error().toString();
        return st && st->wal ? *st->wal : WalState{};
    }

    /// Waits until the checkpointer has run once more than `before` and `done` holds.
    bool checkpointed(std::int64_t before, const std::function<bool(const WalState&)>& done) {
        return test::waitFor([&] {
            const auto w = wal();
            return w.checkpoints > before && done(w);
        });
    }

    /// A registry of some megabytes, all of it in the database file, whose next checkpoint the
    /// disk refuses: no file of this process may grow past the database's size meanwhile. The
    /// log, started again from its beginning, takes the next commit below that size, but the
    /// checkpoint must append the new pages to the database file, and the kernel refuses those
    /// writes (EFBIG), as a full disk would. Returns the registry's state at the failure, with
    /// the file size allowed again.
    WalState checkpointRefused() {
        import(20000);
        EXPECT_TRUE(checkpointed(0, [](const WalState& w) { return w.uncopied == 0; }));
        const auto dbSize = std::filesystem::file_size(dir.file("r.db"));
        rlimit old{};
        EXPECT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
        const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit limit = old;
        limit.rlim_cur = dbSize;
        EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
        import(12000);  // committed: more than the 1,000 frames that ask for a checkpoint, below the limit
        const bool failed = test::waitFor([&] { return !told.events("registry-checkpoint-failed").empty(); });
        const auto during = wal();
        EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
        std::signal(SIGXFSZ, oldHandler);
        EXPECT_TRUE(failed) << "the checkpoint did not fail under a file-size limit of " << dbSize << " bytes: "
                            << during.checkpoints << " checkpoints, log " << during.frames << " frames";
        return during;
    }

    /// An operator's sqlite3 shell in a transaction: its snapshot needs every frame written after.
    sqlite3* openSnapshot() {
        sqlite3* shell = nullptr;
        EXPECT_EQ(sqlite3_open(dir.file("r.db").c_str(), &shell), SQLITE_OK);
        EXPECT_EQ(sqlite3_exec(shell, "BEGIN; SELECT COUNT(*) FROM devices;", nullptr, nullptr, nullptr), SQLITE_OK);
        return shell;
    }

    test::TempDir dir{"checkpoint"};
    Told told;
    std::unique_ptr<Registry> reg;
    std::uint32_t m_next = 0x100;
};

TEST_F(SqliteCheckpointTest, AReadersSnapshotHoldsTheLogWhichShowsAndIsToldOnce) {
    sqlite3* shell = openSnapshot();

    // Past 16,000 frames left uncopied (64 MiB) the checkpointer says so.
    for (int i = 0; i < 80 && told.events("registry-log-growing").empty(); ++i) import(2000);
    ASSERT_TRUE(test::waitFor([&] { return !told.events("registry-log-growing").empty(); }));
    auto held = wal();
    EXPECT_GE(held.uncopied, 16000);
    EXPECT_GE(held.frames, held.uncopied);
    EXPECT_EQ(held.failures, 0);
    EXPECT_EQ(held.lastError, "");
    const auto line = told.events("registry-log-growing").at(0);
    EXPECT_NE(line.find("database=" + dir.file("r.db")), std::string::npos) << line;
    EXPECT_NE(line.find("a reader's snapshot"), std::string::npos) << line;

    // Still held: more checkpoints, no second line.
    import(2000);
    ASSERT_TRUE(checkpointed(held.checkpoints, [&](const WalState& w) { return w.uncopied > held.uncopied; }));
    EXPECT_EQ(told.events("registry-log-growing").size(), 1u);

    // The shell ends its transaction: the next checkpoint copies the whole log.
    ASSERT_EQ(sqlite3_exec(shell, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(shell);
    const auto before = wal().checkpoints;
    import(2000);
    ASSERT_TRUE(checkpointed(before, [](const WalState& w) { return w.uncopied == 0; }));
    EXPECT_GT(wal().frames, 0);
    EXPECT_TRUE(told.events("registry-checkpoint-failed").empty());
}

TEST_F(SqliteCheckpointTest, ACheckpointTheDiskRefusesIsCountedToldAndTriedAgain) {
    const auto during = checkpointRefused();
    ASSERT_FALSE(HasFailure());

    EXPECT_GE(during.failures, 1);
    EXPECT_NE(during.lastError, "");
    ManualClock clock;
    Metrics metrics;
    metrics.watchRegistry(*reg, clock, std::chrono::milliseconds(0));
    const std::string text = metrics.render();
    EXPECT_NE(text.find("# TYPE tte_registry_checkpoint_failures_total counter\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\ntte_registry_checkpoint_failures_total " + std::to_string(during.failures)), std::string::npos)
        << text;
    EXPECT_NE(text.find("\ntte_registry_wal_uncopied_frames " + std::to_string(during.uncopied)), std::string::npos)
        << text;
    EXPECT_GT(during.uncopied, 1000) << "the log's commits are not in the database file";
    const auto line = told.events("registry-checkpoint-failed").at(0);
    EXPECT_NE(line.find("error=\"" + during.lastError + "\""), std::string::npos) << line;
    // The same fields in a JSON log (log_format = "json").
    const auto json = logLineJson("t", "warning", "tte-mothership", line);
    EXPECT_NE(json.find(R"("event":"registry-checkpoint-failed","database":")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("error":")" + during.lastError + "\""), std::string::npos) << json;
    // The commit stays readable from the log meanwhile.
    EXPECT_TRUE(reg->device(m_next - 1)) << "the last device imported under the limit";
    EXPECT_TRUE(told.events("registry-log-growing").empty());

    // The disk takes writes again: the next commit's checkpoint copies the log and says so, once.
    import(100);
    ASSERT_TRUE(test::waitFor([&] { return !told.events("registry-checkpoint-recovered").empty(); }));
    const auto after = wal();
    EXPECT_EQ(after.lastError, "");
    EXPECT_GE(after.failures, during.failures);
    EXPECT_EQ(after.uncopied, 0);
    EXPECT_EQ(told.events("registry-checkpoint-failed").size(), 1u) << "one line for a run of failures";
    EXPECT_NE(told.events("registry-checkpoint-recovered").at(0).find("failures="), std::string::npos);
    EXPECT_EQ(reg->stats(0).value().devices[0], 32100);
}

// The disk takes writes again while a reader's snapshot holds the log: the one checkpoint that
// copies what the snapshot allows and leaves the rest tells both, the recovery and the log held.
TEST_F(SqliteCheckpointTest, ARecoveryThatLeavesTheLogHeldTellsBoth) {
    checkpointRefused();
    ASSERT_FALSE(HasFailure());
    sqlite3* shell = openSnapshot();
    // One commit of more than 16,000 frames past the snapshot asks for the checkpoint.
    import(160000);
    const bool both = test::waitFor([&] {
        return !told.events("registry-checkpoint-recovered").empty() && !told.events("registry-log-growing").empty();
    });
    const auto held = wal();
    EXPECT_EQ(held.lastError, "");
    EXPECT_GE(held.uncopied, 16000) << "the commit after the snapshot stays in the log";
    EXPECT_TRUE(both) << "recovered told " << told.events("registry-checkpoint-recovered").size()
                      << " times, the log held by the snapshot " << told.events("registry-log-growing").size();
    EXPECT_EQ(told.events("registry-checkpoint-recovered").size(), 1u);
    EXPECT_EQ(told.events("registry-log-growing").size(), 1u);
    ASSERT_EQ(sqlite3_exec(shell, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(shell);
}

}  // namespace
}  // namespace tte::mothership
