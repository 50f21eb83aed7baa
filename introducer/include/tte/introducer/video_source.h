// A recorded video, frame by frame, as the LED finder (led_video.h) sees it: each frame's
// brightness scaled down to a small analysis raster. The real adapter decodes any container
// and codec that the system's FFmpeg libraries read (libavformat, libavcodec, libswscale);
// tests give the finder frames of their own through the same interface.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tte/base/error.h"

namespace tte::introducer {

/// What a video is and how it is mapped to the analysis raster.
struct VideoInfo {
    int width = 0;          ///< the video's frame size in pixels
    int height = 0;
    int gridWidth = 0;      ///< the analysis raster: the frame averaged over cells of `cell` × `cell` pixels
    int gridHeight = 0;
    double cell = 1.0;      ///< video pixels per raster cell, in x and y
    double nominalFps = 0;  ///< what the container says (0 when it does not); frame times come from the frames
    double durationSeconds = 0;  ///< what the container says (0 when it does not), for progress only
    std::string description;  ///< e.g. "h264 640x360 in mov,mp4,m4a,3gp,3g2,mj2", for messages
};

/// One frame on the analysis raster.
struct VideoFrame {
    double seconds = 0;               ///< presentation time from the first frame on
    std::vector<std::uint8_t> value;  ///< gridWidth × gridHeight, row by row: max(R, G, B) of each cell's mean colour
};

/// A video read from its start, frame by frame, any number of times.
class VideoSource {
public:
    virtual ~VideoSource() = default;
    [[nodiscard]] virtual const VideoInfo& info() const = 0;
    /// Reads the next frame into `frame`; false at the end of the video. A frame that cannot be
    /// decoded is skipped. Errors: corrupt (nothing decodable is left, with FFmpeg's words),
    /// timeout (the reading ran past its time budget).
    virtual Result<bool> next(VideoFrame& frame) = 0;
    /// Starts again at the first frame. Errors: those of opening the video.
    virtual Status rewind() = 0;
};

/// Largest side of the analysis raster: a 1920×1080 video becomes 400×225 cells of 4.8 px.
inline constexpr int kMaxGridSide = 400;

/// Opens a video file with FFmpeg (local files only: no network protocol is allowed). The
/// brightness of a cell is max(R, G, B) of its area-averaged colour, so a blue or red LED is as
/// visible as a white one. Errors, each starting "<file>: ": notFound (no such file);
/// invalidArgument "not a video FFmpeg can read: <FFmpeg's reason>", "no video stream in it
/// (<container>)", "video size WxH is not supported"; unsupported "video codec '<name>' cannot
/// be decoded by this FFmpeg (libavcodec <version>)"; io.
Result<std::unique_ptr<VideoSource>> openVideoFile(const std::filesystem::path& file);

/// As openVideoFile(), on bytes in memory (`bytes` must outlive the source); `name` is used
/// in messages. For tests and fuzzing.
Result<std::unique_ptr<VideoSource>> openVideoBytes(std::span<const std::uint8_t> bytes, const std::string& name);

}  // namespace tte::introducer
