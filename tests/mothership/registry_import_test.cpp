// The registry's bulk import (Registry::importDevices) on every backend: in-memory, SQLite (a
// temp file) and PostgreSQL (a server this test starts; its own ctest entry). The same rules
// as insertDevice(), all or nothing, one `stored` audit line per device; on PostgreSQL the rows
// travel by COPY, so fields with tabs, backslashes and line breaks are part of the test.
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "registry_rows.h"
#include "support/mothership.h"
#include "support/postgres.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

using test_rows::row;

std::vector<DeviceRow> rows(std::uint32_t first, std::uint32_t count, const std::string& prefix = "s-") {
    std::vector<DeviceRow> out;
    for (std::uint32_t i = 0; i < count; ++i) out.push_back(row(first + i, prefix + std::to_string(first + i)));
    return out;
}

class RegistryImportTest : public ::testing::TestWithParam<std::string> {
protected:
    static void TearDownTestSuite() { pg.reset(); }

    void SetUp() override {
        m_url = test_rows::freshRegistryUrl(GetParam(), dir, pg);
        auto r = openRegistry(m_url, 2);
        ASSERT_TRUE(r) << r.error().toString();
        reg = std::move(*r);
        ASSERT_TRUE(reg->setLotQuota("lot-1", 0x100, 0x3fff));
    }
    /// How many devices the lot holds (the store's own count).
    std::uint64_t used() { return reg->lotQuota("lot-1").value().used; }

    static inline std::unique_ptr<test::Postgres> pg;
    test::TempDir dir;
    std::unique_ptr<Registry> reg;
    std::string m_url;
};

TEST_P(RegistryImportTest, StoresEveryRowWithItsAuditLineAndIsIdempotent) {
    auto batch = rows(0x100, 3);
    batch[1].box = 7;
    batch[1].mcuUid = "002d00303334510b32313533";
    auto first = reg->importDevices(batch, 1000);
    ASSERT_TRUE(first) << first.error().toString();
    EXPECT_EQ(first->stored, 3u);
    EXPECT_EQ(first->duplicates, 0u);
    auto d = reg->device(0x101).value();
    EXPECT_EQ(d.state, DeviceState::notMapped);
    EXPECT_EQ(d.urn, test::devUrn(0x101));
    EXPECT_EQ(d.box, 7u);
    EXPECT_EQ(d.mcuUid, "002d00303334510b32313533");
    EXPECT_EQ(d.otpHash, std::vector<std::uint8_t>(32, 0x42));
    EXPECT_EQ(d.insertedAt, 1000);
    EXPECT_EQ(reg->otpHash(0x102).value(), std::vector<std::uint8_t>(32, 0x42));
    auto trail = reg->audit(0x101).value();
    ASSERT_EQ(trail.size(), 1u);
    EXPECT_EQ(trail[0].event, "stored");
    EXPECT_EQ(trail[0].client, "station-1");
    EXPECT_EQ(trail[0].detail, "record s-257");
    EXPECT_EQ(trail[0].at, 1000);

    // The same batch again, and one with new rows among stored ones: stored once.
    auto again = reg->importDevices(batch, 2000);
    ASSERT_TRUE(again) << again.error().toString();
    EXPECT_EQ(again->stored, 0u);
    EXPECT_EQ(again->duplicates, 3u);
    auto mixed = rows(0x101, 4);
    mixed[1].box = 7;  // 0x102 was stored without a box: the record differs only by digest, which is equal
    mixed[1].box.reset();
    mixed[0] = batch[1];
    auto some = reg->importDevices(mixed, 3000);
    ASSERT_TRUE(some) << some.error().toString();
    EXPECT_EQ(some->stored, 2u);
    EXPECT_EQ(some->duplicates, 2u);
    EXPECT_EQ(used(), 5u);
    EXPECT_EQ(reg->audit(0x101).value().size(), 1u);
    EXPECT_EQ(reg->audit(0x104).value().size(), 1u);
    // A device imported is a device like any other: it can be claimed.
    EXPECT_TRUE(reg->claim(0x104, ControllerAddress{"192.0.2.1", 5684, std::string(64, 'c')}, "", "test", 4000));
}

