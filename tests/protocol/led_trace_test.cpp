// Decoding a camera's brightness trace of the LED frame (draft 5.1, docs/PROTOCOL.md §5):
// 30 fps, transmitter clock off by ±10 %, noise, a start in the middle of a frame, exposure
// drift, frames with their own (jittered, dropped) times, how far a failure came, bad input.
#include "tte/protocol/led.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace tte::protocol {
namespace {

const LedFrameData kFrame{1, 0xabcdef01, 0x123456789abcdef0ULL};

/// The line levels of `frame` (any 19 bytes) repeated `transmissions` times, two samples a
/// bit (30 fps), sharp 0 and 1.
std::vector<float> sharpTrace(const std::array<std::uint8_t, kLedFrameSize>& frame, double transmissions) {
    std::array<std::uint8_t, kLedMaxLineBits> line{};
    const std::size_t n = ledLineLevels(frame, line);
    std::vector<float> trace;
    for (std::size_t i = 0; i < static_cast<std::size_t>(transmissions * static_cast<double>(n)); ++i) {
        trace.insert(trace.end(), 2, line[i % n] ? 1.0F : 0.0F);
    }
    return trace;
}

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
    EXPECT_EQ(decodeLedTrace(sharpTrace(frame, 2.0), 30).error().message, "LED trace: checksum mismatch");
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

TEST(LedTrace, FollowsAnExposureThatDriftsAcrossTheWholeRange) {
    LedRenderOptions o;
    o.repeats = 3;
    o.noise = 0.03;
    auto trace = renderLedTrace(kFrame, o);
    // Automatic exposure: the gain swings from 0.45 to 1.55 and back every 8 s, so the LED
    // on at the low end is darker than the LED off at the high end.
    for (std::size_t i = 0; i < trace.size(); ++i) {
        trace[i] *= static_cast<float>(1.0 + 0.55 * std::sin(2 * 3.14159265 * static_cast<double>(i) / 30.0 / 8.0));
    }
    auto got = decodeLedTrace(trace, 30);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->otp, kFrame.otp);
}

TEST(LedSamples, FramesWithTheirOwnTimesDecode) {
    // A phone's variable frame rate: each frame at its own time, with jitter and a few frames
    // dropped; the LED integrated over a shutter of 60 % of the frame time.
    const auto levels = ledLevels(kFrame);
    std::mt19937 rng(7);
    std::normal_distribution<double> jitter(0.0, 0.004);
    std::vector<float> value;
    std::vector<double> time;
    for (int k = 0; k < 30 * 27; ++k) {
        if (k % 97 == 50) continue;  // dropped
        const double t = k / 30.0 + jitter(rng);
        double on = 0;
        for (int s = 0; s < 20; ++s) {  // the shutter, in 20 steps
            const double at = 3.3 + t + s * 0.6 / 30.0 / 20.0;
            on += levels[static_cast<std::size_t>(at * kLedBitRate) % levels.size()] != 0 ? 0.05 : 0.0;
        }
        value.push_back(static_cast<float>(20 + 200 * on));
        time.push_back(t);
    }
    auto got = decodeLedSamples(value, time);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->devId, kFrame.devId);
    EXPECT_EQ(got->otp, kFrame.otp);
}

TEST(LedSamples, BadInputMessages) {
    const std::vector<float> value(400, 1.0F);
    std::vector<double> time(400);
    for (std::size_t i = 0; i < time.size(); ++i) time[i] = static_cast<double>(i) / 30.0;
    EXPECT_EQ(decodeLedSamples(std::span(value).first(3), time).error().message, "LED trace: 3 samples but 400 times");
    auto back = time;
    back[9] = back[8];
    EXPECT_EQ(decodeLedSamples(value, back).error().message, "LED trace: sample 9 is not later than the one before");
    EXPECT_EQ(decodeLedSamples(std::span(value).first(300), std::span(time).first(300)).error().message,
              "LED trace: too short for a frame (10.0 s, need at least 10.9 s)");
    auto sparse = time;
    for (auto& t : sparse) t *= 2;  // 15 samples per second
    EXPECT_EQ(decodeLedSamples(value, sparse).error().message, "LED trace: 15.0 samples per second, need at least 24");
    EXPECT_EQ(ledTraceStage(decodeLedSamples(value, time).error()), LedTraceStage::contrast);
}

TEST(LedTrace, ReportsTheFailureThatCameFurthest) {
    // A frame with a bad checksum, then the next transmission cut off by the end of the trace:
    // the checksum is what the user needs to hear.
    auto bad = encodeLedFrame(kFrame.msId, kFrame.devId, kFrame.otp);
    bad[18] ^= 0x01;
    auto got = decodeLedTrace(sharpTrace(bad, 1.2), 30);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().message, "LED trace: checksum mismatch");
    EXPECT_EQ(ledTraceStage(got.error()), LedTraceStage::frame);
    EXPECT_EQ(got.error().nativeName, "frame");

    LedRenderOptions cut;
    cut.repeats = 1;
    auto partial = renderLedTrace(kFrame, cut);
    partial.insert(partial.begin(), 100, 0.1F);
    got = decodeLedTrace(std::span(partial).first(partial.size() - 30), 30);
    EXPECT_EQ(ledTraceStage(got.error()), LedTraceStage::cutOff);
    std::vector<float> square(400);
    for (std::size_t i = 0; i < square.size(); ++i) square[i] = (i / 2) % 2 ? 1.0F : 0.0F;
    EXPECT_EQ(ledTraceStage(decodeLedTrace(square, 30).error()), LedTraceStage::gap);
    LedRenderOptions fast;
    fast.clockError = 0.3;
    EXPECT_EQ(ledTraceStage(decodeLedTrace(renderLedTrace(kFrame, fast), 30).error()), LedTraceStage::clock);
    EXPECT_EQ(ledTraceStage(decodeLedTrace(square, 10).error()), LedTraceStage::input);
    EXPECT_EQ(ledTraceStage(Error{Errc::io, "elsewhere", {}, 0, {}}), LedTraceStage::input);
}

TEST(LedTrace, RefusesADifferentBitRate) {
    LedRenderOptions o;
    o.clockError = 0.3;  // 19.5 bit/s
    auto trace = renderLedTrace(kFrame, o);
    auto got = decodeLedTrace(trace, 30);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().message, "LED trace: bit time 51 ms is not within 20 % of 66.7 ms");  // 51.3 ms sent
}

}  // namespace
}  // namespace tte::protocol
