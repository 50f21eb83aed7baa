// LED frame bytes (draft 5.1) and the NRZI line levels with bit stuffing (PROTOCOL.md §5).
#include "tte/protocol/freestanding/led_frame.h"

#include <gtest/gtest.h>

#include <vector>

namespace tte::protocol {
namespace {

// NRZI receiver for whole bit times: a level change is a 0, no change a 1.
std::vector<std::uint8_t> nrziBits(std::span<const std::uint8_t> levels, std::uint8_t before) {
    std::vector<std::uint8_t> bits;
    for (std::uint8_t l : levels) {
        bits.push_back(l == before ? 1 : 0);
        before = l;
    }
    return bits;
}

TEST(LedFrame, EncodesTheDraftLayoutBigEndianWithChecksum) {
    const auto f = encodeLedFrame(1, 0xabcdef01, 0x123456789abcdef0ULL);
    const std::array<std::uint8_t, 19> expected = {0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0xab, 0xcd, 0xef, 0x01,
                                                   0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x5e};
    EXPECT_EQ(f, expected);
    LedFrameData d;
    ASSERT_EQ(decodeLedFrame(f, d), LedFrameError::ok);
    EXPECT_EQ(d.msId, 1U);
    EXPECT_EQ(d.devId, 0xabcdef01U);
    EXPECT_EQ(d.otp, 0x123456789abcdef0ULL);
}

TEST(LedFrame, RejectsBadFrames) {
    auto f = encodeLedFrame(1, 2, 3);
    LedFrameData d;
    EXPECT_EQ(decodeLedFrame(std::span(f).first(18), d), LedFrameError::length);
    auto badStart = f;
    badStart[1] = 0x02;
    badStart[18] = static_cast<std::uint8_t>(badStart[18] - 1);  // checksum still right
    EXPECT_EQ(decodeLedFrame(badStart, d), LedFrameError::start);
    f[10] ^= 0x01;
    EXPECT_EQ(decodeLedFrame(f, d), LedFrameError::checksum);
    EXPECT_STREQ(ledFrameErrorName(LedFrameError::checksum), "checksum");
}

TEST(LedLine, StartsWithGapThenFifteenEdges) {
    const auto f = encodeLedFrame(1, 0xabcdef01, 0x123456789abcdef0ULL);
    std::array<std::uint8_t, kLedMaxLineBits> levels{};
    const std::size_t n = ledLineLevels(f, levels);
    ASSERT_GT(n, kLedGapBits + kLedFrameBits - 1);
    for (std::size_t i = 0; i < kLedGapBits; ++i) EXPECT_EQ(levels[i], 0) << i;
    for (std::size_t i = 0; i < 15; ++i) EXPECT_EQ(levels[kLedGapBits + i], (i % 2 == 0) ? 1 : 0) << i;
    EXPECT_EQ(levels[kLedGapBits + 15], levels[kLedGapBits + 14]);  // the 1 of 0x0001 holds
}

TEST(LedLine, StuffsAfterSixOnesSoNoRunExceedsSevenBitTimes) {
    const auto f = encodeLedFrame(0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFFULL);
    std::array<std::uint8_t, kLedMaxLineBits> levels{};
    const std::size_t n = ledLineLevels(f, levels);
    ASSERT_GT(n, kLedGapBits + kLedFrameBits);  // stuffed bits were added
    std::size_t run = 1;
    for (std::size_t i = kLedGapBits + 1; i < n; ++i) {
        run = levels[i] == levels[i - 1] ? run + 1 : 1;
        EXPECT_LE(run, 7U) << "at line bit " << i;
    }
}

TEST(LedLine, RoundTripsThroughNrziAndUnstuffing) {
    for (std::uint64_t otp : {0ULL, 0xFFFFFFFFFFFFFFFFULL, 0x123456789abcdef0ULL, 0x7E7E7E7E7E7E7E7EULL}) {
        const auto f = encodeLedFrame(0x000001, 0x0000003F, otp);
        std::array<std::uint8_t, kLedMaxLineBits> levels{};
        const std::size_t n = ledLineLevels(f, levels);
        ASSERT_NE(n, 0U);
        const auto bits = nrziBits(std::span(levels).subspan(kLedGapBits, n - kLedGapBits), 0);
        std::array<std::uint8_t, kLedFrameSize> back{};
        std::size_t used = 0;
        ASSERT_EQ(unstuffLedBits(bits, back, used), LedFrameError::ok);
        EXPECT_EQ(used, bits.size());
        EXPECT_EQ(back, f);
    }
}

TEST(LedLine, RejectsAStuffingViolationAndShortInput) {
    std::vector<std::uint8_t> bits(7, 1);  // seven 1s: the seventh should have been a stuffed 0
    std::array<std::uint8_t, kLedFrameSize> frame{};
    std::size_t used = 0;
    EXPECT_EQ(unstuffLedBits(bits, frame, used), LedFrameError::stuffing);
    bits.assign(100, 0);
    EXPECT_EQ(unstuffLedBits(bits, frame, used), LedFrameError::length);
}

TEST(LedLine, RefusesATooSmallBuffer) {
    const auto f = encodeLedFrame(1, 2, 3);
    std::array<std::uint8_t, 100> small{};
    EXPECT_EQ(ledLineLevels(f, small), 0U);
}

}  // namespace
}  // namespace tte::protocol
