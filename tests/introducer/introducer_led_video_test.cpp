// LED enrollment from a recording, end to end with the real parts: a device's flash image
// (firmware + provisioning block with LED enrollment on) boots in QEMU's netduinoplus2 and
// blinks its frame; the firmware's console mirror of every LED edge (its tick time) drives a
// camera that films the LED at 30 frames/s with noise, blur, a dark drifting exposure, hand
// shake and frame-time jitter; libavcodec encodes that into a real file; tte-introducer
// enroll --led-video finds the LED in it, maps the device at a real tte-mothership and
// introduces it to a real tte-controller; then tte-device runs the same flash image and
// checks in there. Also: a small LED off-centre in MJPEG/AVI, a steady lamp beside the LED,
// and recordings cut short (precise errors, nothing spent at the MotherShip).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "support/qemu.h"
#include "introducer/led_camera.h"
#include "support/device_image.h"
#include "support/sites.h"
#include "tte/base/hex.h"
#include "tte/client/https_client.h"

namespace tte {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class LedVideoSite : public ::testing::Test {
protected:
    void SetUp() override {
        controller = test::startController(site.dir.path(), "controller", {"--no-status-queries"});
    }

    /// A provisioned device with LED enrollment on: its flash image (firmware included) and its record at the MotherShip.
    test::TestDevice device(std::uint32_t devId, std::uint64_t otp) {
        auto d = test::makeDeviceImage(site.dir.path(), devId, otp, "127.0.0.1", site.server->coapsPort(),
                                       site.pki.dtlsFingerprint, protocol::kBlockFlagLed);
        const auto firmware = device::qemu::firmwareBin();
        std::fstream image(d.image, std::ios::binary | std::ios::in | std::ios::out);
        image.write(reinterpret_cast<const char*>(firmware.data()), static_cast<std::streamsize>(firmware.size()));
        image.close();
        site.upload({{devId, otp, d.fingerprint}});
        return d;
    }

    /// Boots the device's image in QEMU until its LED has blinked for `seconds` (device time).
    test::LedTimeline blink(const test::TestDevice& d, double seconds) {
        std::ifstream in(d.image, std::ios::binary);
        const device::qemu::Image image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto lines = device::qemu::boot(image, [&](const std::vector<std::string>& l) {
            return !l.empty() && l.back().rfind("LED ", 0) == 0 && test::timelineFromConsole(l).end >= seconds;
        });
        EXPECT_EQ(device::qemu::lineStarting(lines, "TTE BOOT").rfind("TTE BOOT OK ms=tte-000001.net devid=" + toHex(d.devId, 8), 0),
                  0u)
            << device::qemu::lineStarting(lines, "TTE BOOT");
        auto timeline = test::timelineFromConsole(lines);
        EXPECT_GE(timeline.end, seconds);
        EXPECT_GT(timeline.changes.size(), 100u);
        return timeline;
    }

    fs::path film(const test::LedTimeline& timeline, const test::Camera& camera, const test::VideoFormat& format,
                  const std::string& name) {
        const fs::path file = site.dir.path() / name;
        EXPECT_EQ(test::writeVideo(test::CameraRenderer(timeline, camera), format, file), "");
        return file;
    }

    test::RunResult enroll(const fs::path& video, const std::string& name = "introducer") {
        return test::run({(test::binDir() / "tte-introducer").string(), "enroll", "--led-video", video.string(), "--cacert",
                          site.pki.caCert, "--connect-to", site.connectTo(), "--controller", controller.coaps,
                          "--controller-fingerprint", controller.fingerprint, "--notify", controller.notifyUrl(),
                          "--description", "LED video"},
                         site.dir.path(), name, std::chrono::seconds(120));
    }

    std::string msState(std::uint32_t devId, std::uint64_t otp) {
        auto r = test::https(site.server->httpsPort(), site.pki.caCert,
                               {"GET", "/.well-known/tte/status?otp=" + toHex(otp, 16) + ",devid=" + toHex(devId, 8), "", "", "", "", ""});
        return r.status == 200 ? json::parse(r.body)["state"].get<std::string>() : "http " + std::to_string(r.status);
    }

    json devices() {
        auto r = client::httpsRequest(client::HttpsOptions::pinned(controller.fingerprint, std::chrono::seconds(10)), "GET",
                                          "https://" + controller.https + "/tte/v1/devices");
        EXPECT_TRUE(r) << r.error().toString();
        return r ? json::parse(r->body)["devices"] : json::array();
    }

