// The registry's rules on every backend: in-memory, SQLite (a temp file) and PostgreSQL (a
// server the test starts, one database per test; ctest runs it as
// mothership_registry_test_postgresql). On PostgreSQL every statement runs prepared on its
// pooled connection, most of them many times here.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "registry_rows.h"
#include "support/mothership.h"
#include "support/postgres.h"

#include "tte/mothership/admin.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

using test_rows::row;

class RegistryTest : public ::testing::TestWithParam<std::string> {
protected:
    static void TearDownTestSuite() { pg.reset(); }

    void SetUp() override {
        auto r = openRegistry(test_rows::freshRegistryUrl(GetParam(), dir, pg), 2);
        ASSERT_TRUE(r) << r.error().toString();
        reg = std::move(*r);
        ASSERT_TRUE(reg->setLotQuota("lot-1", 0x100, 0x1ff));
    }
    static inline std::unique_ptr<test::Postgres> pg;
    test::TempDir dir;
    std::unique_ptr<Registry> reg;
};

TEST_P(RegistryTest, InsertIsIdempotentByRecordIdAndRespectsTheQuota) {
    EXPECT_EQ(reg->insertDevice(row(0x100, "s-1"), 1).value(), InsertOutcome::stored);
    EXPECT_EQ(reg->insertDevice(row(0x100, "s-1"), 2).value(), InsertOutcome::duplicate);
    auto changed = row(0x100, "s-1");
    changed.recordDigest = protocol::sha256Hex("other content");
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

TEST_P(RegistryTest, TheBoardsMcuUniqueIdIsKeptWithItsRowAndExported) {
    auto withUid = row(0x100, "s-1");
    withUid.mcuUid = "002d00303334510b32313533";
    ASSERT_TRUE(reg->insertDevice(withUid, 1));
    ASSERT_TRUE(reg->insertDevice(row(0x101, "s-2"), 1));  // a record of a station that does not read it
    EXPECT_EQ(reg->device(0x100)->mcuUid, "002d00303334510b32313533");
    EXPECT_EQ(reg->device(0x101)->mcuUid, std::nullopt);
    std::ostringstream out;
    ASSERT_TRUE(adminExport(*reg, "jsonl", out));
    EXPECT_NE(out.str().find(R"("mcu_uid":"002d00303334510b32313533")"), std::string::npos) << out.str();
    EXPECT_NE(out.str().find(R"("mcu_uid":null)"), std::string::npos) << out.str();
    auto shown = adminShow(*reg, 0x100);
    ASSERT_TRUE(shown);
    EXPECT_NE(shown->find(R"("mcu_uid": "002d00303334510b32313533")"), std::string::npos) << *shown;
}

TEST_P(RegistryTest, OtpHashIsTheStoredHashOrNothing) {
    ASSERT_TRUE(reg->insertDevice(row(0x100, "s-1"), 1));
    EXPECT_EQ(reg->otpHash(0x100).value(), std::vector<std::uint8_t>(32, 0x42));
    EXPECT_EQ(reg->otpHash(0x101).value(), std::nullopt);
    // Wrong OTPs counted against the device change nothing in what the OTP check reads.
    ASSERT_TRUE(reg->countFailure({{"dev:00000100", 5}}, {60'000, 120'000}, 0x100, "otp-wrong", "x", "GET", 2));
    EXPECT_EQ(reg->otpHash(0x100).value(), std::vector<std::uint8_t>(32, 0x42));
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
    ASSERT_TRUE(reg->revoke({RevokeTarget::Kind::device, 0x100, {}}, {"stolen", "admin", std::nullopt}, 6));
    EXPECT_EQ(reg->claim(0x100, c, "", "x", 7).error().code, Errc::permissionDenied);
    EXPECT_EQ(reg->claim(0x999, c, "", "x", 7).error().code, Errc::notFound);
    std::vector<std::string> events;
    const auto trail = reg->audit(0x100);
    ASSERT_TRUE(trail);
    for (const auto& e : *trail) events.push_back(e.event);
    EXPECT_EQ(events, (std::vector<std::string>{"stored", "mapped", "registered", "revoked"}));
}

TEST_P(RegistryTest, AStationPreEnrollsOnlyItsOwnNotMappedDevice) {
    auto own = row(0x100, "s-1");
    ASSERT_TRUE(reg->insertDevice(own, 1));
    ASSERT_TRUE(reg->insertDevice(row(0x101, "s-2"), 1));
    const PreEnrollment p{own.station, ControllerAddress{"192.0.2.1", 5684, std::string(64, 'c')}, "lot"};
    EXPECT_EQ(reg->preEnroll(0x100, PreEnrollment{"other", p.controller, ""}, 2).error().message,
              "device 00000100 was provisioned by station " + own.station + ", not by other: a station pre-enrolls only "
              "its own devices");
    EXPECT_EQ(reg->preEnroll(0x100, p, 2).value(), DeviceState::mapped);
    EXPECT_EQ(reg->preEnroll(0x100, p, 3).value(), DeviceState::mapped);  // a re-send: no change
    auto d = reg->device(0x100).value();
    EXPECT_EQ(d.preEnrolledBy, own.station);
    EXPECT_EQ(d.controller, p.controller);
    EXPECT_EQ(reg->claim(0x100, p.controller, "", "x", 4).error().code, Errc::conflict);  // the OTP cannot claim it
    ASSERT_TRUE(reg->markRegistered(0x100, "coap", 5));
    EXPECT_EQ(reg->preEnroll(0x100, p, 6).value(), DeviceState::registered);
    ASSERT_TRUE(reg->claim(0x101, p.controller, "", "x", 7));
    EXPECT_EQ(reg->preEnroll(0x101, p, 8).error().message,
              "device 00000101 is mapped already: its label's holder mapped it to a Controller");
    EXPECT_EQ(reg->device(0x101)->preEnrolledBy, "");
    EXPECT_EQ(reg->preEnroll(0x999, p, 9).error().code, Errc::notFound);
    std::vector<std::string> events;
    const auto trail = reg->audit(0x100);  // held: a range-for over .value() of a temporary dangles
    ASSERT_TRUE(trail);
    for (const auto& e : *trail) events.push_back(e.event);
    EXPECT_EQ(events, (std::vector<std::string>{"stored", "pre-enrolled", "registered"}));
}

TEST_P(RegistryTest, RevocationCoversADeviceABoxOrALotAndKeepsItsFirstReason) {
    auto boxed = [](std::uint32_t devId, const std::string& id, std::uint32_t box, const std::string& station) {
        auto d = row(devId, id);
        d.box = box;
        d.station = station;
        return d;
    };
    ASSERT_TRUE(reg->setLotQuota("lot-2", 0x200, 0x2ff));
    ASSERT_TRUE(reg->insertDevice(boxed(0x100, "s-1", 7, "station-1"), 1));
    ASSERT_TRUE(reg->insertDevice(boxed(0x101, "s-2", 7, "station-1"), 1));
    ASSERT_TRUE(reg->insertDevice(boxed(0x102, "s-3", 8, "station-2"), 1));
    auto other = row(0x200, "s-4");
    other.lot = "lot-2";
    ASSERT_TRUE(reg->insertDevice(other, 1));
    using K = RevokeTarget::Kind;
    // A station revokes only its own devices: nothing happens otherwise.
    auto foreign = reg->revoke({K::device, 0x102, {}}, {"rework", "station station-1", "station-1"}, 2);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error().code, Errc::permissionDenied);
    EXPECT_EQ(foreign.error().message,
              "device 00000102 was provisioned by station station-2, not by station-1: a station revokes only its own devices");
    EXPECT_EQ(reg->device(0x102)->state, DeviceState::notMapped);
    EXPECT_EQ(reg->revoke({K::device, 0x1ff, {}}, {"x", "admin", std::nullopt}, 2).error().message,
              "no device with Dev ID 000001ff");
    EXPECT_EQ(reg->revoke({K::box, 9, {}}, {"x", "admin", std::nullopt}, 2).error().message, "no device in box 00000009");
    EXPECT_EQ(reg->revoke({K::lot, 0, "lot-9"}, {"x", "admin", std::nullopt}, 2).error().message, "no device in lot lot-9");

    auto one = reg->revoke({K::device, 0x100, {}}, {"returned", "station station-1", "station-1"}, 3).value();
    EXPECT_EQ(one.revoked, std::vector<std::uint32_t>{0x100});
    auto box = reg->revoke({K::box, 7, {}}, {"box lost", "admin", std::nullopt}, 4).value();
    EXPECT_EQ(box.revoked, std::vector<std::uint32_t>{0x101});
    EXPECT_EQ(box.alreadyRevoked, std::vector<std::uint32_t>{0x100});
    const auto first = reg->device(0x100).value();
    EXPECT_EQ(first.state, DeviceState::revoked);
    EXPECT_EQ(first.revokedAt, 3);
    EXPECT_EQ(first.revokedBy, "station station-1");
    EXPECT_EQ(first.revokeReason, "returned");
    EXPECT_EQ(reg->audit(0x101)->back().detail, "box lost (box 00000007)");
    auto lot = reg->revoke({K::lot, 0, "lot-1"}, {"recall", "admin", std::nullopt}, 5).value();
    EXPECT_EQ(lot.revoked, std::vector<std::uint32_t>{0x102});
    EXPECT_EQ(lot.alreadyRevoked, (std::vector<std::uint32_t>{0x100, 0x101}));
    EXPECT_EQ(reg->device(0x200)->state, DeviceState::notMapped);  // another lot
    int revokedLines = 0;
    const auto trail = reg->audit(std::nullopt).value();
    for (const auto& e : trail) revokedLines += e.event == "revoked";
    EXPECT_EQ(revokedLines, 3);  // one per device, none for a repeat
    EXPECT_EQ(reg->stats(0)->devices[static_cast<int>(DeviceState::revoked)], 3);
}

