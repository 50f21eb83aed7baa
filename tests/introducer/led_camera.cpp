// Test support: a camera filming a device's LED, and the encoder that writes its video
// (led_camera.h).
#include "introducer/led_camera.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

namespace tte::test {

double LedTimeline::onShare(double from, double to) const {
    if (to <= from) return 0;
    // Changes before `from` decide the level at `from`.
    auto it = std::upper_bound(changes.begin(), changes.end(), from);
    bool on = (it - changes.begin()) % 2 == 1;
    double t = from, lit = 0;
    for (; it != changes.end() && *it < to; ++it) {
        if (on) lit += *it - t;
        t = *it;
        on = !on;
    }
    if (on) lit += to - t;
    return lit / (to - from);
}

LedTimeline timelineFromConsole(const std::vector<std::string>& lines) {
    LedTimeline timeline;
    bool on = false;
    for (const auto& line : lines) {
        if (line.rfind("LED ", 0) != 0) continue;
        const auto at = line.find(" t=");
        if (at == std::string::npos) continue;
        const double t = std::stod(line.substr(at + 3)) / 1000.0;
        timeline.end = t;
        if (line.rfind("LED GAP", 0) == 0) {
            timeline.gaps.push_back(t);
            continue;
        }
        const bool level = line.rfind("LED 1", 0) == 0;
        if (level != on) {
            timeline.changes.push_back(t);
            on = level;
        }
    }
    return timeline;
}

LedTimeline timelineOfFrame(const std::array<std::uint8_t, protocol::kLedFrameSize>& frame, int repeats) {
    std::array<std::uint8_t, protocol::kLedMaxLineBits> line{};
    const std::size_t n = protocol::ledLineLevels(frame, line);
    LedTimeline timeline;
    bool on = false;
    std::size_t bit = 0;
    for (int r = 0; r < repeats; ++r) {
        timeline.gaps.push_back(static_cast<double>(bit * 1000 / protocol::kLedBitRate) / 1000.0);
        for (std::size_t i = 0; i < n; ++i, ++bit) {
            if ((line[i] != 0) != on) {
                on = !on;
                // As the firmware: bit i starts at floor(i * 1000 / 15) ms.
                timeline.changes.push_back(static_cast<double>(bit * 1000 / protocol::kLedBitRate) / 1000.0);
            }
        }
    }
    timeline.end = static_cast<double>(bit * 1000 / protocol::kLedBitRate) / 1000.0;
    return timeline;
}

namespace {

constexpr int kNoiseMargin = 64;

/// A room behind the device: a lit wall with a gradient, a few objects with sharp edges, the
/// device's dark enclosure around the LED, and fine texture.
std::vector<std::uint8_t> background(const Camera& c, int margin, std::mt19937& rng) {
    const int w = c.width + 2 * margin, h = c.height + 2 * margin;
    std::vector<double> v(static_cast<std::size_t>(w) * h);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            v[static_cast<std::size_t>(y) * w + x] = 70.0 + 50.0 * x / w + 8.0 * std::sin(x * 0.7) * std::sin(y * 0.45);
        }
    }
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto box = [&](double x0, double y0, double x1, double y1, double level) {
        for (int y = std::max(0, static_cast<int>(y0)); y < std::min(h, static_cast<int>(y1)); ++y) {
            for (int x = std::max(0, static_cast<int>(x0)); x < std::min(w, static_cast<int>(x1)); ++x) {
                v[static_cast<std::size_t>(y) * w + x] = level;
            }
        }
    };
    for (int i = 0; i < 6; ++i) {
        const double x = unit(rng) * w, y = unit(rng) * h;
        box(x, y, x + 20 + unit(rng) * w / 4, y + 10 + unit(rng) * h / 4, 20 + unit(rng) * 180);
    }
    const double ex = c.led.x + margin, ey = c.led.y + margin, size = std::max(12.0, 8 * c.led.radius);
    box(ex - size, ey - size / 2, ex + size, ey + size / 2, 35);  // the device around its LED
    std::vector<std::uint8_t> out(v.size());
    std::transform(v.begin(), v.end(), out.begin(), [](double x) { return static_cast<std::uint8_t>(std::clamp(x, 0.0, 255.0)); });
    return out;
}

