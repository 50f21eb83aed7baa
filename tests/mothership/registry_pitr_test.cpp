// Continuous archiving and point-in-time recovery of a PostgreSQL registry (docs/OPERATIONS.md,
// "PostgreSQL: continuous archiving and point-in-time recovery"), with Debian's PostgreSQL 15:
// a server archives its WAL (archive_command), a base backup is taken with pg_basebackup, the
// MotherShip's writes go on, then the server is lost with its data directory, and a new server
// recovers from the base backup and the archive (recovery.signal, restore_command): to the end
// of the archive, to a named restore point, to a time. A segment missing from the archive ends
// recovery at the gap: with a target beyond it PostgreSQL refuses to promote; without a target
// it promotes and says nothing. Its own program and ctest entry, mothership_registry_pitr_test.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "registry_rows.h"
#include "support/postgres.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/base/hex.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

using namespace std::chrono_literals;
using test_rows::describe;
using test_rows::row;

constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";
constexpr std::uint32_t kFirst = 0x100;
constexpr std::int64_t kNow = 10'000;  // the MotherShip's clock as it stamps the registry (unix ms)
constexpr auto kDeadline = 30s;
const ControllerAddress kController{"192.0.2.7", 5684, std::string(64, 'c'), std::nullopt};
const std::vector<FailureSubject> kSubjects{{"dev:00000103", 3}, {"ip:198.51.100.9", 100}};
// The servers skip fsync (and pg_basebackup its sync): this test proves what the archive
// carries, not what a disk keeps through a power cut, and on this machine's disk a recovery's
// first step alone (an fsync of every file of the copied backup) takes 2 s.
const std::string kNoFsync = "-c fsync=off";

/// A shell command line as user postgres (the owner of the archive and the data directories).
test::ShellResult asPostgres(const std::string& command) { return test::runShell("runuser -u postgres -- " + command); }

/// One query through psql, its exit code and rows ('|' between columns).
test::ShellResult tryPsql(const std::string& url, const std::string& query) {
    return test::runSql(url, query);
}

