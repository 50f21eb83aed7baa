// LED enrollment from a recording (draft 5.1, docs/PROTOCOL.md §5): finds the blinking LED
// in a video by itself and decodes its frame. No coordinates are needed: the spots whose
// brightness changes most from frame to frame (over a few cells, so that a shaking hand moves
// a light without making it blink) are the candidates, and the protocol's receiver decides
// which of them carries a valid frame.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

#include "tte/base/error.h"
#include "tte/introducer/video_source.h"
#include "tte/protocol/freestanding/led_frame.h"

namespace tte::introducer {

/// Where the LED was seen, in the video's pixels.
struct LedSpot {
    double x = 0;     ///< centre of the window the frame was read from
    double y = 0;
    double size = 0;  ///< side of that window
};

struct LedVideoResult {
    protocol::LedFrameData frame;
    LedSpot spot;
    double seconds = 0;      ///< length of the recording read
    double fps = 0;          ///< frame rate measured from the frames' times
    std::size_t frames = 0;  ///< frames read
};

struct LedVideoOptions {
    double maxSeconds = 60.0;  ///< read at most this much from the start (five transmissions)
    /// Called now and then with the share done (0…1) while the video is read (twice).
    std::function<void(double)> progress;
};

/// Seconds of recording that always hold a whole frame after a gap, wherever it starts: 26.
inline constexpr int kLedVideoSeconds = 26;
/// Frames per second a recording needs: two samples per bit at 15 bit/s, with margin.
inline constexpr double kLedVideoMinFps = 24.0;

/// Finds the LED in `video` and decodes its frame. `name` starts every message. Errors:
/// those of VideoSource; invalidArgument "<name>: the recording is X s long (N frames); LED
/// enrollment needs at least 26 s of the blinking LED (two transmissions of up to 12.9 s)",
/// "<name>: X frames/s is too slow: the LED sends 15 bit/s, record at 24 frames/s or more",
/// "<name>: no blinking LED found in N frames (X s): nothing in view changes its brightness
/// more than the camera's noise" or "…: the spot that changes most, at x=X y=Y, does not
/// blink the LED frame (LED trace: …)"; corrupt "<name>: LED found at x=X y=Y but no valid
/// frame in N frames (X s): LED trace: checksum mismatch" (or another frame error of
/// protocol::decodeLedSamples()), "<name>: LED found at x=X y=Y but N different frames were
/// read from it: record again, holding the camera steady"; io "<name>: the video gave fewer
/// frames on its second reading (did the file change?)".
Result<LedVideoResult> findLedFrame(VideoSource& video, const std::string& name, const LedVideoOptions& options = {});

/// openVideoFile() + findLedFrame().
Result<LedVideoResult> readLedVideo(const std::filesystem::path& file, const LedVideoOptions& options = {});

}  // namespace tte::introducer