/// Brightness share of a disc of `radius` blurred by `blur` at distance `d` from its centre.
double discProfile(double d, double radius, double blur) {
    if (blur <= 0) return d <= radius ? 1.0 : 0.0;
    return 0.5 * std::erfc((d - radius) / (blur * std::numbers::sqrt2));
}

}  // namespace

CameraRenderer::CameraRenderer(LedTimeline timeline, Camera camera)
    : m_timeline(std::move(timeline)), m_camera(camera), m_margin(static_cast<int>(std::ceil(camera.shake)) + 2) {
    std::mt19937 rng(camera.seed);
    std::normal_distribution<double> jitter(0.0, 1.0);
    const int n = static_cast<int>(std::floor(camera.seconds * camera.fps));
    const double frame = 1.0 / camera.fps;
    for (int k = 0; k < n; ++k) {
        const double j = camera.jitter > 0 ? std::clamp(jitter(rng) * camera.jitter, -0.4 * frame, 0.4 * frame) : 0.0;
        m_times.push_back(std::max(0.0, k * frame + j));
    }
    m_background = background(camera, m_margin, rng);
    std::normal_distribution<double> noise(0.0, std::max(camera.noise, 1e-9));
    for (auto& plane : m_noise) {
        plane.resize(static_cast<std::size_t>(camera.width + kNoiseMargin) * (camera.height + kNoiseMargin));
        for (auto& v : plane) v = static_cast<std::int8_t>(std::clamp(std::lround(noise(rng)), -127L, 127L));
    }
}

void CameraRenderer::render(int k, std::vector<std::uint8_t>& rgb) const {
    const Camera& c = m_camera;
    const double t = m_times[static_cast<std::size_t>(k)];
    std::mt19937 rng(c.seed * 7919u + static_cast<std::uint32_t>(k));
    const double dx = c.shake * (0.7 * std::sin(2 * std::numbers::pi * 1.3 * t) + 0.3 * std::sin(2 * std::numbers::pi * 4.1 * t + 1));
    const double dy = c.shake * (0.7 * std::cos(2 * std::numbers::pi * 0.9 * t) + 0.3 * std::sin(2 * std::numbers::pi * 3.7 * t + 2));
    const double gain = c.exposure * (1.0 + c.drift * std::sin(2 * std::numbers::pi * t / 7.0 + 0.5));
    std::array<std::uint8_t, 256> lut{};
    for (int v = 0; v < 256; ++v) lut[static_cast<std::size_t>(v)] = static_cast<std::uint8_t>(std::clamp(std::lround(v * gain), 0L, 255L));
    const auto& noise = m_noise[rng() % m_noise.size()];
    const int nx = static_cast<int>(rng() % kNoiseMargin), ny = static_cast<int>(rng() % kNoiseMargin);
    // The whole scene moves by (dx, dy): the background to the nearest pixel, the lights exactly.
    const int bx = m_margin - static_cast<int>(std::lround(dx)), by = m_margin - static_cast<int>(std::lround(dy));
    const int bw = c.width + 2 * m_margin, nw = c.width + kNoiseMargin;
    rgb.resize(static_cast<std::size_t>(c.width) * c.height * 3);
    for (int y = 0; y < c.height; ++y) {
        const std::uint8_t* bg = &m_background[static_cast<std::size_t>(y + by) * bw + bx];
        const std::int8_t* nz = &noise[static_cast<std::size_t>(y + ny) * nw + nx];
        std::uint8_t* out = &rgb[static_cast<std::size_t>(y) * c.width * 3];
        for (int x = 0; x < c.width; ++x) {
            const auto v = static_cast<std::uint8_t>(std::clamp(lut[bg[x]] + nz[x], 0, 255));
            out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = v;
        }
    }
    // The lights, drawn over the patch they cover: scene + light, times the gain, plus noise.
    const double open0 = c.startSeconds + t * (1 + c.clockError);
    const double open1 = c.startSeconds + (t + c.shutter / c.fps) * (1 + c.clockError);
    auto draw = [&](const Light& light, double level) {
        const double cx = light.x + dx, cy = light.y + dy;
        const double reach = light.radius + 4 * c.blur + 1;
        for (int y = std::max(0, static_cast<int>(cy - reach)); y < std::min(c.height, static_cast<int>(cy + reach) + 1); ++y) {
            for (int x = std::max(0, static_cast<int>(cx - reach)); x < std::min(c.width, static_cast<int>(cx + reach) + 1); ++x) {
                const double p = level * discProfile(std::hypot(x + 0.5 - cx, y + 0.5 - cy), light.radius, c.blur);
                if (p < 1e-3) continue;
                std::uint8_t* px = &rgb[(static_cast<std::size_t>(y) * c.width + x) * 3];
                for (int ch = 0; ch < 3; ++ch) {
                    px[ch] = static_cast<std::uint8_t>(std::clamp(px[ch] + gain * p * light.rgb[static_cast<std::size_t>(ch)], 0.0, 255.0));
                }
            }
        }
    };
    if (c.lamp) draw(*c.lamp, 1.0);
    draw(c.led, m_timeline.onShare(open0, open1));
}

