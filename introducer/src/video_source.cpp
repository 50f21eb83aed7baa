// The FFmpeg adapter of VideoSource: libavformat finds the video stream, libavcodec decodes
// it, libswscale averages each frame down to the analysis raster in RGB. Whatever a file holds,
// the reading ends: packets and failed decodes are counted and bounded, and a time budget
// interrupts FFmpeg's own I/O. FFmpeg's log lines never reach the terminal; the last error it
// logged during a call is kept and named in our message.
#include "tte/introducer/video_source.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <mutex>

namespace tte::introducer {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kMaxSide = 16384;                   // larger frames are refused before decoding
constexpr long kMaxPackets = 2'000'000;           // packets read per pass, of any stream
constexpr int kMaxFailedDecodesInARow = 500;      // then the rest of the stream is given up
constexpr auto kTimeBudget = std::chrono::minutes(5);  // one pass over the file, FFmpeg's I/O included
constexpr int kThreadsFromPixels = 640 * 360;      // frames this large are decoded with a thread per core
// libswscale's output loops write whole SIMD blocks: a row past its last pixel, and past the
// last row. The scaled frame gets aligned rows and slack after them, as av_image_alloc() and
// FFmpeg's own frame pools give (without it a 2x2 frame's writes run into the next allocation).
constexpr int kScalerAlign = 64;
constexpr std::size_t kScalerSlack = 256;

// FFmpeg logs through one process-wide callback. The log lines of the calls one thread makes
// go to that thread's capture (a thread_local pointer is the only way to route them); lines
// from FFmpeg's worker threads and from outside a capture are dropped, never printed.
thread_local std::string* t_logCapture = nullptr;

void onFfmpegLog(void* context, int level, const char* format, va_list args) {
    if (level > AV_LOG_ERROR || t_logCapture == nullptr) return;
    char line[512];
    int printPrefix = 0;
    av_log_format_line2(context, level, format, args, line, sizeof line, &printPrefix);
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '.')) text.pop_back();
    for (char& c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // the file's own bytes may be in it
    }
    if (text.empty()) return;
    const AVClass* cls = context != nullptr ? *static_cast<AVClass* const*>(context) : nullptr;
    *t_logCapture = cls != nullptr && cls->item_name != nullptr ? std::string(cls->item_name(context)) + ": " + text : text;
}

/// Routes FFmpeg's error lines of this thread into `into` while it lives.
class LogCapture {
public:
    explicit LogCapture(std::string& into) : m_previous(t_logCapture) {
        static std::once_flag installed;
        std::call_once(installed, [] { av_log_set_callback(&onFfmpegLog); });
        t_logCapture = &into;
    }
    ~LogCapture() { t_logCapture = m_previous; }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

private:
    std::string* m_previous;
};

std::string avError(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, text, sizeof text);
    return text;
}

/// The streams of a file, for a message: "audio mp3, data bin_data".
std::string streamList(const AVFormatContext* fmt) {
    std::string out;
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        const AVCodecParameters* par = fmt->streams[i]->codecpar;
        const char* type = av_get_media_type_string(par->codec_type);
        out += (out.empty() ? "" : ", ") + std::string(type != nullptr ? type : "unknown") + " " + avcodec_get_name(par->codec_id);
    }
    return out.empty() ? "no streams" : out;
}

class FfmpegVideo final : public VideoSource {
public:
    FfmpegVideo(fs::path file, std::span<const std::uint8_t> bytes, std::string name)
        : m_file(std::move(file)), m_bytes(bytes), m_name(std::move(name)) {}
    ~FfmpegVideo() override { close(); }
    FfmpegVideo(const FfmpegVideo&) = delete;
    FfmpegVideo& operator=(const FfmpegVideo&) = delete;

    Status open();
    [[nodiscard]] const VideoInfo& info() const override { return m_info; }
    Result<bool> next(VideoFrame& frame) override;
    Status rewind() override {
        close();
        return open();
    }

private:
    void close();
    Status openStream();
    Status openDecoder(const AVCodec* decoder);
    std::unexpected<Error> error(Errc code, const std::string& what) const { return fail(code, m_name + ": " + what); }
    /// " (<what FFmpeg logged>)" when it logged something, else "".
    [[nodiscard]] std::string logged() const { return m_log.empty() ? "" : " (" + m_log + ")"; }
    /// Sends the next packet of the video stream to the decoder; at the end of the input (or
    /// after too many failed packets in a row) puts the decoder into draining instead.
    void feedDecoder();
    bool convert(VideoFrame& out);

    static int interrupt(void* self) { return Clock::now() > static_cast<FfmpegVideo*>(self)->m_deadline ? 1 : 0; }
    static int readBytes(void* self, std::uint8_t* buffer, int size);
    static std::int64_t seekBytes(void* self, std::int64_t offset, int whence);