    test::MotherShipSite site;
    test::ControllerProcess controller;
};

/// "LED found at x=X y=Y …": the position the introducer printed.
std::pair<long, long> foundAt(const std::string& out) {
    long x = -1, y = -1;
    const auto at = out.find("LED found at ");
    if (at != std::string::npos) std::sscanf(out.c_str() + at, "LED found at x=%ld y=%ld", &x, &y);
    return {x, y};
}

TEST_F(LedVideoSite, RecordedLedVideoEnrollsItsDevice) {
    constexpr std::uint32_t dev = 0x160;
    constexpr std::uint64_t otp = 0x5eed0f1ed0c0ffeeULL;
    const auto d = device(dev, otp);
    test::Camera camera;  // 640x360 at 30 frames/s, 27 s, starting 6.3 s into the blinking
    camera.seconds = 27;
    camera.startSeconds = 6.3;
    camera.led = {402.5, 211.5, 3.5, {60, 120, 255}};  // the board's blue LED
    camera.noise = 4;
    camera.blur = 1.5;
    camera.exposure = 0.7;  // a dim picture...
    camera.drift = 0.2;     // ...whose automatic exposure swings ±20 %
    camera.jitter = 0.004;
    camera.shake = 1.5;
    camera.clockError = 0.002;  // the device's crystal against the camera's
    const auto timeline = blink(d, camera.startSeconds + camera.seconds * 1.01 + 0.5);
    const fs::path video = film(timeline, camera, {"libx264", "mp4", true, false}, "led.mp4");

    auto r = enroll(video);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    const auto [x, y] = foundAt(r.out);
    EXPECT_NEAR(x, 402, 5) << r.out;
    EXPECT_NEAR(y, 211, 5) << r.out;
    EXPECT_NE(r.out.find("mapped Dev ID 00000160 to controller " + controller.coaps), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("introduced to the controller"), std::string::npos) << r.out << r.err;
    EXPECT_EQ(msState(dev, otp), "mapped");

    // The device itself, from the same flash image: asks the MotherShip, checks in at the Controller.
    auto run = test::run({(test::binDir() / "tte-device").string(), "run", "--flash", d.image.string(), "--timeout-ms",
                          "4000", "--retry-base-ms", "200", "--retry-cap-ms", "1000", "--max-attempts", "4"},
                         site.dir.path(), "device", std::chrono::seconds(90));
    ASSERT_EQ(run.code, 0) << run.out << run.err;
    EXPECT_NE(run.out.find("outcome=checked-in controller=" + controller.coaps), std::string::npos) << run.out;
    auto list = devices();
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["urn"], d.urn);
    EXPECT_EQ(list[0]["state"], "registered");
    EXPECT_EQ(msState(dev, otp), "registered");
}

TEST_F(LedVideoSite, SmallLedOffCentreAndASteadyLampBesideIt) {
    constexpr std::uint32_t small = 0x161, lamp = 0x162;
    const auto a = device(small, 0x0102030405060708ULL);
    const auto b = device(lamp, 0xfffefdfcfbfaf9f8ULL);
    // These recordings start in the first transmission's gap, so 14.5 s hold a whole frame.
    const auto first = blink(a, 15.5), second = blink(b, 15.5);
    ASSERT_FALSE(first.gaps.empty());
    ASSERT_FALSE(second.gaps.empty());

    test::Camera far;  // the LED 3 px across near the top right corner, MJPEG in AVI at a constant rate
    far.seconds = 14.5;
    far.startSeconds = first.gaps[0] + 0.1;
    far.led = {598.5, 27.5, 1.5, {60, 120, 255}};
    far.noise = 3;
    far.blur = 1.0;
    auto r = enroll(film(first, far, {"mjpeg", "avi", false, false}, "far.avi"), "far");
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NEAR(foundAt(r.out).first, 598, 4) << r.out;
    EXPECT_NEAR(foundAt(r.out).second, 27, 4) << r.out;
    EXPECT_EQ(msState(small, 0x0102030405060708ULL), "mapped");

    test::Camera beside;  // a desk lamp far brighter than the LED, both shaking in the hand
    beside.seconds = 14.5;
    beside.startSeconds = second.gaps[0] + 0.2;
    beside.led = {300.5, 200.5, 3, {60, 120, 255}};
    beside.lamp = test::Light{380, 150, 18, {500, 470, 380}};
    beside.shake = 3;
    beside.noise = 5;
    r = enroll(film(second, beside, {"libx264", "mp4", true, false}, "lamp.mp4"), "lamp");
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NEAR(foundAt(r.out).first, 300, 4) << r.out;
    EXPECT_NEAR(foundAt(r.out).second, 200, 4) << r.out;
    EXPECT_EQ(msState(lamp, 0xfffefdfcfbfaf9f8ULL), "mapped");
    EXPECT_EQ(devices().size(), 2u);
}

TEST_F(LedVideoSite, RecordingsCutShortSayWhatIsMissingAndSpendNothing) {
    constexpr std::uint32_t dev = 0x163;
    constexpr std::uint64_t otp = 0x1122334455667788ULL;
    const auto d = device(dev, otp);
    test::Camera camera;
    camera.seconds = 9;
    camera.startSeconds = 1.0;
    const auto timeline = blink(d, camera.startSeconds + camera.seconds + 0.5);
    auto r = enroll(film(timeline, camera, {"libx264", "mp4", true, true}, "short.mp4"), "short");
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err, "tte-introducer: " + (site.dir.path() / "short.mp4").string() +
                         ": the recording is 9.0 s long (270 frames); LED enrollment needs at least 26 s of the blinking "
                         "LED (two transmissions of up to 12.9 s)\n");

    // A file cut off while it was copied: the MP4's index, at its end, is missing.
    const fs::path whole = film(timeline, camera, {"libx264", "mp4", true, false}, "whole.mp4");
    const auto size = fs::file_size(whole);
    fs::resize_file(whole, size / 3);
    r = enroll(whole, "cut");
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err, "tte-introducer: " + whole.string() +
                         ": not a video FFmpeg can read: Invalid data found when processing input (mov,mp4,m4a,3gp,3g2,mj2: "
                         "moov atom not found)\n");
    EXPECT_EQ(msState(dev, otp), "not-mapped");
    EXPECT_EQ(devices().size(), 0u);
}

}  // namespace
}  // namespace tte
