// The controller record log over a NOR-flash fake (docs/PROTOCOL.md §9): append, newest
// wins, full log, and a power cut at every byte of a record write.
#include "tte/device/controller_log.h"

#include <gtest/gtest.h>

#include <cstring>

#include "support/fakes/device.h"

namespace tte::device {
namespace {

protocol::ControllerRecord controller(const char* address, std::uint16_t port, std::uint8_t fp) {
    protocol::ControllerRecord r;
    std::strcpy(r.address, address);
    r.port = port;
    std::memset(r.fingerprint, fp, sizeof r.fingerprint);
    return r;
}

TEST(ControllerLog, EmptyLogHasNoController) {
    test::FakeNvm nvm;
    protocol::ControllerRecord out;
    EXPECT_FALSE(loadController(nvm, out));
}

TEST(ControllerLog, AppendsWithRisingSequence) {
    test::FakeNvm nvm;
    auto first = controller("192.0.2.1", 5684, 0x11);
    ASSERT_EQ(appendController(nvm, first), StoreStatus::ok);
    EXPECT_EQ(first.sequence, 1u);
    auto second = controller("192.0.2.2", 5685, 0x22);
    ASSERT_EQ(appendController(nvm, second), StoreStatus::ok);
    EXPECT_EQ(second.sequence, 2u);
    protocol::ControllerRecord out;
    ASSERT_TRUE(loadController(nvm, out));
    EXPECT_STREQ(out.address, "192.0.2.2");
    EXPECT_EQ(out.port, 5685);
    EXPECT_EQ(out.sequence, 2u);
    // The second record went into the second slot; the first is untouched.
    EXPECT_EQ(std::memcmp(nvm.bytes.data() + 128, "TTEC", 4), 0);
    EXPECT_EQ(nvm.bytes[256], 0xFF);
}

TEST(ControllerLog, RefusesWhenFull) {
    test::FakeNvm nvm;
    for (std::size_t i = 0; i < protocol::kMaxControllerRecords; ++i) {
        auto r = controller("192.0.2.1", static_cast<std::uint16_t>(1000 + i), 0x11);
        ASSERT_EQ(appendController(nvm, r), StoreStatus::ok) << i;
    }
    auto extra = controller("192.0.2.9", 9, 0x99);
    EXPECT_EQ(appendController(nvm, extra), StoreStatus::full);
    protocol::ControllerRecord out;
    ASSERT_TRUE(loadController(nvm, out));
    EXPECT_EQ(out.port, 1000 + protocol::kMaxControllerRecords - 1);
}

TEST(ControllerLog, RefusesAnInvalidRecordWithoutWriting) {
    test::FakeNvm nvm;
    auto bad = controller("192.0.2.1", 0, 0x11);
    EXPECT_EQ(appendController(nvm, bad), StoreStatus::invalid);
    EXPECT_EQ(nvm.programmed, 0u);
}

TEST(ControllerLog, PowerCutAtEveryByteLeavesOldOrNew) {
    for (std::size_t cut = 0; cut <= protocol::kControllerRecordSize; ++cut) {
        test::FakeNvm nvm;
        auto old = controller("192.0.2.1", 5684, 0x11);
        ASSERT_EQ(appendController(nvm, old), StoreStatus::ok);
        nvm.powerCutAfter = cut;
        auto fresh = controller("198.51.100.7", 6000, 0x77);
        const StoreStatus status = appendController(nvm, fresh);
        protocol::ControllerRecord out;
        ASSERT_TRUE(loadController(nvm, out)) << "cut after " << cut;  // "reboot"
        if (cut < protocol::kControllerRecordSize) {
            EXPECT_EQ(status, StoreStatus::failed) << cut;
            EXPECT_STREQ(out.address, "192.0.2.1") << "cut after " << cut;
            EXPECT_EQ(out.sequence, 1u);
        } else {
            EXPECT_EQ(status, StoreStatus::ok);
            EXPECT_STREQ(out.address, "198.51.100.7");
        }
        // After the cut the device can still store the new controller, in the next slot.
        auto retry = controller("198.51.100.7", 6000, 0x77);
        ASSERT_EQ(appendController(nvm, retry), StoreStatus::ok) << cut;
        ASSERT_TRUE(loadController(nvm, out));
        EXPECT_STREQ(out.address, "198.51.100.7");
        EXPECT_EQ(out.port, 6000);
    }
}

TEST(ControllerLog, ReportsAFlashThatDoesNotHoldTheRecord) {
    test::FakeNvm nvm;
    nvm.powerCutAfter = 0;  // nothing reaches the flash
    auto r = controller("192.0.2.1", 5684, 0x11);
    EXPECT_EQ(appendController(nvm, r), StoreStatus::failed);
}

}  // namespace
}  // namespace tte::device
