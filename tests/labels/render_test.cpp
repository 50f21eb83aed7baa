// Layout, rendering and scan-back of the device and box labels: whole-dot modules, a clear
// quiet zone, text that never touches the code, and a raster that decodes to the URL.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "label_fixtures.h"
#include "tte/labels/layout.h"
#include "tte/labels/render.h"
#include "tte/labels/scan.h"

namespace tte::labels {
namespace {

using testing::sampleBox;
using testing::sampleDevice;
using testing::shippedTemplates;

// Every dark pixel must lie inside the code or inside a text line's computed box: this proves
// the boxes the overlap check uses are true bounds of what is printed.
void expectInkOnlyInsideBoxes(const LabelLayout& l, const Raster& r) {
    const Rect code{double(l.qr.originX), double(l.qr.originY), double(l.qr.modules * l.qr.moduleDots),
                    double(l.qr.modules * l.qr.moduleDots)};
    int stray = 0;
    for (int y = 0; y < r.height; ++y) {
        for (int x = 0; x < r.width; ++x) {
            if (r.at(x, y) != 0) continue;
            const Rect px{double(x), double(y), 1, 1};
            bool inside = code.contains(px);
            for (const auto& t : l.texts) inside = inside || t.box.contains(px);
            if (!inside) ++stray;
        }
    }
    EXPECT_EQ(stray, 0) << l.name << ": dark pixels outside the code and the text boxes";
}

void expectNoOverlaps(const LabelLayout& l) {
    const Rect label{0, 0, double(l.widthDots), double(l.heightDots)};
    EXPECT_TRUE(label.contains(l.qr.area));
    for (std::size_t i = 0; i < l.texts.size(); ++i) {
        const auto& t = l.texts[i];
        EXPECT_TRUE(label.contains(t.box)) << t.text;
        EXPECT_FALSE(t.box.intersects(l.qr.area)) << t.text << " overlaps the code's quiet zone";
        for (std::size_t j = i + 1; j < l.texts.size(); ++j) {
            EXPECT_FALSE(t.box.intersects(l.texts[j].box)) << t.text << " / " << l.texts[j].text;
        }
    }
}

void expectQuietZoneWhite(const LabelLayout& l, const Raster& r) {
    const int codeDots = l.qr.modules * l.qr.moduleDots;
    int dark = 0;
    for (int y = int(l.qr.area.y); y < int(l.qr.area.bottom()); ++y) {
        for (int x = int(l.qr.area.x); x < int(l.qr.area.right()); ++x) {
            bool inCode = x >= l.qr.originX && x < l.qr.originX + codeDots && y >= l.qr.originY &&
                          y < l.qr.originY + codeDots;
            if (!inCode && r.at(x, y) == 0) ++dark;
        }
    }
    EXPECT_EQ(dark, 0) << "dark dots in the quiet zone";
}

// Each module is a block of moduleDots x moduleDots printer dots of one colour.
void expectModulesOnDotGrid(const LabelLayout& l, const Raster& r) {
    int wrong = 0;
    for (int row = 0; row < l.qr.modules; ++row) {
        for (int col = 0; col < l.qr.modules; ++col) {
            const std::uint8_t want = l.qr.isDark(row, col) ? 0 : 255;
            for (int dy = 0; dy < l.qr.moduleDots; ++dy) {
                for (int dx = 0; dx < l.qr.moduleDots; ++dx) {
                    int x = l.qr.originX + col * l.qr.moduleDots + dx;
                    int y = l.qr.originY + row * l.qr.moduleDots + dy;
                    if (r.at(x, y) != want) ++wrong;
                }
            }
        }
    }
    EXPECT_EQ(wrong, 0);
}

TEST(LabelLayout, DeviceLabelFitsItsStock) {
    auto tmpl = shippedTemplates();
    auto l = layoutDeviceLabel(tmpl.device, sampleDevice());
    ASSERT_TRUE(l) << l.error().toString();
    EXPECT_EQ(l->widthDots, 400);   // 50 mm at 203 dpi
    EXPECT_EQ(l->heightDots, 240);  // 30 mm
    EXPECT_EQ(l->qr.version, 8);    // 74 bytes at level H
    EXPECT_EQ(l->qr.modules, 49);
    EXPECT_EQ(l->qr.moduleDots, 4);
    EXPECT_GE(l->qr.quietZoneModules, 4);
    ASSERT_EQ(l->texts.size(), 5U);
    EXPECT_EQ(l->texts[0].text, "Scan to enroll");
    EXPECT_EQ(l->texts[1].text, "ID 0000002a");
    EXPECT_EQ(l->texts[2].text, "tte-000001.net");
    EXPECT_EQ(l->texts[3].text, "Lot L2026-47-A");
    EXPECT_EQ(l->texts[4].text, "2026-11-23");
    expectNoOverlaps(*l);
}

TEST(LabelLayout, BoxLabelFitsItsStock) {
    auto tmpl = shippedTemplates();
    auto l = layoutBoxLabel(tmpl.box, sampleBox());
    ASSERT_TRUE(l) << l.error().toString();
    EXPECT_EQ(l->widthDots, 799);
    EXPECT_EQ(l->heightDots, 559);
    EXPECT_GE(l->qr.moduleDots, tmpl.box.minModuleDots);
    EXPECT_EQ(l->texts[1].text, "Box 00000003");
    EXPECT_EQ(l->texts[2].text, "0000002a-0000004f");
    expectNoOverlaps(*l);
}

TEST(LabelRender, RastersScanBackToTheUrlAndKeepTextOffTheCode) {
    auto tmpl = shippedTemplates();
    auto device = sampleDevice();
    auto box = sampleBox();
    auto dl = layoutDeviceLabel(tmpl.device, device);
    auto bl = layoutBoxLabel(tmpl.box, box);
    ASSERT_TRUE(dl && bl);
    for (auto* l : {&*dl, &*bl}) {
        auto r = renderRaster(*l);
        ASSERT_TRUE(r) << r.error().toString();
        EXPECT_EQ(r->width, l->widthDots);
        expectQuietZoneWhite(*l, *r);
        expectModulesOnDotGrid(*l, *r);
        expectInkOnlyInsideBoxes(*l, *r);
        EXPECT_TRUE(verifyScan(*r, l->url)) << l->name;
    }
}

TEST(LabelRender, LongestFieldsStillFitWithoutOverlap) {
    auto tmpl = shippedTemplates();
    auto d = sampleDevice(0xffffffff, 0xffffffffffffffff);
    d.url = Secret(testing::enrollmentUrl(0xffffffffffffffff, 0xffffffff, 0xffffff));
    d.msHost = "tte-FFFFFF.net";
    d.lot = "WWWW-2026-47";  // 12 characters, the widest letters: the documented limit
    d.date = "2026-12-31";
    auto l = layoutDeviceLabel(tmpl.device, d);
    ASSERT_TRUE(l) << l.error().toString();
    expectNoOverlaps(*l);
    auto r = renderRaster(*l);
    ASSERT_TRUE(r);
    expectInkOnlyInsideBoxes(*l, *r);
    EXPECT_TRUE(verifyScan(*r, d.url));
}

TEST(LabelRender, PngRoundTripScansBack) {
    auto tmpl = shippedTemplates();
    auto device = sampleDevice();
    auto l = layoutDeviceLabel(tmpl.device, device);
    ASSERT_TRUE(l);
    auto r = renderRaster(*l);
    ASSERT_TRUE(r);
    auto png = encodePng(*r);
    ASSERT_TRUE(png);
    ASSERT_GT(png->size(), 8U);
    EXPECT_EQ(std::string(png->begin() + 1, png->begin() + 4), "PNG");
    auto back = decodePng(*png, 203);
    ASSERT_TRUE(back) << back.error().toString();
    EXPECT_EQ(back->pixels, r->pixels);
    EXPECT_TRUE(verifyScan(*back, device.url));
}

TEST(LabelRender, PdfPageIsTheLabelSize) {
    auto tmpl = shippedTemplates();
    auto l = layoutBoxLabel(tmpl.box, sampleBox());
    ASSERT_TRUE(l);
    auto pdf = renderPdf(*l);
    ASSERT_TRUE(pdf) << pdf.error().toString();
    std::string text(pdf->begin(), pdf->end());
    EXPECT_EQ(text.substr(0, 5), "%PDF-");
    auto pos = text.find("/MediaBox [");
    ASSERT_NE(pos, std::string::npos);
    double x0 = -1, y0 = -1, w = 0, h = 0;
    ASSERT_EQ(std::sscanf(text.c_str() + pos, "/MediaBox [ %lf %lf %lf %lf ]", &x0, &y0, &w, &h), 4);
    EXPECT_EQ(x0, 0);
    EXPECT_EQ(y0, 0);
    EXPECT_NEAR(w, 100 * 72 / 25.4, 0.01);
    EXPECT_NEAR(h, 70 * 72 / 25.4, 0.01);
}

TEST(LabelScan, DamagedOrWrongCodeIsRejected) {
    auto tmpl = shippedTemplates();
    auto device = sampleDevice();
    auto l = layoutDeviceLabel(tmpl.device, device);
    ASSERT_TRUE(l);
    auto r = renderRaster(*l);
    ASSERT_TRUE(r);
    Secret other(testing::enrollmentUrl(0x123456789abcdef1, 0x2a));
    auto wrong = verifyScan(*r, other);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, Errc::corrupt);
    EXPECT_EQ(wrong.error().message,
              "scan-back: the code does not carry the intended URL (74 bytes decoded, 74 expected)");
    // A smudge over a third of the code (more than level H restores) leaves nothing readable.
    Raster smudged = *r;
    const int codeDots = l->qr.modules * l->qr.moduleDots;
    for (int y = l->qr.originY; y < l->qr.originY + codeDots / 2; ++y) {
        for (int x = l->qr.originX; x < l->qr.originX + codeDots * 2 / 3; ++x) {
            smudged.pixels[std::size_t(y) * std::size_t(smudged.width) + std::size_t(x)] = 0;
        }
    }
    auto none = verifyScan(smudged, device.url);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().message, "scan-back: no QR code found");
}