    fs::path m_file;
    std::span<const std::uint8_t> m_bytes;
    std::size_t m_position = 0;
    std::string m_name;
    std::string m_log;
    VideoInfo m_info;
    AVFormatContext* m_format = nullptr;
    AVIOContext* m_io = nullptr;
    AVCodecContext* m_codec = nullptr;
    SwsContext* m_scaler = nullptr;
    AVPacket* m_packet = nullptr;
    AVFrame* m_frame = nullptr;
    int m_stream = -1;
    AVRational m_timeBase{1, 1};
    std::vector<std::uint8_t> m_rgb;  // the scaled frame: m_rgbStride bytes a row, then kScalerSlack
    int m_rgbStride = 0;
    Clock::time_point m_deadline;
    std::int64_t m_firstPts = AV_NOPTS_VALUE;
    long m_frames = 0, m_packets = 0;
    int m_failedInARow = 0;
    std::string m_firstFailure;
    bool m_inputEnded = false;
};

int FfmpegVideo::readBytes(void* self, std::uint8_t* buffer, int size) {
    auto* v = static_cast<FfmpegVideo*>(self);
    const std::size_t left = v->m_bytes.size() - v->m_position;
    if (left == 0) return AVERROR_EOF;
    const std::size_t n = std::min(left, static_cast<std::size_t>(std::max(size, 0)));
    std::memcpy(buffer, v->m_bytes.data() + v->m_position, n);
    v->m_position += n;
    return static_cast<int>(n);
}

std::int64_t FfmpegVideo::seekBytes(void* self, std::int64_t offset, int whence) {
    auto* v = static_cast<FfmpegVideo*>(self);
    const auto size = static_cast<std::int64_t>(v->m_bytes.size());
    if ((whence & AVSEEK_SIZE) != 0) return size;
    std::int64_t base = 0;
    switch (whence & ~AVSEEK_FORCE) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = static_cast<std::int64_t>(v->m_position); break;
    case SEEK_END: base = size; break;
    default: return AVERROR(EINVAL);
    }
    if (offset > size || offset < -base || base + offset > size) return AVERROR(EINVAL);
    v->m_position = static_cast<std::size_t>(base + offset);
    return base + offset;
}

Status FfmpegVideo::open() {
    LogCapture capture(m_log);
    m_log.clear();
    m_deadline = Clock::now() + kTimeBudget;
    m_format = avformat_alloc_context();
    if (m_format == nullptr) return error(Errc::internal, "out of memory");
    m_format->interrupt_callback = {&FfmpegVideo::interrupt, this};
    AVDictionary* options = nullptr;
    std::string url;
    if (m_file.empty()) {
        constexpr int kBuffer = 4096;
        auto* buffer = static_cast<std::uint8_t*>(av_malloc(kBuffer));
        m_position = 0;
        m_io = buffer != nullptr ? avio_alloc_context(buffer, kBuffer, 0, this, &readBytes, nullptr, &seekBytes) : nullptr;
        if (m_io == nullptr) {
            av_free(buffer);
            return error(Errc::internal, "out of memory");
        }
        m_format->pb = m_io;
        m_format->flags |= AVFMT_FLAG_CUSTOM_IO;
    } else {
        // Local files only: a playlist or a concat list must not make us open network URLs.
        av_dict_set(&options, "protocol_whitelist", "file", 0);
        url = "file:" + m_file.string();
    }
    const int rc = avformat_open_input(&m_format, url.c_str(), nullptr, &options);  // frees m_format on failure
    av_dict_free(&options);
    if (rc < 0) {
        return failNative(Errc::invalidArgument, m_name + ": not a video FFmpeg can read: " + avError(rc) + logged(), "FFmpeg",
                          rc, avError(rc));
    }
    return openStream();
}

