// Fault injection at every transfer index of a small image: unplug, stall, timeout, corrupt
// upload. Each ends in a clear error, and the next attempt succeeds from a clean start.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim_fixture.h"

namespace tte::flasher {
namespace {

using testing::simIdentity;
using testing::smallImage;

// Number of control transfers a clean write + verify + leave of the small image takes.
std::size_t cleanTransferCount(bool leave = true) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity());
    Flasher flasher(clock);
    auto r = flasher.write(dev, smallImage(), testing::opts(true, leave));
    EXPECT_TRUE(r) << r.error().toString();
    return dev.transferCount();
}

bool flashHolds(const SimulatedStm32& dev, const std::vector<Segment>& image) {
    return std::all_of(image.begin(), image.end(), [&](const Segment& s) {
        const auto got = dev.flash().read(s.address, s.bytes.size());
        return std::equal(got.begin(), got.end(), s.bytes.begin(), s.bytes.end());
    });
}

TEST(FlasherFaults, UnplugAtEveryTransferIndex) {
    const std::size_t total = cleanTransferCount();
    ASSERT_GT(total, 20U);
    const auto first = smallImage(1);
    const auto second = smallImage(2);  // a different image, so a stale half-write cannot pass
    for (std::size_t i = 0; i < total; ++i) {
        SCOPED_TRACE("unplug at transfer " + std::to_string(i));
        ManualClock clock;
        SimulatedStm32 dev(clock, simIdentity());
        Flasher flasher(clock);
        ASSERT_TRUE(flasher.write(dev, first, testing::opts(true)));
        dev.replug();
        dev.setFaults(testing::unplugAt(i));
        auto r = flasher.write(dev, second, testing::opts(true, true));
        if (r) {
            // Only the very last transfer (the GETSTATUS after leave) may vanish: the device resets there anyway.
            EXPECT_EQ(i, total - 1);
            continue;
        }
        EXPECT_EQ(r.error().code, Errc::unavailable) << r.error().toString();
        EXPECT_EQ(r.error().nativeName, "LIBUSB_ERROR_NO_DEVICE");
        EXPECT_NE(r.error().message.find("the device is gone (unplugged or reset)"), std::string::npos);
        dev.replug();
        auto again = flasher.write(dev, second, testing::opts(true, true));
        ASSERT_TRUE(again) << again.error().toString();
        EXPECT_TRUE(flashHolds(dev, second));
    }
}

TEST(FlasherFaults, StallAndTimeoutAtEveryTransferIndexRecoverOnTheNextAttempt) {
    const std::size_t total = cleanTransferCount();
    const std::size_t withoutLeave = cleanTransferCount(false);
    ASSERT_LT(withoutLeave, total);
    const auto image = smallImage(3);
    std::size_t recovered = 0;
    for (std::size_t i = 0; i < total; ++i) {
        for (int kind = 0; kind < 2; ++kind) {
            SCOPED_TRACE((kind == 0 ? "stall at " : "timeout at ") + std::to_string(i));
            ManualClock clock;
            SimulatedStm32 dev(clock, simIdentity());
            Flasher flasher(clock);
            dev.setFaults(kind == 0 ? testing::stallAt(i) : testing::timeoutAt(i));
            auto r = flasher.write(dev, image, testing::opts(true));
            if (r) {
                // Either the fault fell after the last transfer of a write without leave, or it hit
                // a clean-up ABORT that ensureIdle() recovers from with CLRSTATUS; the data must hold.
                ++recovered;
                EXPECT_TRUE(flashHolds(dev, image));
                continue;
            }
            EXPECT_TRUE(r.error().code == (kind == 0 ? Errc::io : Errc::timeout)) << r.error().toString();
            EXPECT_FALSE(r.error().message.empty());
            // Same USB session, no replug: the next write recovers from whatever state was left.
            auto again = flasher.write(dev, image, testing::opts(true));
            ASSERT_TRUE(again) << again.error().toString();
            EXPECT_TRUE(flashHolds(dev, image));
        }
    }
    // Stall and timeout after the write's last transfer (2 kinds), plus the recoverable clean-up stalls.
    EXPECT_LE(recovered, 2 * (total - withoutLeave) + 4);
}

TEST(FlasherFaults, CorruptUploadIsCaughtByVerify) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity());
    Flasher flasher(clock);
    const auto image = smallImage(4);
    const std::size_t total = cleanTransferCount();
    bool caught = false;
    for (std::size_t i = 0; i < total && !caught; ++i) {
        dev.replug();
        dev.setFaults(testing::corruptUploadAt(i));
        auto r = flasher.write(dev, image, testing::opts(true));
        if (!r) {
            EXPECT_EQ(r.error().code, Errc::corrupt);
            EXPECT_NE(r.error().message.find("verify failed: read-back of 3000 bytes at 0x08000000"), std::string::npos)
                << r.error().message;
            caught = true;
        }
    }
    EXPECT_TRUE(caught);
}

}  // namespace
}  // namespace tte::flasher
