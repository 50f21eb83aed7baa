// The registry's rules on every backend that needs no server: in-memory and SQLite (a temp
// file). PostgreSQL runs the same rules through server_integration_test.
#include <gtest/gtest.h>

#include <thread>

#include "support/mothership.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

DeviceRow row(std::uint32_t devId, const std::string& recordId) {
    DeviceRow d;
    d.devId = devId;
    d.urn = test::devUrn(devId);
    d.fingerprint = std::string(64, 'd');
    d.otpHash.assign(32, 0x42);
    d.lot = "lot-1";
    d.station = "station-1";
    d.recordId = recordId;
    d.recordDigest = "digest-" + recordId;
    d.signature = "sig";
    d.firmwareSha256 = std::string(64, 'f');
    d.created = "2026-11-23T07:00:00Z";
    return d;
}

class RegistryTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        auto r = openRegistry(GetParam() == "memory" ? "memory:" : "sqlite://" + dir.file("r.db"), 2);
        ASSERT_TRUE(r) << r.error().toString();
        reg = std::move(*r);
        ASSERT_TRUE(reg->setLotQuota("lot-1", 0x100, 0x1ff));
    }
    test::TempDir dir;
    std::unique_ptr<Registry> reg;
};

TEST_P(RegistryTest, InsertIsIdempotentByRecordIdAndRespectsTheQuota) {
    EXPECT_EQ(reg->insertDevice(row(0x100, "s-1"), 1).value(), InsertOutcome::stored);
    EXPECT_EQ(reg->insertDevice(row(0x100, "s-1"), 2).value(), InsertOutcome::duplicate);
    auto changed = row(0x100, "s-1");
    changed.recordDigest = "other";
    EXPECT_EQ(reg->insertDevice(changed, 3).error().message, "record id s-1 was stored with other content");
    EXPECT_EQ(reg->insertDevice(row(0x100, "s-2"), 3).error().code, Errc::alreadyExists);
    EXPECT_EQ(reg->insertDevice(row(0x200, "s-3"), 3).error().message,
              "Dev ID 00000200 is outside the quota of lot lot-1 (00000100..000001ff)");
    auto noLot = row(0x101, "s-4");
    noLot.lot = "lot-9";
    EXPECT_EQ(reg->insertDevice(noLot, 3).error().message, "no quota for lot lot-9");
    EXPECT_EQ(reg->lotQuota("lot-1")->used, 1);
    EXPECT_EQ(reg->device(0x100)->state, DeviceState::notMapped);
}

TEST_P(RegistryTest, ClaimIsOneConditionalTransition) {
    ASSERT_TRUE(reg->insertDevice(row(0x100, "s-1"), 1));
    const ControllerAddress c{"192.0.2.1", 5684, std::string(64, 'c')};
    EXPECT_EQ(reg->markRegistered(0x100, "coap", 2).error().code, Errc::conflict);
    ASSERT_TRUE(reg->claim(0x100, c, "kitchen", "198.51.100.1", 2));
    auto second = reg->claim(0x100, c, "", "198.51.100.2", 3);
    EXPECT_EQ(second.error().code, Errc::conflict);
    EXPECT_EQ(second.error().message, "the device is mapped, it cannot become mapped");
    auto d = reg->device(0x100).value();
    EXPECT_EQ(d.controller, c);
    EXPECT_EQ(d.description, "kitchen");
    ASSERT_TRUE(reg->markRegistered(0x100, "coap", 4));
    ASSERT_TRUE(reg->markRegistered(0x100, "coap", 5));  // again: no change
    ASSERT_TRUE(reg->revoke(0x100, "stolen", "admin", 6));
    EXPECT_EQ(reg->claim(0x100, c, "", "x", 7).error().code, Errc::permissionDenied);
    EXPECT_EQ(reg->claim(0x999, c, "", "x", 7).error().code, Errc::notFound);
    std::vector<std::string> events;
    const auto trail = reg->audit(0x100);
    ASSERT_TRUE(trail);
    for (const auto& e : *trail) events.push_back(e.event);
    EXPECT_EQ(events, (std::vector<std::string>{"stored", "mapped", "registered", "revoked"}));
}

TEST_P(RegistryTest, ConcurrentClaimsLetExactlyOneWin) {
    ASSERT_TRUE(reg->insertDevice(row(0x100, "s-1"), 1));
    std::atomic<int> wins{0}, conflicts{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            auto s = reg->claim(0x100, {"192.0.2.1", static_cast<std::uint16_t>(1000 + i), std::string(64, 'c')}, "", "t", 2);
            (s ? wins : conflicts)++;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wins.load(), 1);
    EXPECT_EQ(conflicts.load(), 7);
}

TEST_P(RegistryTest, FailuresAreCountedAndAudited) {
    ASSERT_TRUE(reg->insertDevice(row(0x100, "s-1"), 1));
    ASSERT_TRUE(reg->recordFailure(0x100, "otp-wrong", "198.51.100.7", "GET", 2));
    ASSERT_TRUE(reg->recordFailure(0x150, "devid-unknown", "198.51.100.7", "GET", 3));
    EXPECT_EQ(reg->device(0x100)->failures, 1);
    const auto all = reg->audit(std::nullopt);
    ASSERT_TRUE(all && !all->empty());
    EXPECT_EQ(all->back().event, "devid-unknown");
    EXPECT_EQ(all->back().devId, 0x150u);
}

TEST_P(RegistryTest, StationsAndBoxes) {
    ASSERT_TRUE(reg->addStation({"station-1", std::string(64, '1'), "PEM", 1}));
    EXPECT_EQ(reg->addStation({"station-2", std::string(64, '1'), "PEM", 1}).error().code, Errc::alreadyExists);
    EXPECT_EQ(reg->stationByFingerprint(std::string(64, '1'))->name, "station-1");
    EXPECT_EQ(reg->stationByFingerprint(std::string(64, '2')).error().code, Errc::notFound);
    ASSERT_TRUE(reg->addBox({7, "lot-1", 0x100, 0x10f}));
    ASSERT_TRUE(reg->addBox({7, "lot-1", 0x100, 0x10f}));
    EXPECT_EQ(reg->addBox({7, "lot-1", 0x100, 0x11f}).error().code, Errc::alreadyExists);
    EXPECT_EQ(reg->addBox({8, "lot-1", 0x100, 0x2ff}).error().code, Errc::outOfRange);
}

TEST(SqliteRegistry, AuditIsAppendOnlyAndBackupIsConsistent) {
    test::TempDir dir;
    {
        auto reg = openRegistry("sqlite://" + dir.file("r.db"), 1).value();
        ASSERT_TRUE(reg->setLotQuota("lot-1", 0x100, 0x1ff));
        ASSERT_TRUE(reg->insertDevice(row(0x100, "s-1"), 1));
        ASSERT_TRUE(reg->backup(dir.file("copy.db")));
    }
    auto copy = openRegistry("sqlite://" + dir.file("copy.db"), 1).value();
    EXPECT_EQ(copy->device(0x100)->urn, test::devUrn(0x100));
    auto r = test::runShell("sqlite3 " + dir.file("r.db") + " \"DELETE FROM audit\"");
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.output.find("audit is append-only"), std::string::npos) << r.output;
    EXPECT_EQ(openRegistry("mysql://x", 1).error().code, Errc::invalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Stores, RegistryTest, ::testing::Values("memory", "sqlite"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tte::mothership