TEST_P(RegistryTest, AReworkedBoardsNewRecordNamesARevokedDevice) {
    ASSERT_TRUE(reg->insertDevice(row(0x100, "s-1"), 1));
    auto next = row(0x101, "s-2");
    next.reworkedFrom = 0x100;
    auto early = reg->insertDevice(next, 2);
    ASSERT_FALSE(early);
    EXPECT_EQ(early.error().code, Errc::conflict);
    EXPECT_EQ(early.error().message,
              "reworked_from 00000100: the device is not-mapped, not revoked; revoke it before its board gets a new identity");
    auto unknown = next;
    unknown.reworkedFrom = 0x1fe;
    EXPECT_EQ(reg->insertDevice(unknown, 2).error().message, "reworked_from 000001fe: no device with this Dev ID");
    ASSERT_TRUE(reg->revoke({RevokeTarget::Kind::device, 0x100, {}}, {"rework", "station station-1", "station-1"}, 3));
    EXPECT_EQ(reg->insertDevice(next, 4).value(), InsertOutcome::stored);
    EXPECT_EQ(reg->device(0x101)->reworkedFrom, 0x100u);
    EXPECT_EQ(reg->device(0x100)->reworkedFrom, std::nullopt);
    EXPECT_EQ(reg->audit(0x101)->back().detail, "record s-2, reworked from 00000100");
}