TEST(LabelLayout, CodeThatDoesNotFitIsAnError) {
    auto tmpl = shippedTemplates();
    tmpl.device.qr.sizeMm = 20;  // 159 dots; version 8 needs 57 modules x 3 dots = 171
    auto l = layoutDeviceLabel(tmpl.device, sampleDevice());
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().code, Errc::outOfRange);
    EXPECT_EQ(l.error().message, "device label: the code (version 8, 49 modules + 2x4 quiet) needs 171 dots at 3 dots "
                                 "per module; the QR area is 159 dots (20.0 mm at 203 dpi)");
}

TEST(LabelLayout, TextTooWideIsAnError) {
    auto tmpl = shippedTemplates();
    auto d = sampleDevice();
    d.lot = "A-VERY-LONG-LOT-NAME-2026";
    auto l = layoutDeviceLabel(tmpl.device, d);
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().code, Errc::outOfRange);
    EXPECT_TRUE(l.error().message.starts_with("device label, text 'lot' (template line " +
                                              std::to_string(tmpl.device.texts[3].line) +
                                              "): \"Lot A-VERY-LONG-LOT-NAME-2026\" is "))
        << l.error().message;
    EXPECT_TRUE(l.error().message.ends_with(" mm wide at 5.0 pt; the room is 18.5 mm")) << l.error().message;
}