/// One query's rows, without the last newline; a failure of the test when psql fails.
std::string psql(const std::string& url, const std::string& query) {
    auto r = tryPsql(url, query);
    EXPECT_EQ(r.exitCode, 0) << query << ": " << r.output;
    if (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
    return r.output;
}

/// The database a `postgresql:///NAME?…` URL names.
std::string databaseOf(const std::string& url) {
    const std::string scheme = "postgresql:///";
    return url.substr(scheme.size(), url.find('?') - scheme.size());
}

/// What a lookup of the device finds: "stored, STATE" or the registry's error.
std::string lookup(Registry& reg, std::uint32_t devId) {
    auto d = reg.device(devId);
    return d ? "stored, " + std::string(stateName(d->state)) : d.error().message;
}

/// What a MotherShip reads from the registry, as text: every device (its row with the failure
/// count, its OTP hash, its audit trail), the whole trail, stations, lots, the lockouts and counts.
std::string contents(Registry& reg) {
    std::vector<std::uint32_t> ids;
    EXPECT_TRUE(reg.forEachDevice([&](const DeviceRow& d) -> Status { return ids.push_back(d.devId), Status{}; }));
    std::ostringstream s;
    for (const auto id : ids)
        s << describe(reg.device(id).value()) << '\n'
          << toHex(reg.otpHash(id).value().value()) << '\n'
          << describe(reg.audit(id).value());
    s << "trail:\n" << describe(reg.audit(std::nullopt).value());
    // Held in locals: g++ 12 warns falsely (-Wmaybe-uninitialized) on a loop over `….value()`.
    const auto stations = reg.stations();
    for (const auto& station : stations.value())
        s << "station " << station.name << ' ' << station.fingerprint << ' ' << station.addedAt << '\n';
    const auto lots = reg.lots();
    for (const auto& lot : lots.value()) s << "lot " << lot.toJson() << '\n';
    s << "dev:00000103 locked until " << reg.lockedUntil({"dev:00000103"}, kNow + 100).value() << '\n';
    const auto stats = reg.stats(kNow + 100).value();
    s << "devices by state " << stats.devices[0] << ' ' << stats.devices[1] << ' ' << stats.devices[2] << ' '
      << stats.devices[3] << ", locked subjects " << stats.lockedSubjects << '\n';
    return s.str();
}

class RegistryPitrTest : public ::testing::Test {
protected:
    // One initdb for the suite (seconds on a busy disk): each test's server starts on a copy.
    static void SetUpTestSuite() {
        s_template = std::make_unique<test::Postgres>();
        s_database = databaseOf(s_template->newDatabase());
        s_template->stop();
    }
    static void TearDownTestSuite() { s_template.reset(); }

    void SetUp() override {
        // The server's data directory, the archive, the base backup and the recovered data
        // directories, each on its own "disk".
        test::runShell("chown postgres " + m_dir.path().string());
        ASSERT_EQ(asPostgres("mkdir " + archive()).exitCode, 0);
        ASSERT_EQ(asPostgres("cp -a " + s_template->dataDir() + " " + primaryData()).exitCode, 0);
        m_primary = std::make_unique<test::Postgres>(test::Postgres::DataDir{primaryData()}, kNoFsync + " " + archiving());
        m_primary->start();
        m_url = m_primary->url(s_database);
        auto opened = openRegistry(m_url, 2);
        ASSERT_TRUE(opened) << opened.error().toString();
        m_reg = std::move(*opened);
        ASSERT_TRUE(m_reg->addStation({"station-1", std::string(64, 'a'), "pem", 1}));
        ASSERT_TRUE(m_reg->setLotQuota("lot-1", kFirst, 0x3fff));
    }

    [[nodiscard]] std::string archive() const { return m_dir.file("archive"); }
    [[nodiscard]] std::string primaryData() const { return m_dir.file("primary"); }
    /// The settings of a server that archives its WAL (OPERATIONS.md gives them).
    [[nodiscard]] std::string archiving() const {
        return "-c wal_level=replica -c archive_mode=on -c archive_command='test ! -f " + archive() + "/%f && cp %p " +
               archive() + "/%f'";
    }

    /// Devices [first, first + count) stored, each acknowledged as a station's upload is.
    void store(std::uint32_t first, std::uint32_t count, std::int64_t now) {
        for (std::uint32_t id = first; id < first + count; ++id) {
            auto stored = m_reg->insertDevice(row(id, "station-1-" + toHex(id, 8)), now);
            ASSERT_TRUE(stored) << stored.error().toString();
        }
    }

    /// The base backup as ops take it (but for --no-sync: kNoFsync): pg_basebackup from the
    /// running server; `-X stream` puts the WAL written during the backup into it, so the backup
    /// is consistent on its own.
    void baseBackup() {
        auto r = asPostgres(std::string(kBin) + "pg_basebackup -d '" + m_url + "' -D " + m_dir.file("base") +
                            " -X stream -c fast --no-sync");
        ASSERT_EQ(r.exitCode, 0) << "pg_basebackup: " << r.output;
    }

    void restorePoint(const std::string& name) {
        EXPECT_NE(psql(m_url, "SELECT pg_create_restore_point('" + name + "')"), "");
    }

    /// pg_switch_wal(), then waits until PostgreSQL's archiver has archived the segment it closed
    /// (it archives in order: every older segment is in the archive then), named in `segment`.
    void switchWalAndAwaitArchive(std::string& segment) {
        segment = psql(m_url, "SELECT pg_walfile_name(pg_switch_wal())");
        ASSERT_EQ(segment.size(), 24u) << segment;
        // Segment names of one timeline sort as they were written ('-': none archived yet).
        std::string archiver;
        const bool archived = test::waitFor(
            [&] {
                archiver = psql(m_url, "SELECT COALESCE(last_archived_wal, '-'), failed_count, "
                                       "COALESCE(last_failed_wal, '-') FROM pg_stat_archiver");
                return archiver.substr(0, segment.size()) >= segment;
            },
            kDeadline);
        ASSERT_TRUE(archived)
            << "PostgreSQL's archiver did not archive WAL segment '" << segment << "' within 30 s (pg_stat_archiver: "
            << "last archived | failures | last failed: " << archiver << ")";
    }

    /// The server and its data directory lost (a dead disk: no shutdown checkpoint, no last
    /// segment archived): the base backup and the archive are what is left.
    void loseThePrimary() {
        m_reg.reset();
        auto r = asPostgres(std::string(kBin) + "pg_ctl -D " + primaryData() + " -m immediate -w stop");
        EXPECT_EQ(r.exitCode, 0) << r.output;
        std::filesystem::remove_all(primaryData());
        m_primary.reset();
    }

    /// A new server on a copy of the base backup, set up as OPERATIONS.md says to recover from
    /// the archive: recovery.signal, and in its postgresql.auto.conf the restore_command,
    /// `target` and recovery_target_action. Not started yet.
    std::unique_ptr<test::Postgres> recoveryServer(const std::string& name, const std::string& target,
                                                   const std::string& options = kNoFsync) {
        const std::filesystem::path data = m_dir.path() / name;
        auto copied = asPostgres("cp -a " + m_dir.file("base") + " " + data.string());
        if (copied.exitCode != 0) throw std::runtime_error("copying the base backup: " + copied.output);
        test::writeFile(data / "recovery.signal", "");
        test::writeFile(data / "postgresql.auto.conf",
                        test::readText(data / "postgresql.auto.conf") + "restore_command = 'cp " + archive() +
                            "/%f %p'\nrecovery_target_action = 'promote'\n" + target + "\n");
        test::runShell("chown postgres " + (data / "recovery.signal").string() + " " +
                       (data / "postgresql.auto.conf").string());
        return std::make_unique<test::Postgres>(test::Postgres::DataDir{data}, options);
    }

    /// Starts `server` and waits until its recovery has ended and it serves as a primary.
    static void startAndAwaitPromotion(test::Postgres& server) {
        server.start();  // a recovering server accepts read-only connections
        test::ShellResult state;
        bool promoted = false;
        const bool ended = test::waitFor(
            [&] {
                state = tryPsql(server.url("postgres"), "SELECT pg_is_in_recovery()");
                promoted = state.exitCode == 0 && state.output == "f\n";
                return promoted || server.serverPid() == 0;
            },
            kDeadline);
        ASSERT_TRUE(promoted) << (ended ? "PostgreSQL stopped during its recovery"
                                        : "PostgreSQL did not end its recovery within 30 s")
                              << " (pg_is_in_recovery(): " << state.output << "); the server's log:\n"
                              << server.log();
    }

    /// The registry on a recovered server.
    std::unique_ptr<Registry> openRecovered(test::Postgres& server) {
        auto opened = openRegistry(server.url(s_database), 2);
        EXPECT_TRUE(opened) << opened.error().toString();
        return opened ? std::move(*opened) : nullptr;
    }

    static inline std::unique_ptr<test::Postgres> s_template;
    static inline std::string s_database;
    test::TempDir m_dir{"pitr"};
    std::unique_ptr<test::Postgres> m_primary;
    std::string m_url;
    std::unique_ptr<Registry> m_reg;
};

TEST_F(RegistryPitrTest, RecoversEveryAcknowledgedWriteFromTheArchive) {
    ASSERT_NO_FATAL_FAILURE(store(kFirst, 10, kNow));
    ASSERT_NO_FATAL_FAILURE(baseBackup());
    // After the base backup, each write acknowledged (it returned success), as the MotherShip
    // answers a station, an introducer or a device only once it is committed.
    ASSERT_NO_FATAL_FAILURE(store(kFirst + 10, 10, kNow + 1));
    ASSERT_TRUE(m_reg->claim(kFirst + 1, kController, "stored before the backup", "198.51.100.1", kNow + 2));
    ASSERT_TRUE(m_reg->claim(kFirst + 11, kController, "stored after it", "198.51.100.1", kNow + 3));
    ASSERT_TRUE(m_reg->markRegistered(kFirst + 11, "coap 203.0.113.5", kNow + 4));
    ASSERT_TRUE(m_reg->revoke({RevokeTarget::Kind::device, kFirst + 2, {}}, {"returned, damaged", "admin", {}}, kNow + 5));
    ASSERT_TRUE(m_reg->recordFailure(kFirst + 1, "claim-conflict", "198.51.100.2", "already mapped", kNow + 6));
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(m_reg->countFailure(kSubjects, FailurePolicy{}, kFirst + 3, "otp-wrong", "198.51.100.9", "", kNow + 7 + i));
    ASSERT_GT(m_reg->lockedUntil({"dev:00000103"}, kNow + 100).value(), 0);
    const std::string acknowledged = contents(*m_reg);
    const std::string version = psql(m_url, "SELECT MAX(version) FROM schema_versions");
    std::string segment;
    ASSERT_NO_FATAL_FAILURE(switchWalAndAwaitArchive(segment));
    loseThePrimary();

    // The recovered server archives too, into the same archive: its new timeline's files.
    auto server = recoveryServer("recovered", "", kNoFsync + " " + archiving());
    ASSERT_NO_FATAL_FAILURE(startAndAwaitPromotion(*server));
    const std::string url = server->url(s_database);
    EXPECT_FALSE(std::filesystem::exists(server->dataDir() + "/recovery.signal"));
    EXPECT_EQ(psql(url, "SELECT MAX(version) FROM schema_versions"), version);
    auto recovered = openRecovered(*server);
    ASSERT_TRUE(recovered);
    EXPECT_EQ(contents(*recovered), acknowledged);

    // It serves on, on PostgreSQL's timeline 2, whose history file goes into the archive.
    ASSERT_TRUE(recovered->insertDevice(row(kFirst + 20, "station-1-after-recovery"), kNow + 20));
    EXPECT_EQ(lookup(*recovered, kFirst + 20), "stored, not-mapped");
    EXPECT_EQ(psql(url, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"), "00000002");
    EXPECT_TRUE(test::waitFor([&] { return std::filesystem::exists(archive() + "/00000002.history"); }, kDeadline))
        << "the recovered server's archiver did not archive 00000002.history within 30 s; its log:\n"
        << server->log();
}

TEST_F(RegistryPitrTest, RecoversToARestorePointOrATimeBeforeAMistake) {
    ASSERT_NO_FATAL_FAILURE(baseBackup());
    ASSERT_NO_FATAL_FAILURE(store(kFirst, 10, kNow));
    ASSERT_TRUE(m_reg->claim(kFirst + 1, kController, "", "198.51.100.1", kNow + 1));
    ASSERT_TRUE(m_reg->markRegistered(kFirst + 1, "coap 203.0.113.5", kNow + 2));
    // Before a bulk change ops set a restore point; the time is that of PostgreSQL's clock.
    restorePoint("before-revoke");
    const std::string time = psql(m_url, "SELECT clock_timestamp()");
    const std::string before = contents(*m_reg);
    // The mistake: a whole lot revoked (admin revoke --lot); and later work that recovery to a
    // point before it gives up as well.
    auto revoked = m_reg->revoke({RevokeTarget::Kind::lot, 0, "lot-1"}, {"recall", "admin", {}}, kNow + 3);
    ASSERT_TRUE(revoked) << revoked.error().toString();
    ASSERT_EQ(revoked->revoked.size(), 10u);
    ASSERT_NO_FATAL_FAILURE(store(kFirst + 10, 5, kNow + 4));
    std::string segment;
    ASSERT_NO_FATAL_FAILURE(switchWalAndAwaitArchive(segment));
    loseThePrimary();

    const std::pair<std::string, std::string> targets[] = {
        {"recovery_target_name = 'before-revoke'", "recovery stopping at restore point \"before-revoke\""},
        {"recovery_target_time = '" + time + "'", "recovery stopping before commit of transaction"}};
    int n = 0;
    for (const auto& [target, logged] : targets) {
        SCOPED_TRACE(target);
        auto server = recoveryServer("recovered-" + std::to_string(++n), target);
        ASSERT_NO_FATAL_FAILURE(startAndAwaitPromotion(*server));
        EXPECT_NE(server->log().find(logged), std::string::npos) << server->log();
        auto recovered = openRecovered(*server);
        ASSERT_TRUE(recovered);
        EXPECT_EQ(contents(*recovered), before);
        EXPECT_EQ(lookup(*recovered, kFirst), "stored, not-mapped");
        EXPECT_EQ(lookup(*recovered, kFirst + 10), "no device with Dev ID 0000010a");
    }
}

TEST_F(RegistryPitrTest, ASegmentMissingFromTheArchiveEndsRecoveryAtTheGap) {
    ASSERT_NO_FATAL_FAILURE(store(kFirst, 5, kNow));
    ASSERT_NO_FATAL_FAILURE(baseBackup());
    ASSERT_NO_FATAL_FAILURE(store(kFirst + 5, 5, kNow + 1));
    std::string lost, last;
    ASSERT_NO_FATAL_FAILURE(switchWalAndAwaitArchive(lost));
    ASSERT_NO_FATAL_FAILURE(store(kFirst + 10, 5, kNow + 2));
    restorePoint("end-of-shift");
    const std::string all = contents(*m_reg);
    ASSERT_NO_FATAL_FAILURE(switchWalAndAwaitArchive(last));
    loseThePrimary();
    const std::filesystem::path segment = archive() + "/" + lost, aside = m_dir.path() / lost;
    ASSERT_TRUE(std::filesystem::exists(segment)) << "the archive holds no " << segment;
    std::filesystem::rename(segment, aside);

    // A target beyond the gap: PostgreSQL 15 stops with a FATAL and does not promote.
    auto stopped = recoveryServer("to-target", "recovery_target_name = 'end-of-shift'");
    try {
        stopped->start();
    } catch (const std::runtime_error&) {
        // pg_ctl may or may not see the hot standby accept connections before the end: either way
        // the server must stop by itself.
    }
    EXPECT_TRUE(test::waitFor([&] { return stopped->serverPid() == 0; }, kDeadline))
        << "PostgreSQL went on serving although the archive lacks " << lost << "; its log:\n"
        << stopped->log();
    EXPECT_NE(stopped->log().find("FATAL:  recovery ended before configured recovery target was reached"),
              std::string::npos)
        << stopped->log();

    // No target: recovery ends at the gap and the server promotes, without an error. Only the
    // log tells: the archive's later segments were never restored.
    auto silent = recoveryServer("to-end", "");
    ASSERT_NO_FATAL_FAILURE(startAndAwaitPromotion(*silent));
    const std::string log = silent->log();
    EXPECT_NE(log.find("cp: cannot stat '" + segment.string() + "'"), std::string::npos) << log;
    EXPECT_NE(log.find("archive recovery complete"), std::string::npos) << log;
    EXPECT_EQ(log.find("ERROR:"), std::string::npos) << log;
    EXPECT_EQ(log.find("restored log file \"" + last + "\""), std::string::npos) << log;
    EXPECT_TRUE(std::filesystem::exists(archive() + "/" + last));
    auto partial = openRecovered(*silent);
    ASSERT_TRUE(partial);
    EXPECT_EQ(lookup(*partial, kFirst + 4), "stored, not-mapped");
    EXPECT_EQ(lookup(*partial, kFirst + 5), "no device with Dev ID 00000105");

    // The segment found again, the stopped recovery starts again and goes on to its target.
    std::filesystem::rename(aside, segment);
    ASSERT_NO_FATAL_FAILURE(startAndAwaitPromotion(*stopped));
    auto recovered = openRecovered(*stopped);
    ASSERT_TRUE(recovered);
    EXPECT_EQ(contents(*recovered), all);
}

}  // namespace
}  // namespace tte::mothership
