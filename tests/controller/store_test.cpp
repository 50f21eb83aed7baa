// The Controller's store keeps a device's OTP only while it may still ask the MotherShip with
// it: the bytes are gone from the database file and its WAL once the device checked in, the
// MotherShip gave a final state, or the introduction expired.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tte/controller/store.h"

namespace tte::controller {
namespace {

namespace fs = std::filesystem;

class StoreFile : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "tte-store-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir = tmpl;
        auto s = DeviceStore::open((dir / "controller.db").string());
        ASSERT_TRUE(s) << s.error().toString();
        store = std::move(*s);
    }
    void TearDown() override {
        store.reset();
        fs::remove_all(dir);
    }
    /// Whether the database file or its WAL holds `text` anywhere.
    bool onDisk(const std::string& text) const {
        for (const char* name : {"controller.db", "controller.db-wal"}) {
            std::ifstream in(dir / name, std::ios::binary);
            std::stringstream bytes;
            bytes << in.rdbuf();
            if (bytes.str().find(text) != std::string::npos) return true;
        }
        return false;
    }
    Introduction intro(int n, const std::string& otp) const {
        const std::string serial = "00000000abcd000" + std::to_string(n);
        return Introduction{"urn:dev:ops:32473-Thermo-" + serial, std::string(63, 'a') + std::to_string(n), Secret(otp),
                            serial.substr(8), "tte-000001.net", ""};
    }

    fs::path dir;
    std::unique_ptr<DeviceStore> store;
};

TEST_F(StoreFile, OtpLeavesTheFileOnceTheDeviceCheckedIn) {
    const auto d = intro(1, "0123456789abcdef");
    ASSERT_TRUE(store->introduce(d, 1000, 3600));
    ASSERT_TRUE(onDisk("0123456789abcdef"));  // needed for the MotherShip status queries
    ASSERT_EQ(store->dueStatusQueries(1000, 10)->size(), 1u);
    ASSERT_TRUE(store->markRegistered(d.urn, 1100));
    EXPECT_FALSE(onDisk("0123456789abcdef"));
    EXPECT_TRUE(store->dueStatusQueries(1200, 10)->empty());
    EXPECT_EQ(store->list(1200)->front().state, "registered");
}

TEST_F(StoreFile, OtpLeavesTheFileOnAFinalMotherShipStateOrExpiry) {
    const auto revoked = intro(1, "1111111111111111"), pending = intro(2, "2222222222222222"),
               expiring = intro(3, "3333333333333333");
    ASSERT_TRUE(store->introduce(revoked, 1000, 3600));
    ASSERT_TRUE(store->introduce(pending, 1000, 3600));
    ASSERT_TRUE(store->introduce(expiring, 1000, 100));
    ASSERT_TRUE(store->recordStatus(revoked.urn, "revoked", 1, 1010));
    ASSERT_TRUE(store->recordStatus(pending.urn, "mapped", 1, 1010));
    EXPECT_FALSE(onDisk("1111111111111111"));
    EXPECT_TRUE(onDisk("2222222222222222"));  // still asked for
    EXPECT_TRUE(onDisk("3333333333333333"));
    const auto due = store->dueStatusQueries(1100, 10);  // the third expired at 1100
    ASSERT_TRUE(due);
    ASSERT_EQ(due->size(), 1u);
    EXPECT_EQ(due->front().urn, pending.urn);
    EXPECT_EQ(std::string(due->front().otp.view()), "2222222222222222");
    EXPECT_FALSE(onDisk("3333333333333333"));
    // Introduced again, it is pending again, with its OTP.
    ASSERT_TRUE(store->introduce(expiring, 1200, 3600));
    const auto again = store->dueStatusQueries(1200, 10);
    ASSERT_TRUE(again);
    const auto it = std::ranges::find(*again, expiring.urn, &StatusQuery::urn);
    ASSERT_NE(it, again->end());
    EXPECT_EQ(std::string(it->otp.view()), "3333333333333333");
}