TEST_P(RegistryTest, ABoardHasOneLiveIdentity) {
    // The same MCU unique ID under a second Dev ID is refused, whichever station sends it,
    // until the first device is revoked (rework); the record without a unique ID is not held up.
    const std::string uid = "002d00303334510b32313533";
    auto first = row(0x100, "s-1");
    first.mcuUid = uid;
    ASSERT_EQ(reg->insertDevice(first, 1).value(), InsertOutcome::stored);
    EXPECT_EQ(reg->insertDevice(first, 2).value(), InsertOutcome::duplicate);  // a retried upload is not a second board
    auto again = row(0x101, "s-2");
    again.mcuUid = uid;
    auto refused = reg->insertDevice(again, 2);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::alreadyExists);
    EXPECT_EQ(refused.error().message, "MCU unique ID " + uid +
                                           " is already device 00000100 (not-mapped): a board gets a new identity only by "
                                           "rework, which revokes the old one");
    EXPECT_EQ(reg->device(0x101).error().code, Errc::notFound);  // nothing stored
    auto other = row(0x102, "s-3");
    other.mcuUid = "0039001b3131510b33353632";
    EXPECT_EQ(reg->insertDevice(other, 3).value(), InsertOutcome::stored);
    EXPECT_EQ(reg->insertDevice(row(0x103, "s-4"), 3).value(), InsertOutcome::stored);
    ASSERT_TRUE(reg->revoke({RevokeTarget::Kind::device, 0x100, {}}, {"rework", "admin", std::nullopt}, 4));
    again.reworkedFrom = 0x100;
    EXPECT_EQ(reg->insertDevice(again, 5).value(), InsertOutcome::stored);
    EXPECT_EQ(reg->device(0x101)->mcuUid, uid);
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

