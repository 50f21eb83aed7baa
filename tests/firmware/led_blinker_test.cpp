// The LED frame in time (docs/PROTOCOL.md §5): edges at bit boundaries of 15 bit/s, a gap
// event per transmission, and the receiver's decoding of the edges gives the frame back.
#include "tte/device/led_blinker.h"

#include <gtest/gtest.h>

#include <vector>

#include "tte/protocol/freestanding/led_frame.h"

namespace tte::device {
namespace {

struct Line {
    std::array<std::uint8_t, protocol::kLedMaxLineBits> levels{};
    std::size_t count = 0;
};

Line lineFor(std::uint32_t msId, std::uint32_t devId, std::uint64_t otp) {
    Line line;
    line.count = protocol::ledLineLevels(protocol::encodeLedFrame(msId, devId, otp), line.levels);
    return line;
}

TEST(LedBlinker, BitTimesAreExactAt15BitsPerSecond) {
    const std::array<std::uint8_t, 2> levels{0, 1};
    const LedBlinker blinker(levels, 500);
    EXPECT_EQ(blinker.bitStartMs(0), 500u);
    EXPECT_EQ(blinker.bitStartMs(1), 566u);
    EXPECT_EQ(blinker.bitStartMs(15), 1500u);
    EXPECT_EQ(blinker.bitStartMs(15 * 3600), 500u + 3600000u);  // no drift over an hour
}

TEST(LedBlinker, EventsFollowTheLevels) {
    const Line line = lineFor(1, 0xabcdef01, 0x123456789abcdef0ULL);
    ASSERT_GT(line.count, 0u);
    LedBlinker blinker({line.levels.data(), line.count}, 0);
    LedEvent e = blinker.next();
    EXPECT_EQ(e.kind, LedEvent::Kind::gap);
    EXPECT_EQ(e.atMs, 0u);
    // Replay two transmissions and rebuild the level of every bit time from the edges.
    std::vector<std::uint8_t> rebuilt;
    bool on = false;
    std::uint64_t bit = 0;
    std::size_t gaps = 1;
    while (gaps < 3) {
        e = blinker.next();
        while (blinker.bitStartMs(bit) < e.atMs) {
            rebuilt.push_back(on ? 1 : 0);
            ++bit;
        }
        if (e.kind == LedEvent::Kind::gap) {
            ++gaps;
            EXPECT_FALSE(on);
            EXPECT_EQ(bit % line.count, 0u);
        } else {
            EXPECT_NE(e.on, on) << "an edge changes the level";
            on = e.on;
        }
    }
    ASSERT_EQ(rebuilt.size(), 2 * line.count);
    for (std::size_t i = 0; i < rebuilt.size(); ++i) {
        EXPECT_EQ(rebuilt[i], line.levels[i % line.count]) << "bit " << i;
    }
}

TEST(LedBlinker, EmptyLevelsOnlyGap) {
    LedBlinker blinker({}, 10);
    const LedEvent e = blinker.next();
    EXPECT_EQ(e.kind, LedEvent::Kind::gap);
    EXPECT_FALSE(e.on);
}

}  // namespace
}  // namespace tte::device