TEST_P(RegistryImportTest, OneRefusedRowStoresNothingOfTheBatch) {
    auto stored = row(0x100, "s-stored");
    stored.mcuUid = "002d00303334510b32313533";
    ASSERT_TRUE(reg->insertDevice(stored, 1));
    const auto refuses = [&](std::vector<DeviceRow> batch, Errc code, const std::string& message) {
        auto r = reg->importDevices(batch, 5);
        ASSERT_FALSE(r) << "stored " << r->stored;
        EXPECT_EQ(r.error().code, code);
        EXPECT_EQ(r.error().message, message);
        EXPECT_EQ(used(), 1u) << message;
        EXPECT_FALSE(reg->device(0x200)) << message;
    };
    auto outside = rows(0x200, 3);
    outside[2] = row(0x4000, "s-far");
    refuses(outside, Errc::outOfRange, "Dev ID 00004000 is outside the quota of lot lot-1 (00000100..00003fff)");
    auto noLot = rows(0x200, 3);
    noLot[1].lot = "lot-9";
    refuses(noLot, Errc::notFound, "no quota for lot lot-9");
    auto taken = rows(0x200, 3);
    taken[2] = row(0x100, "s-other");
    refuses(taken, Errc::alreadyExists, "Dev ID 00000100 or URN " + test::devUrn(0x100) +
                                            " is stored already under another record");
    auto changed = rows(0x200, 3);
    changed[0] = stored;
    changed[0].recordDigest = protocol::sha256Hex("other content");
    refuses(changed, Errc::alreadyExists, "record id s-stored was stored with other content");
    auto twice = rows(0x200, 3);
    twice[2] = row(0x200, "s-twice");  // the same device under another record id
    refuses(twice, Errc::invalidArgument, "Dev ID 00000200 appears twice in the batch");
    auto sameRecord = rows(0x200, 3);
    sameRecord[1].recordId = sameRecord[0].recordId;
    refuses(sameRecord, Errc::invalidArgument, "record id s-512 appears twice in the batch");
    auto sameBoard = rows(0x200, 3);
    sameBoard[2].mcuUid = "002d00303334510b32313533";
    refuses(sameBoard, Errc::alreadyExists,
            "MCU unique ID 002d00303334510b32313533 is already device 00000100 (not-mapped): a board gets a new "
            "identity only by rework, which revokes the old one");
    auto boardTwice = rows(0x200, 3);
    boardTwice[0].mcuUid = boardTwice[1].mcuUid = "0000000000000000000000aa";
    refuses(boardTwice, Errc::invalidArgument, "MCU unique ID 0000000000000000000000aa appears twice in the batch");
    auto rework = rows(0x200, 3);
    rework[1].reworkedFrom = 0x100;
    refuses(rework, Errc::conflict,
            "reworked_from 00000100: the device is not-mapped, not revoked; revoke it before its board gets a new identity");
    // And then the batch without its refused row goes in whole.
    auto ok = reg->importDevices(rows(0x200, 3), 6);
    ASSERT_TRUE(ok) << ok.error().toString();
    EXPECT_EQ(ok->stored, 3u);
}

TEST_P(RegistryImportTest, FieldsKeepTabsBackslashesAndLineBreaks) {
    auto odd = row(0x100, "s-1\\x\ty\nz\r\"{,}");  // COPY's and PostgreSQL array literals' special characters
    odd.station = "station\t\\N";
    odd.signature = "\\.";
    odd.created = "";
    auto r = reg->importDevices(std::vector<DeviceRow>{odd}, 1);
    ASSERT_TRUE(r) << r.error().toString();
    auto d = reg->device(0x100).value();
    EXPECT_EQ(d.recordId, odd.recordId);
    EXPECT_EQ(d.station, odd.station);
    EXPECT_EQ(d.signature, odd.signature);
    EXPECT_EQ(d.created, "");
    EXPECT_EQ(d.box, std::nullopt);
    EXPECT_EQ(d.mcuUid, std::nullopt);
    // The record id is found again: the same record is a duplicate.
    auto again = reg->importDevices(std::vector<DeviceRow>{odd}, 2);
    ASSERT_TRUE(again) << again.error().toString();
    EXPECT_EQ(again->duplicates, 1u);
    EXPECT_EQ(again->stored, 0u);
}

TEST_P(RegistryImportTest, ALargeBatchGoesInWholeAndNextToSingleInserts) {
    ASSERT_TRUE(reg->insertDevice(row(0x100, "s-single"), 1));
    auto big = reg->importDevices(rows(0x101, 10000), 2);
    ASSERT_TRUE(big) << big.error().toString();
    EXPECT_EQ(big->stored, 10000u);
    EXPECT_EQ(used(), 10001u);
    EXPECT_EQ(reg->deviceByUrn(test::devUrn(0x2810)).value().devId, 0x2810u);
    EXPECT_TRUE(reg->importDevices(std::vector<DeviceRow>{}, 3));
    auto stats = reg->stats(4).value();
    EXPECT_EQ(stats.devices[static_cast<int>(DeviceState::notMapped)], 10001);
}