TEST_P(RegistryTest, AsynchronousMarksAreCommittedBeforeTheirCallbackAndKeepTheRules) {
    // Many marks handed over from one thread (as the CoAP thread does) without waiting: each
    // callback comes once, after its mark is readable; a refused one gets markRegistered()'s
    // error and stores nothing.
    constexpr int kDevices = 40;
    for (int i = 0; i < kDevices; ++i) {
        const auto devId = static_cast<std::uint32_t>(0x100 + i);
        ASSERT_TRUE(reg->insertDevice(row(devId, "s-" + std::to_string(i)), 1));
        if (i > 0) {
            ASSERT_TRUE(reg->claim(devId, {"192.0.2.1", 5684, std::string(64, 'c')}, "", "t", 2));
        }
    }
    std::mutex mutex;
    std::map<std::uint32_t, std::vector<Status>> results;
    std::map<std::uint32_t, DeviceState> seen;
    for (int i = 0; i < kDevices; ++i) {
        const auto devId = static_cast<std::uint32_t>(0x100 + i);
        reg->markRegisteredAsync(devId, "coap 192.0.2.7", 3, [&, devId](Status s) {
            auto row = reg->device(devId);  // another connection: the commit is visible already
            std::lock_guard lock(mutex);
            results[devId].push_back(s);
            if (row) seen[devId] = row->state;
        });
    }
    ASSERT_TRUE(test::waitFor([&] {
        std::lock_guard lock(mutex);
        return results.size() == kDevices;
    }));
    std::lock_guard lock(mutex);
    ASSERT_EQ(results[0x100].size(), 1u);
    EXPECT_EQ(results[0x100][0].error().code, Errc::conflict);  // never mapped
    EXPECT_EQ(reg->device(0x100)->state, DeviceState::notMapped);
    for (int i = 1; i < kDevices; ++i) {
        const auto devId = static_cast<std::uint32_t>(0x100 + i);
        ASSERT_EQ(results[devId].size(), 1u);
        EXPECT_TRUE(results[devId][0]) << results[devId][0].error().toString();
        EXPECT_EQ(seen[devId], DeviceState::registered);
        const auto trail = reg->audit(devId);
        ASSERT_TRUE(trail);
        EXPECT_EQ(trail->back().event, "registered");
        EXPECT_EQ(trail->back().client, "coap 192.0.2.7");
    }
}

TEST_P(RegistryTest, RefusalsAreAuditedAndWrongOtpsCounted) {
    ASSERT_TRUE(reg->insertDevice(row(0x100, "s-1"), 1));
    const FailurePolicy policy{60'000, 120'000};
    ASSERT_TRUE(reg->countFailure({{"dev:00000100", 5}}, policy, 0x100, "otp-wrong", "198.51.100.7", "GET", 2));
    ASSERT_TRUE(reg->countFailure({{"dev:00000150", 5}}, policy, 0x150, "devid-unknown", "198.51.100.7", "GET", 3));
    ASSERT_TRUE(reg->recordFailure(0x100, "claim-conflict", "198.51.100.7", "OTP already used", 4));
    EXPECT_EQ(reg->device(0x100)->failures, 1);  // the wrong OTPs of its audit trail
    // The row the answers to the OTP's holder and to the device read: the same device, no count.
    const auto answered = reg->deviceRow(0x100);
    ASSERT_TRUE(answered) << answered.error().toString();
    EXPECT_EQ(answered->recordId, "s-1");
    EXPECT_EQ(answered->failures, 0);
    EXPECT_EQ(reg->deviceByUrn(answered->urn)->devId, 0x100u);
    EXPECT_EQ(reg->deviceByUrn(answered->urn)->failures, 0);
    EXPECT_EQ(reg->deviceRow(0x150).error().code, Errc::notFound);
    const auto all = reg->audit(std::nullopt);
    ASSERT_TRUE(all && all->size() >= 3);
    EXPECT_EQ(all->back().event, "claim-conflict");
    EXPECT_EQ((*all)[all->size() - 2].event, "devid-unknown");
    EXPECT_EQ((*all)[all->size() - 2].devId, 0x150u);
}

