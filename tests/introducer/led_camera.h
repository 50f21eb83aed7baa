// Test support: a camera filming a device's LED. The LED's level changes come from the
// firmware (its console mirror of every LED edge in QEMU) or from protocol::ledLineLevels();
// the camera renders a scene around it – a textured background, the LED as a blurred coloured
// disc, optionally a second steady light – with sensor noise, a shutter that integrates the
// LED over part of each frame, automatic-exposure drift, hand shake, frame-time jitter and a
// clock that differs from the device's. The frames go through libavcodec/libavformat into a
// real file (H.264 in MP4, MJPEG in AVI, …) or straight to the finder as a VideoSource.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tte/introducer/video_source.h"
#include "tte/protocol/freestanding/led_frame.h"

namespace tte::test {

/// When the LED changes, in device seconds; off before the first change.
struct LedTimeline {
    std::vector<double> changes;
    std::vector<double> gaps;  ///< when each transmission (gap + frame) begins
    double end = 0;            ///< the last moment the timeline is known for

    /// Share of [from, to) the LED is on.
    [[nodiscard]] double onShare(double from, double to) const;
};

/// The timeline of the firmware's console lines "LED 1 t=<ms>", "LED 0 t=<ms>", "LED GAP t=<ms>".
LedTimeline timelineFromConsole(const std::vector<std::string>& lines);

/// The timeline of `repeats` transmissions of `frame` (19 bytes, as the firmware would send
/// them: protocol::ledLineLevels at 15 bit/s), e.g. with a wrong checksum.
LedTimeline timelineOfFrame(const std::array<std::uint8_t, protocol::kLedFrameSize>& frame, int repeats);

struct Light {
    double x = 0, y = 0;  ///< centre, in pixels (the first pixel spans 0…1)
    double radius = 4;    ///< pixels
    std::array<double, 3> rgb = {60, 120, 255};  ///< added to the scene when fully lit (may exceed 255: saturates)
};

struct Camera {
    int width = 640, height = 360;
    double fps = 30;
    double seconds = 27;        ///< length of the recording
    double startSeconds = 0;    ///< device time at which the recording starts
    Light led{320, 180, 5, {60, 120, 255}};
    std::optional<Light> lamp;  ///< a second light, always on
    double blur = 1.2;          ///< Gaussian blur of the lights, pixels (focus, lens)
    double noise = 3;           ///< sensor noise, standard deviation in levels of 255
    double exposure = 1.0;      ///< gain on the whole scene
    double drift = 0.15;        ///< automatic exposure: the gain swings ±drift, over 7 s
    double shutter = 0.5;       ///< open share of each frame time
    double jitter = 0.004;      ///< frame-time jitter, standard deviation in seconds
    double shake = 1.5;         ///< hand shake, amplitude in pixels
    double clockError = 0.0;    ///< device clock against the camera's: +0.01 runs 1 % fast
    std::uint32_t seed = 1;
};

/// The frames a camera takes; deterministic for a given seed.
class CameraRenderer {
public:
    CameraRenderer(LedTimeline timeline, Camera camera);
    [[nodiscard]] int frames() const { return static_cast<int>(m_times.size()); }
    /// Camera time of frame `k`, seconds from the first (jitter included).
    [[nodiscard]] double time(int k) const { return m_times[static_cast<std::size_t>(k)]; }
    [[nodiscard]] const Camera& camera() const { return m_camera; }
    /// Frame `k` as packed RGB24, width × height.
    void render(int k, std::vector<std::uint8_t>& rgb) const;

private:
    LedTimeline m_timeline;
    Camera m_camera;
    int m_margin;
    std::vector<double> m_times;
    std::vector<std::uint8_t> m_background;             // (width + 2 margin) × (height + 2 margin)
    std::array<std::vector<std::int8_t>, 4> m_noise;    // noise planes, (width + 64) × (height + 64)
};

struct VideoFormat {
    std::string codec = "libx264";  ///< an FFmpeg encoder name
    std::string container = "mp4";  ///< an FFmpeg muxer name
    bool frameTimes = true;         ///< write each frame's own time (variable frame rate), else k / fps
    bool faststart = false;         ///< MP4: index first (else last, as most phones write it)
};

/// Encodes every frame of `renderer` into `file`. Returns "" or what failed.
std::string writeVideo(const CameraRenderer& renderer, const VideoFormat& format, const std::filesystem::path& file);

/// The camera's frames handed to the finder directly (no codec): max(R, G, B) per pixel, at
/// the camera's size (keep it within kMaxGridSide). For unit tests of the finder; the frames
/// are rendered once and kept for the second reading.
class RenderedVideo : public introducer::VideoSource {
public:
    explicit RenderedVideo(const CameraRenderer& renderer);
    [[nodiscard]] const introducer::VideoInfo& info() const override { return m_info; }
    Result<bool> next(introducer::VideoFrame& frame) override;
    Status rewind() override {
        m_next = 0;
        ++m_rewinds;
        return {};
    }
    [[nodiscard]] int rewinds() const { return m_rewinds; }

private:
    const CameraRenderer& m_renderer;
    introducer::VideoInfo m_info;
    std::vector<std::uint8_t> m_rgb;
    std::vector<std::vector<std::uint8_t>> m_frames;
    int m_next = 0;
    int m_rewinds = 0;
};

}  // namespace tte::test
