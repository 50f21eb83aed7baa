// Reading real video files through FFmpeg (video_source.h, led_video.h): the rendered camera
// encoded by libavcodec as H.264 in MP4 (the frames' own, jittered times), MJPEG in AVI
// (constant rate) and MPEG-4 part 2 in Matroska decodes to the frame; files that are not a
// video, have no video stream, are cut short or are damaged give a precise error and never a
// crash or a hang (120 damaged copies of two small videos).
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <random>

#include "support/process.h"
#include "support/temp_dir.h"
#include "introducer/led_camera.h"
#include "tte/introducer/led_video.h"
#include "tte/labels/render.h"
#include "tte/protocol/led.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace tte::introducer {
namespace {

namespace fs = std::filesystem;

constexpr protocol::LedFrameData kData{1, 0x00000155, 0x0123456789abcdefULL};

/// `dir`/`name`.
fs::path in(const test::TempDir& dir, const std::string& name) { return dir.path() / name; }

/// Writes `count` packets of `size` bytes into a new `muxer` file with one stream that
/// `setup` describes, without an encoder: the packets are carried, never decoded.
void muxPackets(const fs::path& file, const char* muxer, const std::function<void(AVCodecParameters&)>& setup, int count,
                int size) {
    AVFormatContext* out = nullptr;
    ASSERT_GE(avformat_alloc_output_context2(&out, nullptr, muxer, file.c_str()), 0);
    AVStream* st = avformat_new_stream(out, nullptr);
    setup(*st->codecpar);
    st->time_base = {1, 1000};
    ASSERT_GE(avio_open(&out->pb, file.c_str(), AVIO_FLAG_WRITE), 0);
    ASSERT_GE(avformat_write_header(out, nullptr), 0) << muxer << " refuses the stream";
    std::vector<std::uint8_t> payload(static_cast<std::size_t>(size), 0x5a);
    AVPacket* p = av_packet_alloc();
    for (int i = 0; i < count; ++i) {
        p->data = payload.data();
        p->size = size;
        p->pts = p->dts = av_rescale_q(i * 33, {1, 1000}, st->time_base);
        p->flags = AV_PKT_FLAG_KEY;
        EXPECT_GE(av_write_frame(out, p), 0);
    }
    av_packet_free(&p);
    av_write_trailer(out);
    avio_closep(&out->pb);
    avformat_free_context(out);
}

test::LedTimeline timeline() { return test::timelineOfFrame(protocol::encodeLedFrame(kData.msId, kData.devId, kData.otp), 6); }

std::string bytesOf(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeBytes(const fs::path& file, std::string_view bytes) {
    std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(LedVideoFile, EncodedRecordingsDecodeToTheFrame) {
    test::TempDir dir;
    struct Case {
        test::VideoFormat format;
        const char* name;
        int width, height;
    };
    for (const Case& k : {Case{{"libx264", "mp4", true, false}, "led.mp4", 480, 270},
                          Case{{"mjpeg", "avi", false, false}, "led.avi", 320, 240},
                          Case{{"mpeg4", "matroska", true, false}, "led.mkv", 320, 180}}) {
        test::Camera c;
        c.width = k.width;
        c.height = k.height;
        c.led = {k.width * 0.7, k.height * 0.3, 3.0, {60, 120, 255}};
        // 14 s from just before the second transmission's gap: one whole frame after it.
        c.seconds = 14;
        c.startSeconds = static_cast<double>(protocol::ledLevels(kData).size()) / protocol::kLedBitRate - 0.6;
        c.noise = 4;
        const test::CameraRenderer camera(timeline(), c);
        const fs::path file = in(dir, k.name);
        ASSERT_EQ(test::writeVideo(camera, k.format, file), "") << k.name;
        auto r = readLedVideo(file);
        ASSERT_TRUE(r) << k.name << ": " << r.error().message;
        EXPECT_EQ(r->frame.devId, kData.devId) << k.name;
        EXPECT_EQ(r->frame.otp, kData.otp) << k.name;
        EXPECT_NEAR(r->spot.x, c.led.x, 4) << k.name;
        EXPECT_NEAR(r->spot.y, c.led.y, 4) << k.name;
        EXPECT_NEAR(r->fps, 30, 0.5) << k.name;
        EXPECT_EQ(r->frames, 420u) << k.name;
    }
}

/// A small recording (a few seconds), e.g. for damaging it.
fs::path smallVideo(const test::TempDir& dir, const test::VideoFormat& format, const std::string& name, double seconds = 2) {
    test::Camera c;
    c.width = 64;
    c.height = 48;
    c.led = {40, 16, 2, {60, 120, 255}};
    c.seconds = seconds;
    const test::CameraRenderer camera(timeline(), c);
    const fs::path file = in(dir, name);
    EXPECT_EQ(test::writeVideo(camera, format, file), "");
    return file;
}

TEST(LedVideoFile, FilesThatAreNoUsableVideoAreNamed) {
    test::TempDir dir;
    auto message = [](const fs::path& file) {
        auto r = readLedVideo(file);
        return r ? std::string("decoded") : r.error().message;
    };
    EXPECT_EQ(message(in(dir, "missing.mp4")), in(dir, "missing.mp4").string() + ": no such file");
    EXPECT_EQ(message(in(dir, "")), in(dir, "").string() + ": is a directory, not a video");
    writeBytes(in(dir, "empty.mp4"), "");
    EXPECT_EQ(message(in(dir, "empty.mp4")), in(dir, "empty.mp4").string() +
                                                  ": not a video FFmpeg can read: Invalid data found when processing input "
                                                  "(mov,mp4,m4a,3gp,3g2,mj2: moov atom not found)");
    writeBytes(in(dir, "notes.txt"), "fps 30\n0.1\n0.9\n");
    EXPECT_EQ(message(in(dir, "notes.txt")).rfind(in(dir, "notes.txt").string() + ": not a video FFmpeg can read: ", 0), 0u)
        << message(in(dir, "notes.txt"));

    // A still picture is read as a video of one frame.
    labels::Raster raster;
    raster.width = raster.height = 32;
    raster.pixels.assign(32 * 32, 200);
    auto png = labels::encodePng(raster);
    ASSERT_TRUE(png);
    writeBytes(in(dir, "photo.png"), std::string(png->begin(), png->end()));
    EXPECT_EQ(message(in(dir, "photo.png")),
              in(dir, "photo.png").string() +
                  ": the recording is 0.0 s long (1 frame); LED enrollment needs at least 26 s of the blinking LED (two "
                  "transmissions of up to 12.9 s)");

    // Sound only.
    const fs::path wav = in(dir, "sound.wav");
    muxPackets(wav, "wav", [](AVCodecParameters& par) {
        par.codec_type = AVMEDIA_TYPE_AUDIO;
        par.codec_id = AV_CODEC_ID_PCM_S16LE;
        par.sample_rate = 8000;
        av_channel_layout_default(&par.ch_layout, 1);
    }, 3, 1600);
    EXPECT_EQ(message(wav), wav.string() + ": no video stream in it (wav: audio pcm_s16le)");
}

TEST(LedVideoFile, CodecThisFfmpegCannotDecodeIsNamed) {
    // A Matroska file whose video track is AVS2, which Debian's FFmpeg has no decoder for
    // (it would need libdavs2); the packets are only carried, never decoded.
    ASSERT_EQ(avcodec_find_decoder(AV_CODEC_ID_AVS2), nullptr) << "this FFmpeg decodes AVS2: pick another codec";
    test::TempDir dir;
    const fs::path file = in(dir, "avs2.mkv");
    muxPackets(file, "matroska", [](AVCodecParameters& par) {
        par.codec_type = AVMEDIA_TYPE_VIDEO;
        par.codec_id = AV_CODEC_ID_AVS2;
        par.width = 64;
        par.height = 48;
    }, 3, 64);
    auto r = readLedVideo(file);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unsupported);
    EXPECT_EQ(r.error().message, file.string() + ": video codec 'avs2' cannot be decoded by this FFmpeg (" LIBAVCODEC_IDENT ")");
}

TEST(LedVideoFile, CutShortRecordingsSayHowLongTheyAre) {
    test::TempDir dir;
    // MP4 as phones write it, index last: without its end there is no index.
    const fs::path whole = smallVideo(dir, {"libx264", "mp4", true, false}, "whole.mp4", 20);
    const std::string bytes = bytesOf(whole);
    writeBytes(in(dir, "cut.mp4"), std::string_view(bytes).substr(0, bytes.size() / 2));
    auto r = readLedVideo(in(dir, "cut.mp4"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, in(dir, "cut.mp4").string() +
                                     ": not a video FFmpeg can read: Invalid data found when processing input "
                                     "(mov,mp4,m4a,3gp,3g2,mj2: moov atom not found)");
    // Index first: the first half still plays, and is too short.
    const fs::path fast = smallVideo(dir, {"libx264", "mp4", true, true}, "fast.mp4", 20);
    const std::string fastBytes = bytesOf(fast);
    writeBytes(in(dir, "cut-fast.mp4"), std::string_view(fastBytes).substr(0, fastBytes.size() / 2));
    r = readLedVideo(in(dir, "cut-fast.mp4"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message.rfind(in(dir, "cut-fast.mp4").string() + ": the recording is ", 0), 0u) << r.error().message;
    EXPECT_NE(r.error().message.find(" s long ("), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("LED enrollment needs at least 26 s"), std::string::npos) << r.error().message;
}

TEST(LedVideoFile, DamagedCopiesNeverCrashOrHang) {
    test::TempDir dir;
    const std::vector<std::string> originals = {bytesOf(smallVideo(dir, {"mjpeg", "avi", false, false}, "small.avi")),
                                                bytesOf(smallVideo(dir, {"libx264", "mp4", true, true}, "small.mp4"))};
    std::mt19937 rng(22);
    int decoded = 0, refused = 0;
    for (const std::string& original : originals) {
        ASSERT_GT(original.size(), 1000u);
        for (int i = 0; i < 60; ++i) {
            std::string damaged = original;
            const auto at = [&] { return static_cast<std::size_t>(rng() % damaged.size()); };
            switch (i % 3) {
            case 0: damaged.resize(at()); break;  // cut anywhere
            case 1:
                for (int k = 0; k < 1 + i % 7; ++k) damaged[at()] = static_cast<char>(rng());  // bytes changed
                break;
            default: {  // a run of garbage
                const std::size_t from = at(), n = std::min<std::size_t>(64 + rng() % 512, damaged.size() - from);
                for (std::size_t k = 0; k < n; ++k) damaged[from + k] = static_cast<char>(rng());
            }
            }
            const std::span<const std::uint8_t> view(reinterpret_cast<const std::uint8_t*>(damaged.data()), damaged.size());
            auto video = openVideoBytes(view, "damaged");
            Result<LedVideoResult> r = video ? findLedFrame(**video, "damaged") : std::unexpected(video.error());
            if (r) {
                ++decoded;  // a 2 s recording holds no frame: a damaged copy must not either
                ADD_FAILURE() << "a frame from a 2 s recording";
                continue;
            }
            ++refused;
            EXPECT_EQ(r.error().message.rfind("damaged: ", 0), 0u) << r.error().message;
        }
    }
    EXPECT_EQ(refused, 120);
    EXPECT_EQ(decoded, 0);
}

}  // namespace
}  // namespace tte::introducer
