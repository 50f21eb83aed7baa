// Reading the Enrollment URL off real label images (PNG, PDF via pdftoppm) and LED capture
// files decoded with the protocol's NRZI decoder; the exact errors for bad input.
#include <gtest/gtest.h>

#include <fstream>

#include "support/process.h"
#include "support/temp_dir.h"
#include "introducer/label_fixture.h"
#include "tte/introducer/capture.h"
#include "tte/introducer/mothership.h"
#include "tte/protocol/led.h"

namespace tte::introducer {
namespace {

const std::string kUrl = "https://tte-000001.net/.well-known/tte?otp=123456789abcdef0,devid=abcdef01";

TEST(QrImage, PngLabelGivesTheUrl) {
    test::TempDir dir;
    std::string why;
    ASSERT_TRUE(test::writeDeviceLabel(kUrl, 0xabcdef01, dir.path() / "label.png", test::LabelFormat::png, why)) << why;
    auto url = readQrImage(dir.path() / "label.png");
    ASSERT_TRUE(url) << url.error().toString();
    EXPECT_EQ(url->view(), kUrl);
}

TEST(QrImage, PdfLabelGivesTheUrl) {
    test::TempDir dir;
    std::string why;
    ASSERT_TRUE(test::writeDeviceLabel(kUrl, 0xabcdef01, dir.path() / "label.pdf", test::LabelFormat::pdf, why)) << why;
    auto url = readQrImage(dir.path() / "label.pdf");
    ASSERT_TRUE(url) << url.error().toString();
    EXPECT_EQ(url->view(), kUrl);
    auto page2 = readQrImage(dir.path() / "label.pdf", 2);
    ASSERT_FALSE(page2);
    EXPECT_EQ(page2.error().message, (dir.path() / "label.pdf").string() + ": pdftoppm could not render page 2");
}

TEST(QrImage, BadFilesAreNamed) {
    test::TempDir dir;
    auto text = dir.path() / "note.txt";
    std::ofstream(text) << "hello";
    auto r = readQrImage(text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, text.string() + ": not a PNG, JPEG or PDF file");
    auto missing = readQrImage(dir.path() / "nope.png");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::notFound);

    labels::Raster blank{200, 200, 300, std::vector<std::uint8_t>(200 * 200, 255)};
    auto png = labels::encodePng(blank);
    ASSERT_TRUE(png);
    std::ofstream(dir.path() / "blank.png", std::ios::binary).write(reinterpret_cast<const char*>(png->data()), static_cast<std::streamsize>(png->size()));
    auto none = readQrImage(dir.path() / "blank.png");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().message, (dir.path() / "blank.png").string() + ": no QR code found");
}

TEST(LedCapture, RenderedTraceDecodesToTheFrame) {
    test::TempDir dir;
    protocol::LedFrameData frame{1, 0xabcdef01, 0x123456789abcdef0};
    protocol::LedRenderOptions opts;
    opts.noise = 0.05;
    opts.clockError = 0.05;
    auto trace = protocol::renderLedTrace(frame, opts);
    auto file = dir.path() / "led.txt";
    {
        std::ofstream out(file);
        out << "# phone camera, 30 fps\nfps 30\n";
        for (float v : trace) out << v << "\n";
    }
    auto capture = readLedCapture(file);
    ASSERT_TRUE(capture) << capture.error().toString();
    EXPECT_EQ(capture->fps, 30);
    EXPECT_EQ(capture->brightness.size(), trace.size());
    auto decoded = decodeLedCapture(*capture);
    ASSERT_TRUE(decoded) << decoded.error().toString();
    EXPECT_EQ(decoded->msId, 1u);
    EXPECT_EQ(decoded->devId, 0xabcdef01u);
    EXPECT_EQ(decoded->otp, 0x123456789abcdef0u);
}

TEST(LedCapture, BadFilesNameTheLine) {
    test::TempDir dir;
    auto file = dir.path() / "led.txt";
    std::ofstream(file) << "0.5\n0.6\n";
    EXPECT_EQ(readLedCapture(file).error().message, file.string() + ": first line must be 'fps <number>'");
    std::ofstream(file, std::ios::trunc) << "fps 30\n0.5\nbright\n";
    EXPECT_EQ(readLedCapture(file).error().message, file.string() + ":3: not a number: 'bright'");
    std::ofstream(file, std::ios::trunc) << "fps 30\n0.5\n0.5\n";
    auto flat = decodeLedCapture(*readLedCapture(file));
    ASSERT_FALSE(flat);
    EXPECT_EQ(flat.error().message.rfind("LED trace: ", 0), 0u) << flat.error().message;
}

TEST(AddressPort, ParsesAndNamesProblems) {
    auto v4 = parseAddressPort("127.0.0.1:5685");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->first, "127.0.0.1");
    EXPECT_EQ(v4->second, 5685);
    auto v6 = parseAddressPort("[::1]:5685");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->first, "::1");
    EXPECT_EQ(parseAddressPort("example.com:5685").error().message,
              "controller address 'example.com' is not an IPv4 or IPv6 address");
    EXPECT_EQ(parseAddressPort("127.0.0.1").error().message, "controller address must be ADDR:PORT or [IPv6]:PORT, got '127.0.0.1'");
    EXPECT_EQ(parseAddressPort("127.0.0.1:0").error().message, "controller address: port must be 1 to 65535, got '0'");
    EXPECT_EQ(parseAddressPort("127.0.0.1:70000").error().message, "controller address: port must be 1 to 65535, got '70000'");
}

}  // namespace
}  // namespace tte::introducer
