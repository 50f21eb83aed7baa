// Reads of the whole registry. The devices of each lot by state (schema version 12's
// `device_counts`), which the registry's gauges and a lot's use read instead of counting every
// device: after every kind of change, refused ones and changes made by hand with SQL included,
// they agree with a count of the devices themselves (forEachDevice, the oracle); also while two registries on one database
// claim and read the counts at once (on PostgreSQL the rows of differences folded meanwhile).
// On the in-memory registry (which counts its map), SQLite and PostgreSQL (a server the test
// starts; its ctest entry is mothership_registry_test_postgresql). And the walk of every device
// (forEachDevice, `admin export`): in Dev ID order, a page at a time, in one snapshot.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <atomic>
#include <map>
#include <thread>

#include "registry_rows.h"
#include "support/mothership.h"
#include "support/postgres.h"
#include "support/process.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

using test_rows::row;
using test_rows::statusOf;

/// What a read of every device counts: by state, and by lot.
struct Counted {
    std::array<std::int64_t, 4> byState{};
    std::map<std::string, std::uint64_t> byLot;
};

Counted countDevices(Registry& reg) {
    Counted c;
    EXPECT_TRUE(reg.forEachDevice([&](const DeviceRow& d) -> Status {
        ++c.byState.at(static_cast<std::size_t>(d.state));
        ++c.byLot[d.lot];
        return {};
    }));
    return c;
}

class RegistryCountsTest : public ::testing::TestWithParam<std::string> {
protected:
    static void TearDownTestSuite() { pg.reset(); }

    void SetUp() override {
        m_url = test_rows::freshRegistryUrl(GetParam(), dir, pg);
        auto r = openRegistry(m_url, 4);
        ASSERT_TRUE(r) << r.error().toString();
        reg = std::move(*r);
        ASSERT_TRUE(reg->setLotQuota("lot-1", 0x100, 0x1ff));
        ASSERT_TRUE(reg->setLotQuota("lot-2", 0x200, 0x2ff));
        ASSERT_TRUE(reg->setLotQuota("lot-3", 0x300, 0x3ff));  // no device ever
    }

    /// The gauges (stats) and each lot's use (lots, lotQuota) against a count of the devices.
    void expectCounts(const std::string& step) {
        SCOPED_TRACE(step);
        const Counted truth = countDevices(*reg);
        const auto stats = reg->stats(0);
        ASSERT_TRUE(stats) << stats.error().toString();
        for (std::size_t s = 0; s < 4; ++s)
            EXPECT_EQ(stats->devices[s], truth.byState[s]) << stateName(static_cast<DeviceState>(s));
        const auto lots = reg->lots();
        ASSERT_TRUE(lots) << lots.error().toString();
        ASSERT_EQ(lots->size(), 3u);
        for (const auto& l : *lots) {
            const auto expected = truth.byLot.contains(l.lot) ? truth.byLot.at(l.lot) : 0;
            EXPECT_EQ(l.used, expected) << l.lot;
            EXPECT_EQ(reg->lotQuota(l.lot).value().used, expected) << l.lot;
        }
    }

    /// One statement run by the database's own shell, as ops would by hand.
    std::string sql(const std::string& statement) {
        auto r = test::runSql(m_url, statement);
        EXPECT_EQ(r.exitCode, 0) << r.output;
        return r.output;
    }

    static DeviceRow inLot(std::uint32_t devId, const std::string& recordId, const std::string& lot) {
        auto d = row(devId, recordId);
        d.lot = lot;
        return d;
    }

    static inline std::unique_ptr<test::Postgres> pg;
    test::TempDir dir;
    std::string m_url;
    std::unique_ptr<Registry> reg;
};

