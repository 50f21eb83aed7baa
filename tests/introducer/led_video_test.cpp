// Finding the blinking LED in a recording (led_video.h) with a rendered camera handed to the
// finder frame by frame: every start inside the transmission with 26 s, the noise, LED sizes,
// exposure drift, hand shake and a steady light it copes with, and the precise error for a
// still scene, a light that blinks otherwise, a bad checksum, a short or slow recording.
#include <gtest/gtest.h>

#include "introducer/led_camera.h"
#include "tte/introducer/led_video.h"
#include "tte/protocol/led.h"

namespace tte::introducer {
namespace {

using test::Camera;
using test::CameraRenderer;
using test::RenderedVideo;

constexpr protocol::LedFrameData kData{1, 0x00000123, 0x8badf00d12345678ULL};

test::LedTimeline timeline(const protocol::LedFrameData& data = kData, int repeats = 6) {
    return test::timelineOfFrame(protocol::encodeLedFrame(data.msId, data.devId, data.otp), repeats);
}

/// A small camera (the finder's raster is the picture itself) with the LED off-centre.
Camera smallCamera() {
    Camera c;
    c.width = 160;
    c.height = 90;
    c.led = {110.5, 30.5, 2.0, {60, 120, 255}};  // centred on pixel (110, 30)
    return c;
}

Result<LedVideoResult> find(const Camera& camera, const test::LedTimeline& t = timeline()) {
    CameraRenderer renderer(t, camera);
    RenderedVideo video(renderer);
    return findLedFrame(video, "rec.mp4");
}

void expectFound(const Camera& camera, const std::string& what) {
    auto r = find(camera);
    ASSERT_TRUE(r) << what << ": " << r.error().message;
    EXPECT_EQ(r->frame.devId, kData.devId) << what;
    EXPECT_EQ(r->frame.otp, kData.otp) << what;
    EXPECT_NEAR(r->spot.x, camera.led.x, 2 + camera.shake) << what;
    EXPECT_NEAR(r->spot.y, camera.led.y, 2 + camera.shake) << what;
}

TEST(LedVideo, TwentySixSecondsHoldAFrameWhereverTheRecordingStarts) {
    // One transmission of this frame is 12.1 s: starts 1.6 s apart through all of it.
    for (double start = 0.0; start < 13.0; start += 1.6) {
        Camera c = smallCamera();
        c.seconds = kLedVideoSeconds;
        c.startSeconds = start;
        c.seed = static_cast<std::uint32_t>(start * 10) + 1;
        expectFound(c, "start " + std::to_string(start));
    }
}

TEST(LedVideo, CopesWithNoiseBlurExposureDriftShakeAndClockError) {
    struct Case {
        const char* what;
        double noise, blur, exposure, drift, shake, clockError, jitter;
    };
    for (const Case& k : {Case{"clean", 0, 0, 1, 0, 0, 0, 0},
                          Case{"noise 3", 3, 1.2, 1, 0.15, 1.5, 0.0, 0.004},
                          Case{"noise 6, dark, drifting", 6, 1.5, 0.6, 0.25, 1.5, 0.01, 0.004},
                          Case{"noise 10, bright, saturated LED", 10, 2.0, 1.6, 0.15, 2.0, -0.01, 0.006},
                          Case{"noise 15", 15, 1.2, 1, 0.15, 1.5, 0.0, 0.004},
                          Case{"strong shake", 3, 1.2, 1, 0.15, 4.0, 0.0, 0.004}}) {
        Camera c = smallCamera();
        c.noise = k.noise;
        c.blur = k.blur;
        c.exposure = k.exposure;
        c.drift = k.drift;
        c.shake = k.shake;
        c.clockError = k.clockError;
        c.jitter = k.jitter;
        c.startSeconds = 4.2;
        expectFound(c, k.what);
    }
}

TEST(LedVideo, FindsATinyLedAndIgnoresASteadyLamp) {
    Camera tiny = smallCamera();
    tiny.led.radius = 0.8;  // under 2 px across
    tiny.led.rgb = {255, 40, 20};
    tiny.startSeconds = 7.5;
    expectFound(tiny, "tiny red LED");

    Camera lamp = smallCamera();
    lamp.lamp = test::Light{60, 60, 9, {400, 380, 300}};  // much brighter than the LED, saturating
    lamp.shake = 2.5;
    lamp.startSeconds = 2.0;
    expectFound(lamp, "steady lamp in view");
}

TEST(LedVideo, StillSceneHasNoBlinkingLed) {
    // On a tripod with a fixed exposure, and in the hand with automatic exposure: the shake
    // is followed and the exposure's drift is slow, so neither looks like blinking.
    Camera still = smallCamera();
    still.shake = 0;
    still.drift = 0;
    Camera handHeld = smallCamera();
    handHeld.shake = 3;
    handHeld.drift = 0.3;
    for (const Camera& camera : {still, handHeld}) {
        auto r = find(camera, test::LedTimeline{{}, {}, 100});  // the LED never changes
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().message,
                  "rec.mp4: no blinking LED found in 810 frames (27.0 s): nothing in view changes its brightness more than "
                  "the camera's noise");
    }
}

TEST(LedVideo, LightBlinkingOtherwiseIsNotTakenForTheLed) {
    test::LedTimeline slow;  // 2 Hz: 250 ms on, 250 ms off
    for (int i = 1; i < 120; ++i) slow.changes.push_back(0.25 * i);
    slow.end = 30;
    auto r = find(smallCamera(), slow);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalidArgument);
    const std::string& m = r.error().message;
    EXPECT_EQ(m.rfind("rec.mp4: no blinking LED found in 810 frames (27.0 s): the spot that changes most, at ", 0), 0u) << m;
    EXPECT_NE(m.find(", does not blink the LED frame (LED trace: "), std::string::npos) << m;
}

