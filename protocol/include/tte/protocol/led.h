// LED enrollment on the receiving side (draft 5.1, docs/PROTOCOL.md §5): decoding a camera's
// brightness trace into the frame, and rendering such a trace for tests and simulations.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "tte/base/error.h"
#include "tte/protocol/freestanding/led_frame.h"

namespace tte::protocol {

/// How renderLedTrace() models a transmitter and a camera.
struct LedRenderOptions {
    double fps = 30.0;           ///< camera frames per second; each sample averages one frame period
    double clockError = 0.0;     ///< transmitter clock error: +0.1 sends 10 % fast (bits 1/1.1 long)
    double noise = 0.0;          ///< standard deviation of Gaussian noise, in units of (on - off)
    double offBrightness = 0.1;  ///< brightness of the LED off
    double onBrightness = 0.9;   ///< brightness of the LED on
    double startSeconds = 0.0;   ///< where in the repeated transmission the camera starts
    int repeats = 2;             ///< how many transmissions (gap + frame) are sent
    std::uint32_t seed = 1;      ///< noise generator seed (deterministic)
};

/// The 19 frame bytes of `data` (draft 5.1).
std::array<std::uint8_t, kLedFrameSize> encodeLedFrame(const LedFrameData& data);

/// The LED level of each bit time of one transmission (gap + frame), as ledLineLevels().
std::vector<std::uint8_t> ledLevels(const LedFrameData& data);

/// Parses the 19 frame bytes. Errors: invalidArgument "LED frame: N bytes, expected 19";
/// corrupt "LED frame: wrong start constant", "LED frame: checksum mismatch".
Result<LedFrameData> parseLedFrame(std::span<const std::uint8_t> bytes);

/// The brightness trace a camera would record of `frame` sent with ledLineLevels() at 15 bit/s.
std::vector<float> renderLedTrace(const LedFrameData& frame, const LedRenderOptions& options);

/// Decodes a brightness-per-video-frame trace recorded at `fps` (24-1000): thresholds it
/// between its 5th and 95th percentile (with hysteresis), finds a gap of at least 11 bit
/// times, measures the bit time from the start constant's 15 edges, decodes by edge
/// intervals (re-estimating the bit time on every edge, so a transmitter clock off by ±10 %
/// is fine), removes stuffing and checks the frame. Tries every gap; reports the last failure.
/// Errors (invalidArgument), each starting "LED trace: ": "fps must be 24-1000", "sample N is
/// not a number", "too short for a frame (N samples, need at least M)", "no contrast",
/// "no gap of 16 bit times found", "fewer than 15 edges after the gap", "bit time X ms is not
/// within 20 % of 66.7 ms", "frame cut off by the end of the trace", "stuffing violation";
/// corrupt "LED trace: checksum mismatch", "LED trace: wrong start constant".
Result<LedFrameData> decodeLedTrace(std::span<const float> brightness, double fps);

}  // namespace tte::protocol
