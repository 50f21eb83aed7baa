// Decoding a camera's brightness trace of the LED frame (draft 5.1, docs/PROTOCOL.md §5):
// 30 fps, transmitter clock off by ±10 %, noise, a start in the middle of a frame, bad input.
#include "tte/protocol/led.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tte::protocol {
namespace {

const LedFrameData kFrame{1, 0xabcdef01, 0x123456789abcdef0ULL};

void expectDecodes(const LedRenderOptions& o, const LedFrameData& f = kFrame) {
    const auto trace = renderLedTrace(f, o);
    auto got = decodeLedTrace(trace, o.fps);
    ASSERT_TRUE(got) << got.error().message << " (clock " << o.clockError << ", noise " << o.noise << ", start "
                     << o.startSeconds << ")";
    EXPECT_EQ(got->msId, f.msId);
    EXPECT_EQ(got->devId, f.devId);
    EXPECT_EQ(got->otp, f.otp);
}

TEST(LedTrace, DecodesAClean30FpsTrace) { expectDecodes({}); }

TEST(LedTrace, ToleratesTransmitterClockErrorWithNoise) {
    for (double clock : {-0.10, -0.05, 0.0, 0.05, 0.10}) {
        for (std::uint32_t seed : {1U, 2U, 3U}) {
            LedRenderOptions o;
            o.clockError = clock;
            o.noise = 0.05;
            o.seed = seed;
            o.startSeconds = 0.37 * seed;  // the camera starts inside a transmission
            o.repeats = 3;
            expectDecodes(o);
        }
    }
}

TEST(LedTrace, DecodesFramesWithLongRunsAndOtherCameras) {
    LedRenderOptions o;
    o.clockError = 0.1;
    expectDecodes(o, {0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFFULL});
    o.clockError = -0.1;
    expectDecodes(o, {0x000001, 0x00000000, 0x0ULL});
    o.fps = 60;
    o.noise = 0.08;
    expectDecodes(o);
    o.fps = 25;
    o.noise = 0.03;
    o.clockError = 0.1;
    expectDecodes(o);
}

TEST(LedTrace, InvertedBrightnessScaleStillDecodes) {
    LedRenderOptions o;  // e.g. a camera with automatic exposure: only the contrast matters
    o.offBrightness = 200;
    o.onBrightness = 240;
    expectDecodes(o);
}

// A single-bit error in the frame must give a checksum failure, never a wrong frame.
TEST(LedTrace, RejectsABadChecksum) {
    auto frame = encodeLedFrame(kFrame.msId, kFrame.devId, kFrame.otp);
    frame[18] ^= 0x01;
    std::array<std::uint8_t, kLedMaxLineBits> line{};
    const std::size_t n = ledLineLevels(frame, line);
    std::vector<float> trace;
    for (int r = 0; r < 2; ++r) {
        for (std::size_t i = 0; i < n; ++i) {
            trace.push_back(line[i] ? 1.0F : 0.0F);  // 30 fps: two samples per bit
            trace.push_back(line[i] ? 1.0F : 0.0F);
        }
    }
    EXPECT_EQ(decodeLedTrace(trace, 30).error().message, "LED trace: checksum mismatch");
}

TEST(LedTrace, BadInputMessages) {
    const auto good = renderLedTrace(kFrame, {});
    EXPECT_EQ(decodeLedTrace(good, 10).error().message, "LED trace: fps must be 24-1000");
    EXPECT_EQ(decodeLedTrace(good, std::nan("")).error().message, "LED trace: fps must be 24-1000");
    EXPECT_EQ(decodeLedTrace(std::span(good).first(100), 30).error().message,
              "LED trace: too short for a frame (100 samples, need at least 326)");
    std::vector<float> flat(400, 0.5F);
    EXPECT_EQ(decodeLedTrace(flat, 30).error().message, "LED trace: no contrast");
    auto nan = good;
    nan[7] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_EQ(decodeLedTrace(nan, 30).error().message, "LED trace: sample 7 is not a number");
    std::vector<float> square(400);
    for (std::size_t i = 0; i < square.size(); ++i) square[i] = (i / 2) % 2 ? 1.0F : 0.0F;
    EXPECT_EQ(decodeLedTrace(square, 30).error().message, "LED trace: no gap of 16 bit times found");
    LedRenderOptions cut;
    cut.repeats = 1;
    auto partial = renderLedTrace(kFrame, cut);
    partial.insert(partial.begin(), 100, 0.1F);  // a long gap first, then a frame cut short
    EXPECT_EQ(decodeLedTrace(std::span(partial).first(partial.size() - 30), 30).error().message,
              "LED trace: frame cut off by the end of the trace");
}

TEST(LedHosted, WrappersAndFrameMessages) {
    const auto bytes = encodeLedFrame(kFrame);
    EXPECT_EQ(bytes, encodeLedFrame(kFrame.msId, kFrame.devId, kFrame.otp));
    EXPECT_EQ(parseLedFrame(bytes)->otp, kFrame.otp);
    const auto levels = ledLevels(kFrame);
    std::array<std::uint8_t, kLedMaxLineBits> line{};
    ASSERT_EQ(levels.size(), ledLineLevels(bytes, line));
    EXPECT_TRUE(std::equal(levels.begin(), levels.end(), line.begin()));
    EXPECT_EQ(parseLedFrame(std::span(bytes).first(5)).error().message, "LED frame: 5 bytes, expected 19");
    auto bad = bytes;
    bad[0] = 1;
    bad[18] = static_cast<std::uint8_t>(bad[18] - 1);
    EXPECT_EQ(parseLedFrame(bad).error().message, "LED frame: wrong start constant");
    bad = bytes;
    bad[5] ^= 0x10;
    EXPECT_EQ(parseLedFrame(bad).error().message, "LED frame: checksum mismatch");
}

TEST(LedTrace, RefusesADifferentBitRate) {
    LedRenderOptions o;
    o.clockError = 0.3;  // 19.5 bit/s
    auto trace = renderLedTrace(kFrame, o);
    auto got = decodeLedTrace(trace, 30);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().message, "LED trace: bit time 52 ms is not within 20 % of 66.7 ms");  // 51.3 ms sent
}

}  // namespace
}  // namespace tte::protocol