TEST(LedVideo, BadChecksumIsNamedWithWhereTheLedIs) {
    auto frame = protocol::encodeLedFrame(kData.msId, kData.devId, kData.otp);
    frame[18] ^= 0x04;
    auto r = find(smallCamera(), test::timelineOfFrame(frame, 6));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::corrupt);
    EXPECT_EQ(r.error().message,
              "rec.mp4: LED found at x=110 y=30 but no valid frame in 810 frames (27.0 s): LED trace: checksum "
              "mismatch");
}

TEST(LedVideo, ShortOrSlowRecordingsSayWhatIsNeeded) {
    Camera shortOne = smallCamera();
    shortOne.seconds = 8;
    auto r = find(shortOne);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "rec.mp4: the recording is 8.0 s long (240 frames); LED enrollment needs at least 26 s of the blinking LED "
              "(two transmissions of up to 12.9 s)");
    // Long enough for a frame only when it starts at the right moment: this one ends inside it.
    Camera unlucky = smallCamera();
    unlucky.seconds = 16;
    unlucky.startSeconds = 1.0;
    r = find(unlucky);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message.rfind("rec.mp4: the recording is 16.0 s long (480 frames); LED enrollment needs at least 26 s",
                                      0),
              0u)
        << r.error().message;

    Camera slow = smallCamera();
    slow.fps = 15;
    r = find(slow);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "rec.mp4: 15.0 frames/s is too slow: the LED sends 15 bit/s, record at 24 frames/s or more");
}

TEST(LedVideo, ReadsTheVideoTwiceAndOnlyTheFirstMinute) {
    Camera c = smallCamera();
    c.seconds = 75;
    CameraRenderer renderer(timeline(kData, 8), c);
    RenderedVideo video(renderer);
    std::vector<double> shares;
    LedVideoOptions options;
    options.progress = [&](double share) { shares.push_back(share); };
    auto r = findLedFrame(video, "long.mp4", options);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(video.rewinds(), 1);
    EXPECT_NEAR(r->seconds, 60.0, 0.1);
    EXPECT_NEAR(r->fps, 30.0, 0.1);
    ASSERT_FALSE(shares.empty());
    EXPECT_TRUE(std::is_sorted(shares.begin(), shares.end()));
    EXPECT_EQ(shares.front(), 0.0);
    EXPECT_EQ(shares.back(), 1.0);
}

}  // namespace
}  // namespace tte::introducer