TEST_F(StoreFile, AnIntroductionRepeatedAfterTheFinalStateDoesNotStoreTheOtpAgain) {
    const auto checkedIn = intro(1, "4444444444444444"), revoked = intro(2, "5555555555555555");
    ASSERT_TRUE(store->introduce(checkedIn, 1000, 3600));
    ASSERT_TRUE(store->introduce(revoked, 1000, 3600));
    ASSERT_TRUE(store->markRegistered(checkedIn.urn, 1010));
    ASSERT_TRUE(store->recordStatus(revoked.urn, "revoked", 1, 1020));
    // An introducer sends message 6 again (its answer was lost): refreshed, but no OTP comes
    // back for a device nobody will ask about (it stayed on disk until the next status round).
    auto again = store->introduce(checkedIn, 1100, 3600);
    ASSERT_TRUE(again) << again.error().toString();
    EXPECT_EQ(again->state, "registered");
    EXPECT_EQ(again->expiresAt, 4700);
    ASSERT_TRUE(store->introduce(revoked, 1100, 3600));
    EXPECT_FALSE(onDisk("4444444444444444"));
    EXPECT_FALSE(onDisk("5555555555555555"));
    EXPECT_TRUE(store->dueStatusQueries(1200, 10)->empty());
}

TEST_F(StoreFile, OtpsOfIntroductionsThatExpiredMeanwhileAreForgottenOnRequest) {
    const auto expired = intro(1, "6666666666666666"), pending = intro(2, "7777777777777777");
    ASSERT_TRUE(store->introduce(expired, 1000, 100));
    ASSERT_TRUE(store->introduce(pending, 1000, 3600));
    ASSERT_TRUE(store->forgetUnneededOtps(1099));
    EXPECT_TRUE(onDisk("6666666666666666")) << "not expired yet at 1099";
    ASSERT_TRUE(store->forgetUnneededOtps(1100));  // what the Controller does at start
    EXPECT_FALSE(onDisk("6666666666666666"));
    EXPECT_TRUE(onDisk("7777777777777777"));
    EXPECT_EQ(store->findByUrn(expired.urn, 1100)->state, "expired");
}

TEST_F(StoreFile, AWalLeftByAKillIsCheckpointedAndTruncatedAtOpen) {
    const auto d = intro(1, "0123456789abcdef");
    ASSERT_TRUE(store->introduce(d, 1000, 3600));
    // The files as a SIGKILL leaves them: the store still open, its last commit in the WAL.
    const fs::path copy = dir / "copy";
    fs::create_directory(copy);
    fs::copy_file(dir / "controller.db", copy / "controller.db");
    fs::copy_file(dir / "controller.db-wal", copy / "controller.db-wal");
    ASSERT_GT(fs::file_size(copy / "controller.db-wal"), 0u);
    auto reopened = DeviceStore::open((copy / "controller.db").string());
    ASSERT_TRUE(reopened) << reopened.error().toString();
    EXPECT_EQ(fs::file_size(copy / "controller.db-wal"), 0u);
    const auto rows = (*reopened)->list(1100);
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ(rows->front().urn, d.urn);
}

TEST_F(StoreFile, AnUnintroducedDeviceIsStoredCheckedInInOneCommit) {
    const std::string urn = "urn:dev:ops:32473-Thermo-00000000abcd0009";
    auto added = store->addUnintroduced(urn, std::string(64, 'b'), 1000);
    ASSERT_TRUE(added) << added.error().toString();
    EXPECT_EQ(added->state, "registered");
    EXPECT_FALSE(added->introduced);
    EXPECT_EQ(added->lastSeen, 1000);
    ASSERT_TRUE(store->markRegistered(urn, 1100));  // the check-in itself, as the service does next
    EXPECT_EQ(store->findByUrn(urn, 1200)->lastSeen, 1100);
}

}  // namespace
}  // namespace tte::controller