Status FfmpegVideo::openStream() {
    if (const int rc = avformat_find_stream_info(m_format, nullptr); rc < 0) {
        return failNative(Errc::invalidArgument, m_name + ": not a video FFmpeg can read: " + avError(rc) + logged(), "FFmpeg",
                          rc, avError(rc));
    }
    const AVCodec* decoder = nullptr;
    m_stream = av_find_best_stream(m_format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (m_stream == AVERROR_DECODER_NOT_FOUND) {
        const int index = av_find_best_stream(m_format, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
        const char* codec = index >= 0 ? avcodec_get_name(m_format->streams[index]->codecpar->codec_id) : "unknown";
        return error(Errc::unsupported, std::string("video codec '") + codec + "' cannot be decoded by this FFmpeg (" +
                                            LIBAVCODEC_IDENT + ")");
    }
    if (m_stream < 0 || (m_format->streams[m_stream]->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0) {
        return error(Errc::invalidArgument, std::string("no video stream in it (") + m_format->iformat->name + ": " +
                                                streamList(m_format) + ")");
    }
    return openDecoder(decoder);
}

Status FfmpegVideo::openDecoder(const AVCodec* decoder) {
    const AVStream* stream = m_format->streams[m_stream];
    const AVCodecParameters* par = stream->codecpar;
    if (par->width <= 0 || par->height <= 0 || par->width > kMaxSide || par->height > kMaxSide) {
        return error(Errc::invalidArgument, "video size " + std::to_string(par->width) + "x" + std::to_string(par->height) +
                                                " is not supported (1 to " + std::to_string(kMaxSide) + " pixels a side)");
    }
    m_codec = avcodec_alloc_context3(decoder);
    if (m_codec == nullptr) return error(Errc::internal, "out of memory");
    if (const int rc = avcodec_parameters_to_context(m_codec, par); rc < 0) {
        return failNative(Errc::unsupported, m_name + ": cannot set up the " + decoder->name + " decoder: " + avError(rc),
                          "FFmpeg", rc, avError(rc));
    }
    m_codec->pkt_timebase = stream->time_base;
    // Threads pay off for large frames only; a small video decodes faster on one.
    m_codec->thread_count = par->width * par->height >= kThreadsFromPixels ? 0 : 1;
    if (const int rc = avcodec_open2(m_codec, decoder, nullptr); rc < 0) {
        return failNative(Errc::unsupported, m_name + ": cannot open the " + decoder->name + " decoder: " + avError(rc) + logged(),
                          "FFmpeg", rc, avError(rc));
    }
    m_packet = av_packet_alloc();
    m_frame = av_frame_alloc();
    if (m_packet == nullptr || m_frame == nullptr) return error(Errc::internal, "out of memory");
    m_timeBase = stream->time_base;
    m_info.width = par->width;
    m_info.height = par->height;
    const int side = std::max(par->width, par->height);
    if (side <= kMaxGridSide) {
        m_info.gridWidth = par->width;
        m_info.gridHeight = par->height;
    } else {
        m_info.gridWidth = std::max(1, static_cast<int>(std::lround(static_cast<double>(par->width) * kMaxGridSide / side)));
        m_info.gridHeight = std::max(1, static_cast<int>(std::lround(static_cast<double>(par->height) * kMaxGridSide / side)));
    }
    m_info.cell = static_cast<double>(par->width) / m_info.gridWidth;
    const AVRational rate = stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
    m_info.nominalFps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
    if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
        m_info.durationSeconds = static_cast<double>(stream->duration) * av_q2d(stream->time_base);
    } else if (m_format->duration != AV_NOPTS_VALUE && m_format->duration > 0) {
        m_info.durationSeconds = static_cast<double>(m_format->duration) / AV_TIME_BASE;
    }
    m_info.description = std::string(decoder->name) + " " + std::to_string(par->width) + "x" + std::to_string(par->height) +
                         " in " + m_format->iformat->name;
    m_rgbStride = (3 * m_info.gridWidth + kScalerAlign - 1) / kScalerAlign * kScalerAlign;
    m_rgb.assign(static_cast<std::size_t>(m_rgbStride) * static_cast<std::size_t>(m_info.gridHeight) + kScalerSlack, 0);
    m_firstPts = AV_NOPTS_VALUE;
    m_frames = m_packets = 0;
    m_failedInARow = 0;
    m_firstFailure.clear();
    m_inputEnded = false;
    return {};
}

void FfmpegVideo::close() {
    sws_freeContext(m_scaler);
    m_scaler = nullptr;
    av_frame_free(&m_frame);
    av_packet_free(&m_packet);
    avcodec_free_context(&m_codec);
    avformat_close_input(&m_format);
    if (m_io != nullptr) {
        av_freep(&m_io->buffer);
        avio_context_free(&m_io);
    }
    m_stream = -1;
}

void FfmpegVideo::feedDecoder() {
    while (!m_inputEnded) {
        int rc = m_packets < kMaxPackets ? av_read_frame(m_format, m_packet) : AVERROR_EOF;
        if (rc >= 0) ++m_packets;
        if (rc < 0) {
            // The end, or a file cut short: what was decoded so far is what there is.
            m_inputEnded = true;
            avcodec_send_packet(m_codec, nullptr);
            return;
        }
        if (m_packet->stream_index != m_stream) {
            av_packet_unref(m_packet);
            continue;
        }
        rc = avcodec_send_packet(m_codec, m_packet);
        av_packet_unref(m_packet);
        if (rc >= 0 || rc == AVERROR(EAGAIN)) return;
        if (m_firstFailure.empty()) m_firstFailure = avError(rc) + logged();
        if (++m_failedInARow >= kMaxFailedDecodesInARow) {
            m_inputEnded = true;
            avcodec_send_packet(m_codec, nullptr);
            return;
        }
    }
}

bool FfmpegVideo::convert(VideoFrame& out) {
    const AVFrame* f = m_frame;
    if (f->width <= 0 || f->height <= 0 || f->width > kMaxSide || f->height > kMaxSide || f->format < 0) return false;
    m_scaler = sws_getCachedContext(m_scaler, f->width, f->height, static_cast<AVPixelFormat>(f->format), m_info.gridWidth,
                                    m_info.gridHeight, AV_PIX_FMT_RGB24, SWS_AREA, nullptr, nullptr, nullptr);
    if (m_scaler == nullptr) return false;
    std::uint8_t* planes[4] = {m_rgb.data(), nullptr, nullptr, nullptr};
    int strides[4] = {m_rgbStride, 0, 0, 0};
    if (sws_scale(m_scaler, f->data, f->linesize, 0, f->height, planes, strides) != m_info.gridHeight) return false;
    const auto width = static_cast<std::size_t>(m_info.gridWidth);
    out.value.resize(width * static_cast<std::size_t>(m_info.gridHeight));
    for (std::size_t i = 0; i < out.value.size(); ++i) {
        const std::uint8_t* rgb = m_rgb.data() + (i / width) * static_cast<std::size_t>(m_rgbStride) + 3 * (i % width);
        out.value[i] = std::max({rgb[0], rgb[1], rgb[2]});
    }
    const std::int64_t pts = f->best_effort_timestamp;
    if (pts != AV_NOPTS_VALUE && m_firstPts == AV_NOPTS_VALUE) m_firstPts = pts;
    if (pts != AV_NOPTS_VALUE) {
        out.seconds = static_cast<double>(pts - m_firstPts) * av_q2d(m_timeBase);
    } else {
        out.seconds = static_cast<double>(m_frames) / (m_info.nominalFps > 0 ? m_info.nominalFps : 30.0);
    }
    ++m_frames;
    return true;
}

Result<bool> FfmpegVideo::next(VideoFrame& frame) {
    LogCapture capture(m_log);
    if (m_codec == nullptr) return error(Errc::internal, "the video is not open");
    for (;;) {
        if (Clock::now() > m_deadline) {
            return error(Errc::timeout, "reading the video took longer than " +
                                            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kTimeBudget).count()) +
                                            " s");
        }
        const int rc = avcodec_receive_frame(m_codec, m_frame);
        if (rc == 0) {
            const bool ok = convert(frame);
            av_frame_unref(m_frame);
            if (ok) {
                m_failedInARow = 0;
                return true;
            }
            if (m_firstFailure.empty()) m_firstFailure = "a frame in a pixel format that cannot be converted";
            ++m_failedInARow;
        } else if (rc == AVERROR(EAGAIN) && !m_inputEnded) {
            feedDecoder();
            continue;
        } else if (rc == AVERROR_EOF || rc == AVERROR(EAGAIN)) {
            if (m_frames > 0) return false;
            return error(Errc::corrupt, "no video frame could be decoded" +
                                            (m_firstFailure.empty() ? logged() : " (" + m_firstFailure + ")"));
        } else {
            if (m_firstFailure.empty()) m_firstFailure = avError(rc) + logged();
            ++m_failedInARow;
        }
        if (m_failedInARow >= kMaxFailedDecodesInARow && !m_inputEnded) {
            m_inputEnded = true;
            avcodec_send_packet(m_codec, nullptr);
        }
    }
}

}  // namespace

Result<std::unique_ptr<VideoSource>> openVideoFile(const std::filesystem::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return fail(Errc::notFound, file.string() + ": no such file");
    if (fs::is_directory(file, ec)) return fail(Errc::invalidArgument, file.string() + ": is a directory, not a video");
    auto video = std::make_unique<FfmpegVideo>(file, std::span<const std::uint8_t>(), file.string());
    if (auto st = video->open(); !st) return std::unexpected(st.error());
    return std::unique_ptr<VideoSource>(std::move(video));
}

Result<std::unique_ptr<VideoSource>> openVideoBytes(std::span<const std::uint8_t> bytes, const std::string& name) {
    auto video = std::make_unique<FfmpegVideo>(fs::path(), bytes, name);
    if (auto st = video->open(); !st) return std::unexpected(st.error());
    return std::unique_ptr<VideoSource>(std::move(video));
}

}  // namespace tte::introducer