TEST(LabelLayout, EveryBoxSecretGivesALabelThatFits) {
    // The box URL carries the secret in hex; how many digit runs it has changes the QR
    // encoder's segments, so the version and the module size vary with the secret. Every
    // one of them must lay out on the shipped template (a box label is never refused for
    // its random secret).
    auto tmpl = shippedTemplates();
    std::set<int> versions;
    const std::vector<std::uint8_t> lotKey(32, 0x3c);
    for (std::uint32_t box = 1; box <= 400; ++box) {
        auto url = protocol::buildBoxUrl({protocol::MsId{1}, protocol::deriveBoxSecret(lotKey, box),
                                          protocol::DevId{0x140}, protocol::DevId{0x17f}});
        ASSERT_TRUE(url) << url.error().toString();
        auto b = sampleBox();
        b.url = Secret(*url);
        b.box = box;
        b.firstDevId = 0x140;
        b.lastDevId = 0x17f;
        auto l = layoutBoxLabel(tmpl.box, b);
        ASSERT_TRUE(l) << "box " << box << ": " << l.error().toString();
        versions.insert(l->qr.version);
    }
    EXPECT_GE(versions.size(), 2u) << "the sample did not reach more than one QR version";
}

TEST(LabelLayout, TextOverTheQuietZoneIsAnError) {
    auto tmpl = shippedTemplates();
    tmpl.device.texts[2].xMm = 28.0;  // the quiet zone reaches to about 28.3 mm
    auto l = layoutDeviceLabel(tmpl.device, sampleDevice());
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().message, "device label, text 'ms_host' (template line " +
                                     std::to_string(tmpl.device.texts[2].line) +
                                     "): overlaps the QR code or its quiet zone");
}