TEST_P(RegistryCountsTest, EveryKindOfChangeIsCountedAndARefusedOneIsNot) {
    expectCounts("empty");
    for (std::uint32_t i = 0; i < 6; ++i) ASSERT_TRUE(reg->insertDevice(row(0x100 + i, "a-" + std::to_string(i)), 1));
    ASSERT_TRUE(reg->insertDevice(inLot(0x200, "b-0", "lot-2"), 1));
    EXPECT_EQ(reg->insertDevice(row(0x100, "a-0"), 1).value(), InsertOutcome::duplicate);  // a re-send
    EXPECT_FALSE(reg->insertDevice(row(0x100, "a-other"), 1));                            // its Dev ID taken
    expectCounts("inserted");

    std::vector<DeviceRow> batch;
    for (std::uint32_t i = 0; i < 20; ++i) batch.push_back(inLot(0x201 + i, "b-" + std::to_string(i + 1), "lot-2"));
    batch.push_back(row(0x105, "a-5"));  // stored before: a duplicate
    const auto imported = reg->importDevices(batch, 2);
    ASSERT_TRUE(imported) << imported.error().toString();
    EXPECT_EQ(imported->stored, 20u);
    EXPECT_EQ(imported->duplicates, 1u);
    auto refused = batch;
    for (auto& d : refused) d.recordId += "-again", d.devId += 0x30, d.urn = test::devUrn(d.devId);
    refused.back() = inLot(0x2ff + 1, "outside", "lot-2");  // beyond the lot's quota: the whole batch refused
    EXPECT_FALSE(reg->importDevices(refused, 3));
    expectCounts("imported");

    const ControllerAddress c{"192.0.2.1", 5684, std::string(64, 'c')};
    ASSERT_TRUE(reg->claim(0x100, c, "", "198.51.100.1", 4));
    ASSERT_TRUE(reg->claim(0x101, c, "", "198.51.100.1", 4));
    EXPECT_FALSE(reg->claim(0x100, c, "", "198.51.100.2", 5));  // claimed already
    EXPECT_EQ(reg->preEnroll(0x102, PreEnrollment{"station-1", c, ""}, 5).value(), DeviceState::mapped);
    ASSERT_TRUE(reg->markRegistered(0x100, "coap", 6));
    ASSERT_TRUE(reg->markRegistered(0x100, "coap", 6));  // again: no change
    EXPECT_FALSE(reg->markRegistered(0x103, "coap", 6));  // never mapped
    expectCounts("claimed and registered");

    using K = RevokeTarget::Kind;
    ASSERT_TRUE(reg->revoke({K::device, 0x101, {}}, {"returned", "admin", std::nullopt}, 7));
    ASSERT_TRUE(reg->revoke({K::lot, 0, "lot-2"}, {"recall", "admin", std::nullopt}, 8));
    ASSERT_TRUE(reg->revoke({K::lot, 0, "lot-2"}, {"recall", "admin", std::nullopt}, 9));  // all revoked before
    auto reworked = row(0x110, "a-rework");
    reworked.reworkedFrom = 0x101;
    ASSERT_TRUE(reg->insertDevice(reworked, 10));
    expectCounts("revoked and reworked");

    if (GetParam() == "memory") return;
    // Changed by hand in the database: the triggers count it too.
    sql("UPDATE devices SET state = 'revoked' WHERE devid = 260");  // 0x104
    sql("UPDATE devices SET description = 'hall' WHERE devid = 261");
    sql("DELETE FROM devices WHERE devid = 259");  // 0x103
    expectCounts("changed by hand");
}

TEST_P(RegistryCountsTest, TwoRegistriesOnOneDatabaseClaimWhileTheCountsAreRead) {
    if (GetParam() == "memory") GTEST_SKIP() << "two in-memory registries share no devices";
    constexpr std::uint32_t kDevices = 160;
    std::vector<DeviceRow> devices;
    for (std::uint32_t i = 0; i < kDevices; ++i)
        devices.push_back(inLot(i < 100 ? 0x100 + i : 0x200 + i, "r-" + std::to_string(i), i < 100 ? "lot-1" : "lot-2"));
    ASSERT_TRUE(reg->importDevices(devices, 1));
    auto other = openRegistry(m_url, 4);
    ASSERT_TRUE(other) << other.error().toString();
    Registry* registries[] = {reg.get(), other->get()};

    std::atomic<std::uint32_t> next{0};
    std::atomic<bool> done{false};
    std::atomic<int> claimed{0}, registered{0}, readErrors{0}, reads{0};
    std::vector<std::thread> claimers;
    for (int t = 0; t < 4; ++t) {
        claimers.emplace_back([&, t] {
            Registry& r = *registries[t % 2];
            for (std::uint32_t k; (k = next++) < kDevices;) {
                const auto devId = devices[k].devId;
                if (!r.claim(devId, {"192.0.2.1", 5684, std::string(64, 'c')}, "", "t", 2)) continue;
                ++claimed;
                if (k % 3 == 0 && r.markRegistered(devId, "coap", 3)) ++registered;  // every third registers
            }
        });
    }
    // Both registries read (and on PostgreSQL fold) the counts meanwhile.
    std::vector<std::thread> readers;
    for (Registry* r : registries) {
        readers.emplace_back([&, r] {
            while (!done) {
                if (!r->stats(0) || !r->lots()) ++readErrors;
                ++reads;
            }
        });
    }
    for (auto& t : claimers) t.join();
    done = true;
    for (auto& t : readers) t.join();
    EXPECT_EQ(claimed.load(), static_cast<int>(kDevices));
    EXPECT_EQ(readErrors.load(), 0);
    EXPECT_GT(reads.load(), 0);
    expectCounts("after the claims");
    EXPECT_EQ(registered.load(), static_cast<int>((kDevices + 2) / 3));
    const auto stats = registries[1]->stats(0).value();
    EXPECT_EQ(stats.devices[static_cast<int>(DeviceState::registered)], registered.load());
    EXPECT_EQ(stats.devices[static_cast<int>(DeviceState::mapped)], claimed.load() - registered.load());
}

