// The label's QR code (draft 2: error correction level H) carries the built Enrollment URL:
// encode it with libqrencode, render it, decode it with zbar, and parse it back to the same
// OTP and Dev ID. Also a box URL, and a damaged code that level H still reads.
#include <qrencode.h>
#include <zbar.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tte/protocol/box.h"
#include "tte/protocol/enrollment_url.h"

namespace tte::protocol {
namespace {

constexpr int kScale = 4;      // pixels per module
constexpr int kQuietZone = 4;  // modules of white border (ISO/IEC 18004)

struct Gray {
    int size = 0;
    std::vector<unsigned char> pixels;  // Y800: 0 black, 255 white
};

Gray render(const std::string& text) {
    std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
        QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_H, QR_MODE_8, 1), &QRcode_free);
    EXPECT_NE(qr, nullptr);
    if (!qr) return {};
    Gray g;
    g.size = (qr->width + 2 * kQuietZone) * kScale;
    g.pixels.assign(static_cast<std::size_t>(g.size) * static_cast<std::size_t>(g.size), 255);
    for (int y = 0; y < qr->width; ++y) {
        for (int x = 0; x < qr->width; ++x) {
            if ((qr->data[y * qr->width + x] & 1) == 0) continue;
            for (int dy = 0; dy < kScale; ++dy) {
                for (int dx = 0; dx < kScale; ++dx) {
                    const int py = (y + kQuietZone) * kScale + dy, px = (x + kQuietZone) * kScale + dx;
                    g.pixels[static_cast<std::size_t>(py * g.size + px)] = 0;
                }
            }
        }
    }
    return g;
}

/// Every QR symbol zbar finds in the image.
std::vector<std::string> scan(const Gray& g) {
    std::vector<std::string> found;
    zbar::zbar_image_scanner_t* scanner = zbar::zbar_image_scanner_create();
    zbar::zbar_image_scanner_set_config(scanner, zbar::ZBAR_NONE, zbar::ZBAR_CFG_ENABLE, 0);
    zbar::zbar_image_scanner_set_config(scanner, zbar::ZBAR_QRCODE, zbar::ZBAR_CFG_ENABLE, 1);
    zbar::zbar_image_t* image = zbar::zbar_image_create();
    zbar::zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
    zbar::zbar_image_set_size(image, static_cast<unsigned>(g.size), static_cast<unsigned>(g.size));
    zbar::zbar_image_set_data(image, g.pixels.data(), g.pixels.size(), nullptr);
    if (zbar::zbar_scan_image(scanner, image) > 0) {
        for (const zbar::zbar_symbol_t* s = zbar::zbar_image_first_symbol(image); s != nullptr;
             s = zbar::zbar_symbol_next(s)) {
            found.emplace_back(zbar::zbar_symbol_get_data(s), zbar::zbar_symbol_get_data_length(s));
        }
    }
    zbar::zbar_image_destroy(image);
    zbar::zbar_image_scanner_destroy(scanner);
    return found;
}

TEST(QrRoundTrip, EnrollmentUrlSurvivesEncodeAndScan) {
    for (std::uint64_t otp : {0x123456789abcdef0ULL, 0ULL, 0xFFFFFFFFFFFFFFFFULL}) {
        const EnrollmentUrl in{MsId{1}, Otp(otp), DevId{static_cast<std::uint32_t>(otp >> 8)}};
        const std::string url = buildEnrollmentUrl(in);
        const auto found = scan(render(url));
        ASSERT_EQ(found.size(), 1U);
        EXPECT_EQ(found[0], url);
        auto out = parseEnrollmentUrl(found[0]);
        ASSERT_TRUE(out) << out.error().message;
        EXPECT_EQ(out->otp, in.otp);
        EXPECT_EQ(out->devId, in.devId);
        EXPECT_EQ(out->ms, in.ms);
    }
}

TEST(QrRoundTrip, LevelHReadsWithAQuarterOfTheCodeBlanked) {
    const EnrollmentUrl in{MsId{0xABC}, Otp(0x0123456789abcdefULL), DevId{0xabcdef01}};
    const std::string url = buildEnrollmentUrl(in);
    Gray g = render(url);
    // Blank a band through the data area (a smudge or a torn corner of the label), away from
    // the three finder patterns; level H restores up to 30 % of the codewords.
    const int modules = g.size / kScale - 2 * kQuietZone;
    const int x0 = (kQuietZone + modules / 3) * kScale, x1 = (kQuietZone + modules * 2 / 3) * kScale;
    const int y0 = (kQuietZone + modules * 3 / 5) * kScale, y1 = (kQuietZone + modules * 4 / 5) * kScale;
    for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) g.pixels[static_cast<std::size_t>(y * g.size + x)] = 255;
    }
    const auto found = scan(g);
    ASSERT_EQ(found.size(), 1U);
    EXPECT_EQ(parseEnrollmentUrl(found[0])->otp, in.otp);
}

TEST(QrRoundTrip, BoxUrlSurvivesEncodeAndScan) {
    std::vector<std::uint8_t> secret(32);
    for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(0xF0 - i);
    const BoxUrl box{MsId{1}, Secret(std::span<const std::uint8_t>(secret)), DevId{0x1000}, DevId{0x10ff}};
    const std::string url = *buildBoxUrl(box);
    const auto found = scan(render(url));
    ASSERT_EQ(found.size(), 1U);
    auto out = parseBoxUrl(found[0]);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_TRUE(std::equal(out->secret.bytes().begin(), out->secret.bytes().end(), secret.begin()));
    EXPECT_EQ(out->last.value, 0x10ffU);
}

}  // namespace
}  // namespace tte::protocol
