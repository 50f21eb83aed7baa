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

/// Seconds of the longest transmission (gap + frame with the most stuffed bits): 12.9 s. A
/// recording from any moment on holds a whole frame after a gap once it is twice as long.
inline constexpr double kLedTransmissionSeconds = static_cast<double>(kLedMaxLineBits) / kLedBitRate;

/// How far decodeLedTrace() came on its best attempt, in order of progress. Its errors carry
/// it as Error::nativeCode (domain "LED trace", nativeName the quoted name), so a caller can
/// tell a light that is not an LED frame from the LED with a frame that is cut off or bad.
enum class LedTraceStage : int {
    input = 1,  ///< "input": fps out of range, a sample that is not a number, too few samples
    contrast,   ///< "contrast": the trace is flat
    gap,        ///< "gap": no off period of 11 bit times followed by a rising edge
    clock,      ///< "clock": after a gap, fewer than 15 edges or a bit time that is not 15 bit/s
    cutOff,     ///< "cut-off": the start constant was seen at 15 bit/s; the trace ends inside the frame
    frame,      ///< "frame": a whole frame was read but is bad (stuffing, start constant, checksum)
};

/// The stage of an error of decodeLedTrace(); `input` for an error from elsewhere.
LedTraceStage ledTraceStage(const Error& error);

/// Decodes a brightness-per-video-frame trace recorded at `fps` (24-1000): normalizes it
/// between the 5th and 95th percentile of the samples within 1.5 s of each sample (so a slow
/// drift of brightness or contrast, e.g. a camera's automatic exposure, does not matter),
/// finds the edges (hysteresis at 0.35/0.65, each at its interpolated 0.5 crossing) and a
/// gap of at least 11 bit times, fits the sender's bit clock by least squares to the start
/// constant's 15 edges and then to every further edge (so neither a transmitter clock off by
/// ±10 % nor the timing error of single edges matters), reads each bit's level from the
/// sample nearest to its centre, removes stuffing and checks the frame. Tries every gap;
/// reports the failure of the attempt that came furthest (LedTraceStage; the later one of
/// equals). Errors (invalidArgument), each starting "LED trace: ": "fps must be 24-1000",
/// "sample N is not a number", "too short for a frame (N samples, need at least M)", "no
/// contrast", "no gap of 16 bit times found", "fewer than 15 edges after the gap", "bit time
/// X ms is not within 20 % of 66.7 ms", "frame cut off by the end of the trace", "stuffing
/// violation"; corrupt "LED trace: checksum mismatch", "LED trace: wrong start constant".
Result<LedFrameData> decodeLedTrace(std::span<const float> brightness, double fps);

/// As decodeLedTrace(), for samples taken at the given times (seconds, each later than the
/// one before): a camera's frames with their own time stamps, jitter and variable frame rate
/// included, at 24 or more per second on average. Errors as decodeLedTrace(), with these
/// input errors instead of the fps and sample-count ones: "N samples but M times", "sample N
/// is not later than the one before", "too short for a frame (X s, need at least 10.9 s)",
/// "X samples per second, need at least 24".
Result<LedFrameData> decodeLedSamples(std::span<const float> brightness, std::span<const double> seconds);

}  // namespace tte::protocol