TEST_P(RegistryTest, FailuresLockASubjectForTheLockoutAndAWindowRestarts) {
    const FailurePolicy policy{60'000, 120'000};
    const std::vector<FailureSubject> subjects{{"dev:00000100", 3}, {"ip:198.51.100.7", 100}};
    const std::vector<std::string> keys{"dev:00000100", "ip:198.51.100.7"};
    ASSERT_TRUE(reg->countFailure(subjects, policy, 0x100, "otp-wrong", "198.51.100.7", "GET", 1000));
    ASSERT_TRUE(reg->countFailure(subjects, policy, 0x100, "otp-wrong", "198.51.100.7", "GET", 2000));
    // The window (60 s from the first failure) is over: the count starts again.
    ASSERT_TRUE(reg->countFailure(subjects, policy, 0x100, "otp-wrong", "198.51.100.7", "GET", 62'000));
    EXPECT_EQ(reg->lockedUntil(keys, 62'000).value(), 0);
    ASSERT_TRUE(reg->countFailure(subjects, policy, 0x100, "otp-wrong", "198.51.100.7", "GET", 63'000));
    ASSERT_TRUE(reg->countFailure(subjects, policy, 0x100, "otp-wrong", "198.51.100.7", "GET", 64'000));
    EXPECT_EQ(reg->lockedUntil(keys, 64'000).value(), 64'000 + 120'000);
    EXPECT_EQ(reg->lockedUntil({"dev:00000100"}, 64'000 + 119'999).value(), 184'000);
    EXPECT_EQ(reg->lockedUntil({"ip:198.51.100.7", "dev:00000101"}, 64'000).value(), 0);
    EXPECT_EQ(reg->lockedUntil(keys, 184'000).value(), 0);  // the lockout is over
    EXPECT_EQ(reg->stats(100'000)->lockedSubjects, 1);
    // Pruning forgets only idle counts: the lock stays until it ends.
    ASSERT_TRUE(reg->pruneFailures(policy, 100'000));
    EXPECT_EQ(reg->lockedUntil(keys, 100'000).value(), 184'000);
    ASSERT_TRUE(reg->pruneFailures(policy, 200'000));
    EXPECT_EQ(reg->stats(100'000)->lockedSubjects, 0);
}

TEST_P(RegistryTest, StationsAreListedAndRemovedLotsListed) {
    ASSERT_TRUE(reg->addStation({"station-2", std::string(64, '2'), "PEM", 1}));
    ASSERT_TRUE(reg->addStation({"station-1", std::string(64, '1'), "PEM", 1}));
    ASSERT_TRUE(reg->insertDevice(row(0x100, "s-1"), 1));
    ASSERT_TRUE(reg->setLotQuota("lot-0", 0x1, 0x2));
    auto stations = reg->stations().value();
    ASSERT_EQ(stations.size(), 2u);
    EXPECT_EQ(stations[0].name, "station-1");
    ASSERT_TRUE(reg->removeStation("station-1", "admin", 5));
    EXPECT_EQ(reg->stationByFingerprint(std::string(64, '1')).error().code, Errc::notFound);
    EXPECT_EQ(reg->removeStation("station-1", "admin", 6).error().message, "no station named station-1");
    EXPECT_EQ(reg->audit(std::nullopt)->back().event, "station-removed");
    const auto lots = reg->lots().value();
    ASSERT_EQ(lots.size(), 2u);
    EXPECT_EQ(lots[0].lot, "lot-0");
    EXPECT_EQ(lots[1].lot, "lot-1");
    EXPECT_EQ(lots[1].used, 1);
    const auto stats = reg->stats(0).value();
    EXPECT_EQ(stats.devices[static_cast<int>(DeviceState::notMapped)], 1);
    EXPECT_EQ(stats.stations, 1);
    EXPECT_EQ(stats.lots, 2);
    EXPECT_TRUE(reg->ping());
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

TEST(SqliteRegistry, LockoutsSurviveReopeningAndAVersion1RegistryIsMigrated) {
    test::TempDir dir;
    const std::string url = "sqlite://" + dir.file("r.db");
    // A registry as version 1 left it: no attempt_limits table, a failure counter column.
    auto made = test::runSql(
        url,
        "CREATE TABLE schema_versions (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);"
        " INSERT INTO schema_versions VALUES (1, 0);"
        " CREATE TABLE devices (devid BIGINT PRIMARY KEY, urn TEXT NOT NULL UNIQUE, fingerprint TEXT NOT NULL,"
        " otp_hash TEXT NOT NULL, lot TEXT NOT NULL, box BIGINT, station TEXT NOT NULL, record_id TEXT NOT NULL UNIQUE,"
        " record_digest TEXT NOT NULL, signature TEXT NOT NULL, firmware_sha256 TEXT NOT NULL, created TEXT NOT NULL,"
        " state TEXT NOT NULL, cip TEXT, cport INTEGER, cfingerprint TEXT, description TEXT NOT NULL DEFAULT '',"
        " inserted_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, failures BIGINT NOT NULL DEFAULT 0);"
        " CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at BIGINT NOT NULL, devid BIGINT, event TEXT NOT NULL,"
        " client TEXT NOT NULL, detail TEXT NOT NULL); CREATE INDEX audit_devid ON audit(devid);"
        " CREATE TABLE stations (name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, cert_pem TEXT NOT NULL,"
        " added_at BIGINT NOT NULL); CREATE TABLE lots (lot TEXT PRIMARY KEY, first_id BIGINT NOT NULL, last_id BIGINT NOT NULL);"
        " CREATE TABLE boxes (box BIGINT PRIMARY KEY, lot TEXT NOT NULL, first_id BIGINT NOT NULL, last_id BIGINT NOT NULL);"
        " INSERT INTO audit (at, devid, event, client, detail) VALUES (1, 256, 'otp-wrong', 'x', 'GET');"
        " INSERT INTO devices VALUES (257, 'urn:dev:ops:32473-sensor-00000101', 'dd', 'aa', 'lot-1', NULL, 's', 'r-1', '0d',"
        " 'sig', 'ff', '2026-11-23T07:00:00Z', 'revoked', NULL, NULL, NULL, '', 1, 5, 0);"
        " INSERT INTO audit (at, devid, event, client, detail) VALUES (5, 257, 'revoked', 'admin', 'stolen');");
    ASSERT_EQ(made.exitCode, 0) << made.output;
    const FailurePolicy policy{60'000, 120'000};
    {
        auto reg = openRegistry(url, 1);
        ASSERT_TRUE(reg) << reg.error().toString();
        ASSERT_TRUE((*reg)->countFailure({{"dev:00000100", 1}}, policy, 0x100, "otp-wrong", "x", "GET", 1000));
    }
    auto reg = openRegistry(url, 1).value();
    EXPECT_EQ(reg->lockedUntil({"dev:00000100"}, 2000).value(), 121'000);
    EXPECT_EQ(test::runSql(url, "SELECT MAX(version) FROM schema_versions").output, "13\n");
    // Version 8: the index by board replaces the one by MCU unique ID as stored.
    EXPECT_EQ(test::runSql(url,
                           "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'devices'"
                           " AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name")
                  .output,
              "devices_board\ndevices_box\n");  // (this version 1 was made without devices_lot)
    // Version 7: the Dev ID index of the audit trail is gone (audit_devid_event serves its reads).
    EXPECT_EQ(test::runSql(url, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' ORDER BY name")
                  .output,
              "audit_devid_event\n");
    EXPECT_EQ(reg->device(0x100).error().code, Errc::notFound);  // the mcu_uid column was added: reads work
    // A device revoked before the revocation columns existed has them from its audit trail.
    const auto revoked = reg->device(0x101).value();
    EXPECT_EQ(revoked.revokedAt, 5);
    EXPECT_EQ(revoked.revokedBy, "admin");
    EXPECT_EQ(revoked.revokeReason, "stolen");
    EXPECT_EQ(revoked.reworkedFrom, std::nullopt);
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
    auto r = test::runSql("sqlite://" + dir.file("r.db"), "DELETE FROM audit");
    EXPECT_NE(r.exitCode, 0);
    EXPECT_NE(r.output.find("audit is append-only"), std::string::npos) << r.output;
    EXPECT_EQ(openRegistry("mysql://x", 1).error().code, Errc::invalidArgument);
    EXPECT_EQ(openRegistry("sqlite://" + dir.file("c.db"), 1, RegistryOptions{.sqliteCacheMib = 0, .warn = {}}).error().message,
              "database.sqlite_cache_mib must be 1 to 65536, not 0");
    EXPECT_FALSE(std::filesystem::exists(dir.file("c.db")));
}

// The writer never checkpoints; the checkpointer thread copies the log into the database file
// once it holds 1,000 pages, while the registry stays open. Without that thread the file would
// keep its first size until the registry closes.
TEST(SqliteRegistry, TheLogIsCheckpointedBesideTheWriter) {
    test::TempDir dir;
    const auto file = dir.file("r.db");
    auto reg = openRegistry("sqlite://" + file, 1).value();
    ASSERT_TRUE(reg->setLotQuota("lot-1", 0x100, 0xffff));
    const auto first = std::filesystem::file_size(file);
    // About 3 pages a device (row, index entries, audit line), each in its own commit.
    for (std::uint32_t id = 0x100; id < 0x100 + 600; ++id) ASSERT_TRUE(reg->insertDevice(row(id, "s-" + std::to_string(id)), 1));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::filesystem::file_size(file) == first && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    EXPECT_GT(std::filesystem::file_size(file), first) << "nothing was checkpointed into the file";
    EXPECT_EQ(reg->device(0x100 + 599)->recordId, "s-" + std::to_string(0x100 + 599));
}

// Schema version 11: rows stored one after another in Dev ID order (an import, a station's
// uploads) fill their pages, and a claim grows its row by about 50 bytes. Each row keeps that
// room, so the claims split no page of the table (without it, the 660 claims here added 67
// pages to its 308).
TEST(SqliteRegistry, AClaimFitsInItsRowsRoomAndSplitsNoPage) {
    test::TempDir dir;
    const auto file = dir.file("r.db");
    auto reg = openRegistry("sqlite://" + file, 1).value();
    ASSERT_TRUE(reg->setLotQuota("lot-1", 0x100, 0xffff));
    // Signatures of different lengths, so that rows of different sizes leave a page anything
    // from nothing to a row free, as records of real stations do.
    const auto record = [](std::uint32_t id, const char* from) {
        auto d = row(id, from + std::to_string(id));
        d.signature.assign(60 + id % 97, 's');
        return d;
    };
    std::vector<DeviceRow> batch;
    for (std::uint32_t id = 0x100; id < 0x100 + 3000; ++id) batch.push_back(record(id, "i-"));
    ASSERT_TRUE(reg->importDevices(batch, 1));
    for (std::uint32_t id = 0x100 + 3000; id < 0x100 + 3300; ++id) ASSERT_TRUE(reg->insertDevice(record(id, "s-"), 1));
    const auto pages = [&] {
        auto r = test::runSql("sqlite://" + file, "SELECT COUNT(*) FROM dbstat WHERE name = 'devices'");
        EXPECT_EQ(r.exitCode, 0) << r.output;
        return r.output;
    };
    const std::string before = pages();
    for (std::uint32_t id = 0x100; id < 0x100 + 3300; id += 5)
        ASSERT_TRUE(reg->claim(id, {"192.0.2.1", 5684, std::string(64, 'c')}, "kitchen", "198.51.100.1", 2));
    EXPECT_EQ(pages(), before);
    EXPECT_EQ(reg->device(0x100 + 3295)->state, DeviceState::mapped);
}

INSTANTIATE_TEST_SUITE_P(Stores, RegistryTest, ::testing::Values("memory", "sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tte::mothership