TEST(LabelLayout, TextOverAnotherLineIsAnError) {
    auto tmpl = shippedTemplates();
    tmpl.device.texts[3].yMm = 14.0;
    auto l = layoutDeviceLabel(tmpl.device, sampleDevice());
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().message, "device label, text 'lot' (template line " +
                                     std::to_string(tmpl.device.texts[3].line) + "): overlaps text 'ms_host'");
}

TEST(LabelLayout, BadFieldsAreRejected) {
    auto tmpl = shippedTemplates();
    auto d = sampleDevice();
    d.lot = "L1\nL2";
    auto l = layoutDeviceLabel(tmpl.device, d);
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().message, "device label: lot contains a control character");
    auto b = sampleBox();
    b.firstDevId = 0x50;
    auto bl = layoutBoxLabel(tmpl.box, b);
    ASSERT_FALSE(bl);
    EXPECT_EQ(bl.error().message, "box label: first Dev ID 00000050 is greater than last Dev ID 0000004f");
    auto e = sampleDevice();
    e.url = Secret();
    auto el = layoutDeviceLabel(tmpl.device, e);
    ASSERT_FALSE(el);
    EXPECT_EQ(el.error().message, "device label: enrollment URL: scheme must be https");
}

TEST(LabelLayout, TextMustSayWhatTheCodeSays) {
    auto tmpl = shippedTemplates();
    auto d = sampleDevice();
    d.devId = 0x2b;
    auto l = layoutDeviceLabel(tmpl.device, d);
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().code, Errc::invalidArgument);
    EXPECT_EQ(l.error().message, "device label: the URL is for Dev ID 0000002a, the label shows 0000002b");
    d = sampleDevice();
    d.msHost = "tte-000002.net";
    l = layoutDeviceLabel(tmpl.device, d);
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().message, "device label: the URL's host is tte-000001.net, the label shows tte-000002.net");
    auto b = sampleBox();
    b.lastDevId = 0x50;
    auto bl = layoutBoxLabel(tmpl.box, b);
    ASSERT_FALSE(bl);
    EXPECT_EQ(bl.error().message,
              "box label: the URL is for Dev IDs 0000002a-0000004f, the label shows 0000002a-00000050");
}

}  // namespace
}  // namespace tte::labels