TEST_P(RegistryCountsTest, OnPostgresqlEachStatementAppendsItsDifferencesAndAReaderFoldsThem) {
    if (GetParam() != "postgresql") GTEST_SKIP() << "SQLite keeps one row per lot and state; memory counts its map";
    std::vector<DeviceRow> batch;
    for (std::uint32_t i = 0; i < 50; ++i) batch.push_back(row(0x100 + i, "s-" + std::to_string(i)));
    ASSERT_TRUE(reg->importDevices(batch, 1));
    EXPECT_EQ(sql("SELECT lot, state, n FROM device_counts"), "lot-1|not-mapped|50\n");  // one row for the batch
    const ControllerAddress c{"192.0.2.1", 5684, std::string(64, 'c')};
    for (std::uint32_t i = 0; i < 3; ++i) ASSERT_TRUE(reg->claim(0x100 + i, c, "", "t", 2));
    EXPECT_EQ(sql("SELECT COUNT(*), SUM(n) FROM device_counts"), "7|50\n");  // each claim: -1 and +1
    EXPECT_EQ(reg->stats(0).value().devices[static_cast<int>(DeviceState::mapped)], 3);
    EXPECT_EQ(sql("SELECT lot, state, n FROM device_counts ORDER BY state"), "lot-1|mapped|3\nlot-1|not-mapped|47\n");

    // A reader that finds another folder at work (the advisory lock taken, here by a psql
    // session) leaves the rows to it and still reads the right sums.
    ASSERT_TRUE(reg->claim(0x110, c, "", "t", 3));
    test::Process holder({"/usr/bin/psql", m_url, "-qAtX", "-c", "BEGIN", "-c", "SELECT pg_advisory_xact_lock(7475)", "-c",
                          "SELECT pg_sleep(60)"},
                         dir.path(), "holder");
    const std::string held = "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7475 AND granted"
                             " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    ASSERT_TRUE(test::waitFor([&] { return sql(held) == "1\n"; })) << holder.err();
    EXPECT_EQ(reg->stats(0).value().devices[static_cast<int>(DeviceState::mapped)], 4);
    EXPECT_EQ(sql("SELECT COUNT(*) FROM device_counts"), "4\n");  // left as they were
    sql("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7475");
    holder.wait();
    EXPECT_EQ(reg->stats(0).value().devices[static_cast<int>(DeviceState::notMapped)], 46);
    EXPECT_EQ(sql("SELECT COUNT(*) FROM device_counts"), "2\n");  // folded by this reader now
}

TEST_P(RegistryCountsTest, TheWalkOfEveryDeviceGoesInDevIdOrderAPageAtATimeInOneSnapshot) {
    if (GetParam() == "memory") GTEST_SKIP() << "the in-memory registry walks its map: no pages, no snapshot";
    // More than two pages of forEachDevice (sql_values.h, kDevicePage: 10,000), imported in a
    // shuffled order (7919 is prime to 20,001).
    ASSERT_TRUE(reg->setLotQuota("lot-big", 0x10000, 0x1ffff));
    constexpr std::uint32_t kDevices = 20'001;
    std::vector<DeviceRow> batch;
    for (std::uint32_t i = 0; i < kDevices; ++i) {
        const std::uint32_t devId = 0x10000 + (i * 7919u) % kDevices;
        batch.push_back(inLot(devId, "w-" + std::to_string(devId), "lot-big"));
    }
    ASSERT_TRUE(reg->importDevices(batch, 1));
    std::vector<std::uint32_t> seen;
    ASSERT_TRUE(reg->forEachDevice([&](const DeviceRow& d) -> Status {
        seen.push_back(d.devId);
        // A device stored during the walk, in a page still to come, is not in it.
        if (seen.size() == 5'000) return statusOf(reg->insertDevice(inLot(0x1ffff, "w-late", "lot-big"), 2));
        return {};
    }));
    ASSERT_EQ(seen.size(), kDevices);
    EXPECT_EQ(seen.front(), 0x10000u);
    EXPECT_EQ(seen.back(), 0x10000u + kDevices - 1);
    EXPECT_TRUE(std::ranges::adjacent_find(seen, std::greater_equal<>()) == seen.end()) << "not in Dev ID order";
    EXPECT_EQ(reg->device(0x1ffff).value().recordId, "w-late");

    // An error of the callback ends the walk and is its result.
    std::size_t calls = 0;
    const auto stopped = reg->forEachDevice([&](const DeviceRow&) -> Status {
        return ++calls == 15'000 ? fail(Errc::io, "export: write failed") : Status{};
    });
    ASSERT_FALSE(stopped);
    EXPECT_EQ(stopped.error().message, "export: write failed");
    EXPECT_EQ(calls, 15'000u);
}

INSTANTIATE_TEST_SUITE_P(Stores, RegistryCountsTest, ::testing::Values("memory", "sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tte::mothership