namespace {

constexpr int kTicks = 30000;  // per second: frame times in the file

struct Encoder {
    AVFormatContext* format = nullptr;
    AVCodecContext* codec = nullptr;
    AVStream* stream = nullptr;
    AVFrame* frame = nullptr;
    AVPacket* packet = nullptr;
    SwsContext* scaler = nullptr;
    ~Encoder() {
        sws_freeContext(scaler);
        av_packet_free(&packet);
        av_frame_free(&frame);
        avcodec_free_context(&codec);
        if (format != nullptr && format->pb != nullptr) avio_closep(&format->pb);
        avformat_free_context(format);
    }
    /// Writes every packet the encoder has ready. Returns "" or what failed.
    std::string drain() {
        for (;;) {
            const int rc = avcodec_receive_packet(codec, packet);
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return "";
            if (rc < 0) return "avcodec_receive_packet failed";
            av_packet_rescale_ts(packet, codec->time_base, stream->time_base);
            packet->stream_index = stream->index;
            if (av_interleaved_write_frame(format, packet) < 0) return "av_interleaved_write_frame failed";
        }
    }
};

}  // namespace

std::string writeVideo(const CameraRenderer& renderer, const VideoFormat& f, const std::filesystem::path& file) {
    const Camera& c = renderer.camera();
    av_log_set_level(AV_LOG_ERROR);  // the encoders' statistics would fill the test log
    Encoder e;
    if (avformat_alloc_output_context2(&e.format, nullptr, f.container.c_str(), file.c_str()) < 0) return "no muxer " + f.container;
    const AVCodec* encoder = avcodec_find_encoder_by_name(f.codec.c_str());
    if (encoder == nullptr) return "no encoder " + f.codec;
    e.stream = avformat_new_stream(e.format, nullptr);
    e.codec = avcodec_alloc_context3(encoder);
    e.codec->width = c.width;
    e.codec->height = c.height;
    const bool jpeg = f.codec == "mjpeg";
    e.codec->pix_fmt = jpeg ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P;
    const int rate = static_cast<int>(std::lround(c.fps));
    e.codec->time_base = f.frameTimes ? AVRational{1, kTicks} : AVRational{1, rate};  // MPEG-4 part 2 allows 65535 at most
    e.codec->framerate = {rate, 1};
    e.codec->gop_size = 2 * rate;
    if (jpeg) {
        e.codec->flags |= AV_CODEC_FLAG_QSCALE;
        e.codec->global_quality = FF_QP2LAMBDA * 5;
    } else {
        av_opt_set(e.codec->priv_data, "preset", "ultrafast", 0);
        av_opt_set(e.codec->priv_data, "crf", "23", 0);
    }
    if ((e.format->oformat->flags & AVFMT_GLOBALHEADER) != 0) e.codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (avcodec_open2(e.codec, encoder, nullptr) < 0) return "cannot open encoder " + f.codec;
    avcodec_parameters_from_context(e.stream->codecpar, e.codec);
    e.stream->time_base = e.codec->time_base;
    if (avio_open(&e.format->pb, file.c_str(), AVIO_FLAG_WRITE) < 0) return "cannot write " + file.string();
    AVDictionary* options = nullptr;
    if (f.faststart) av_dict_set(&options, "movflags", "+faststart", 0);
    const int header = avformat_write_header(e.format, &options);
    av_dict_free(&options);
    if (header < 0) return "avformat_write_header failed";
    e.frame = av_frame_alloc();
    e.packet = av_packet_alloc();
    e.frame->format = e.codec->pix_fmt;
    e.frame->width = c.width;
    e.frame->height = c.height;
    if (av_frame_get_buffer(e.frame, 0) < 0) return "av_frame_get_buffer failed";
    e.scaler = sws_getContext(c.width, c.height, AV_PIX_FMT_RGB24, c.width, c.height, e.codec->pix_fmt, SWS_BILINEAR, nullptr,
                              nullptr, nullptr);
    std::vector<std::uint8_t> rgb;
    for (int k = 0; k < renderer.frames(); ++k) {
        renderer.render(k, rgb);
        if (av_frame_make_writable(e.frame) < 0) return "av_frame_make_writable failed";
        const std::uint8_t* planes[1] = {rgb.data()};
        const int strides[1] = {3 * c.width};
        sws_scale(e.scaler, planes, strides, 0, c.height, e.frame->data, e.frame->linesize);
        e.frame->pts = f.frameTimes ? std::llround(renderer.time(k) * kTicks) : k;
        if (avcodec_send_frame(e.codec, e.frame) < 0) return "avcodec_send_frame failed at frame " + std::to_string(k);
        if (auto why = e.drain(); !why.empty()) return why;
    }
    avcodec_send_frame(e.codec, nullptr);
    if (auto why = e.drain(); !why.empty()) return why;
    if (av_write_trailer(e.format) < 0) return "av_write_trailer failed";
    return "";
}

RenderedVideo::RenderedVideo(const CameraRenderer& renderer) : m_renderer(renderer) {
    const Camera& c = renderer.camera();
    m_info.width = m_info.gridWidth = c.width;
    m_info.height = m_info.gridHeight = c.height;
    m_info.cell = 1.0;
    m_info.nominalFps = c.fps;
    m_info.durationSeconds = c.seconds;
    m_info.description = "rendered " + std::to_string(c.width) + "x" + std::to_string(c.height);
}

Result<bool> RenderedVideo::next(introducer::VideoFrame& frame) {
    if (m_next >= m_renderer.frames()) return false;
    const auto k = static_cast<std::size_t>(m_next);
    if (k == m_frames.size()) {
        m_renderer.render(m_next, m_rgb);
        std::vector<std::uint8_t> value(m_rgb.size() / 3);
        for (std::size_t i = 0; i < value.size(); ++i) value[i] = std::max({m_rgb[3 * i], m_rgb[3 * i + 1], m_rgb[3 * i + 2]});
        m_frames.push_back(std::move(value));
    }
    frame.seconds = m_renderer.time(m_next) - m_renderer.time(0);
    frame.value = m_frames[k];
    ++m_next;
    return true;
}

}  // namespace tte::test