// A device's URN is its Dev ID's (schema version 13 keeps no index of URNs; the registry finds
// a device by URN through its Dev ID). A row whose URN names another Dev ID, or is no Dev URN,
// is refused by insertDevice() and importDevices(), and nothing is stored; a device is found
// by the text its URN was stored with, and another text of the same Dev ID names no device.
TEST_P(RegistryImportTest, ADevicesUrnIsItsDevIdsAndFindsItByItsText) {
    auto other = row(0x101, "s-other");
    other.urn = test::devUrn(0x100);
    const std::string mismatch = "Dev ID 00000101 does not match the URN's 00000100 (" + other.urn + ")";
    const auto refused = [](const auto& result, const std::string& message) {
        ASSERT_FALSE(result);
        EXPECT_EQ(result.error().code, Errc::invalidArgument);
        EXPECT_EQ(result.error().message, message);
    };
    refused(reg->insertDevice(other, 1), mismatch);
    auto batch = rows(0x102, 3);
    batch[2] = other;
    refused(reg->importDevices(batch, 1), mismatch);
    auto notUrn = row(0x101, "s-not-urn");
    notUrn.urn = "urn:dev:ops:32473-sensor-101";
    refused(reg->insertDevice(notUrn, 1), "Dev URN: serial must be 8-16 hex digits");
    EXPECT_EQ(used(), 0u);

    ASSERT_TRUE(reg->insertDevice(row(0x1ab, "s-1"), 2));
    const std::string urn = test::devUrn(0x1ab);
    ASSERT_EQ(urn.substr(urn.size() - 8), "000001ab");
    EXPECT_EQ(reg->deviceByUrn(urn).value().recordId, "s-1");
    for (const std::string& another : {urn.substr(0, urn.size() - 2) + "AB", std::string("urn:dev:ops:32473-tte.demo-000001ab"),
                                       std::string("urn:dev:ops:32473-other-00000001000001ab"), std::string("not a urn")}) {
        const auto found = reg->deviceByUrn(another);
        ASSERT_FALSE(found) << another;
        EXPECT_EQ(found.error().code, Errc::notFound);
        EXPECT_EQ(found.error().message, "no device with URN " + another);
    }
    // Another URN of a stored Dev ID is that Dev ID taken.
    auto sameId = row(0x1ab, "s-2");
    sameId.urn = "urn:dev:ops:32473-other-000001ab";
    const auto taken = reg->insertDevice(sameId, 3);
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, Errc::alreadyExists);
    EXPECT_EQ(reg->importDevices(std::vector<DeviceRow>{sameId}, 3).error().code, Errc::alreadyExists);
    EXPECT_EQ(used(), 1u);
}

// One batch from two loaders at once (an import started twice): it is stored once, and every
// row of it is the other call's duplicate, whichever call writes first. On PostgreSQL the
// second COPY waits on devices' unique indexes for the first transaction and then fails; its
// batch goes the whole way from its savepoint and finds the records stored.
TEST_P(RegistryImportTest, OneBatchFromTwoLoadersAtOnceIsStoredOnce) {
    const auto batch = rows(0x100, 3000);
    std::vector<Result<ImportSummary>> results(2, fail(Errc::internal, "not run"));
    {
        std::jthread second([&] { results[1] = reg->importDevices(batch, 2); });
        results[0] = reg->importDevices(batch, 1);
    }
    for (const auto& r : results) ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(results[0]->stored + results[1]->stored, 3000u);
    EXPECT_EQ(results[0]->duplicates + results[1]->duplicates, 3000u);
    EXPECT_EQ(used(), 3000u);
    EXPECT_EQ(reg->audit(0x100).value().size(), 1u);
    EXPECT_EQ(reg->audit(0x100 + 2999).value().size(), 1u);
}

/// PostgreSQL only: what its pages hold, read with psql.
class PostgresPagesTest : public RegistryImportTest {
protected:
    std::string psql(const std::string& sql) {
        auto r = test::runSql(m_url, sql);
        EXPECT_EQ(r.exitCode, 0) << r.output;
        return r.output;
    }
};

// A bulk load fills the pages of `devices` up to its fillfactor. A claim (and later the
// registration) writes a new version of the row: with room left on its page it stays there
// and no index gets an entry (a heap-only tuple update; schema version 9); on a full page it
// would move, and each of the table's indexes would get a new entry.
TEST_P(PostgresPagesTest, AClaimOfABulkLoadedDeviceStaysOnItsPage) {
    ASSERT_TRUE(reg->importDevices(rows(0x100, 2000), 1));
    EXPECT_EQ(psql("SELECT reloptions FROM pg_class WHERE relname = 'devices'"), "{fillfactor=90}\n");
    const auto page = [&] { return psql("SELECT (ctid::text::point)[0] FROM devices WHERE devid = 260"); };  // 0x104
    const std::string before = page();
    ASSERT_NE(before, "");
    ASSERT_TRUE(reg->claim(0x104, {"192.0.2.1", 5684, std::string(64, 'c')}, "kitchen", "t", 2));
    ASSERT_TRUE(reg->markRegistered(0x104, "t", 3));
    EXPECT_EQ(page(), before) << "the claim or the registration moved the row to another page";
    EXPECT_EQ(reg->deviceRow(0x104)->state, DeviceState::registered);
}

INSTANTIATE_TEST_SUITE_P(Server, PostgresPagesTest, ::testing::Values("postgresql"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Stores, RegistryImportTest, ::testing::Values("memory", "sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tte::mothership
