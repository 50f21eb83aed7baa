// Label templates: the shipped file parses, and every kind of mistake is reported with the
// file, line, table and key.
#include <gtest/gtest.h>

#include "label_fixtures.h"
#include "tte/labels/label_template.h"

namespace tte::labels {
namespace {

const char* kMinimal = R"([device]
width_mm = 50
height_mm = 30
dpi = 203
[device.qr]
x_mm = 0
y_mm = 0
size_mm = 30
[[device.text]]
field = "devid"
x_mm = 31
y_mm = 2
max_width_mm = 18
size_pt = 8
[box]
width_mm = 100
height_mm = 70
dpi = 203
[box.qr]
x_mm = 0
y_mm = 0
size_mm = 70
[[box.text]]
field = "devid_range"
x_mm = 70
y_mm = 2
max_width_mm = 28
size_pt = 9
)";

std::string parseError(std::string_view text) {
    auto r = parseLabelTemplates(text, "t.toml");
    EXPECT_FALSE(r.has_value());
    return r ? std::string("parsed") : r.error().message;
}

std::string replaced(std::string text, std::string_view from, std::string_view to) {
    auto pos = text.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return pos == std::string::npos ? text : text.replace(pos, from.size(), to);
}

TEST(LabelTemplate, ShippedTemplatesDescribeBothLabels) {
    LabelTemplates t = testing::shippedTemplates();
    EXPECT_EQ(t.device.widthMm, 50.0);
    EXPECT_EQ(t.device.heightMm, 30.0);
    EXPECT_EQ(t.box.widthMm, 100.0);
    EXPECT_EQ(t.box.heightMm, 70.0);
    EXPECT_EQ(t.device.dpi, 203);
    EXPECT_GE(t.device.quietZoneModules, 4);
    ASSERT_FALSE(t.device.texts.empty());
    EXPECT_EQ(t.device.texts[0].field, LabelField::text);
    EXPECT_EQ(t.device.texts[0].text, "Scan to enroll");
    EXPECT_GT(t.device.texts[0].line, 0);
}

TEST(LabelTemplate, MinimalTemplateTakesDefaults) {
    auto t = parseLabelTemplates(kMinimal, "t.toml");
    ASSERT_TRUE(t) << t.error().toString();
    EXPECT_EQ(t->device.quietZoneModules, 4);
    EXPECT_EQ(t->device.minModuleDots, 3);
    EXPECT_EQ(t->device.texts.at(0).font, "DejaVu Sans");
    EXPECT_EQ(t->device.texts.at(0).minSizePt, 8.0);
    EXPECT_EQ(t->device.texts.at(0).line, 9);
    EXPECT_EQ(t->box.texts.at(0).field, LabelField::devIdRange);
}

TEST(LabelTemplate, SyntaxErrorNamesLineAndColumn) {
    std::string bad = replaced(kMinimal, "dpi = 203\n[device.qr]", "dpi = = 203\n[device.qr]");
    EXPECT_EQ(parseError(bad).substr(0, 25), "t.toml:4:7: syntax error:");
}

TEST(LabelTemplate, MissingKeyNamesTableAndKey) {
    std::string bad = replaced(kMinimal, "dpi = 203\n[device.qr]", "[device.qr]");
    EXPECT_EQ(parseError(bad), "t.toml:1: device.dpi: required key is missing");
}

TEST(LabelTemplate, WrongTypeNamesKeyAndLine) {
    std::string bad = replaced(kMinimal, "size_mm = 30", "size_mm = \"30\"");
    EXPECT_EQ(parseError(bad), "t.toml:8: device.qr.size_mm: expected a number, found a string");
}

TEST(LabelTemplate, MisspeltKeyIsRejected) {
    std::string bad = replaced(kMinimal, "size_pt = 8\n", "size_pt = 8\nbld = true\n");
    EXPECT_EQ(parseError(bad), "t.toml:15: device.text[0].bld: unknown key (did you mean 'bold'?)");
}

TEST(LabelTemplate, OutOfRangeValue) {
    std::string bad = replaced(kMinimal, "dpi = 203", "dpi = 20");
    EXPECT_EQ(parseError(bad), "t.toml:4: device.dpi: must be 100 to 1200, not 20");
}

TEST(LabelTemplate, QuietZoneBelowFourModulesIsRejected) {
    std::string bad = replaced(kMinimal, "dpi = 203", "dpi = 203\nquiet_zone_modules = 2");
    EXPECT_EQ(parseError(bad), "t.toml:5: device.quiet_zone_modules: must be 4 to 16, not 2");
}

TEST(LabelTemplate, UnknownFieldIsRejected) {
    std::string bad = replaced(kMinimal, "field = \"devid\"", "field = \"serial\"");
    EXPECT_EQ(parseError(bad), "t.toml:10: device.text[0].field: unknown field 'serial' (one of devid, "
                               "devid_range, box, ms_host, lot, date, text)");
}

TEST(LabelTemplate, BoxFieldOnDeviceLabelIsRejected) {
    std::string bad = replaced(kMinimal, "field = \"devid\"", "field = \"devid_range\"");
    EXPECT_EQ(parseError(bad), "t.toml:10: device.text[0].field: 'devid_range' is not shown on a device label");
}

TEST(LabelTemplate, TextPastRightEdgeIsRejected) {
    std::string bad = replaced(kMinimal, "max_width_mm = 18", "max_width_mm = 20");
    EXPECT_EQ(parseError(bad), "t.toml:13: device.text[0].max_width_mm: x_mm + max_width_mm runs past the label's right edge");
}

TEST(LabelTemplate, TextReachingIntoTheQrAreaIsRejected) {
    // The printed code's size depends on the URL, so a room that overlaps the QR square would
    // fail on some labels only; the template is refused instead.
    std::string bad = replaced(kMinimal, "x_mm = 70\n", "x_mm = 68\n");
    EXPECT_EQ(parseError(bad), "t.toml:25: box.text[0].x_mm: the text's room (x_mm to x_mm + max_width_mm) reaches into the QR area");
}

TEST(LabelTemplate, QrAreaPastEdgeIsRejected) {
    std::string bad = replaced(kMinimal, "x_mm = 0\ny_mm = 0\nsize_mm = 30", "x_mm = 0\ny_mm = 1\nsize_mm = 30");
    EXPECT_EQ(parseError(bad), "t.toml:8: device.qr.size_mm: the QR area runs past the label's edge");
}

TEST(LabelTemplate, FixedTextNeedsItsText) {
    std::string bad = replaced(kMinimal, "field = \"devid\"", "field = \"text\"");
    EXPECT_EQ(parseError(bad), "t.toml:9: device.text[0].text: required key is missing");
}

TEST(LabelTemplate, MissingLabelTableAndUnknownTable) {
    std::string noBox = std::string(kMinimal).substr(0, std::string(kMinimal).find("[box]"));
    EXPECT_EQ(parseError(noBox), "t.toml: box: required table is missing");
    EXPECT_EQ(parseError(std::string(kMinimal) + "[pallet]\nx = 1\n"),
              "t.toml:29: pallet: unknown table");
}

TEST(LabelTemplate, EveryProblemIsReported) {
    std::string bad = replaced(kMinimal, "dpi = 203\n[device.qr]", "dpi = 20\nqr_size = 1\n[device.qr]");
    bad = replaced(bad, "size_pt = 9\n", "size_pt = \"9\"\n");
    EXPECT_EQ(parseError(bad), "t.toml:4: device.dpi: must be 100 to 1200, not 20\n"
                               "t.toml:5: device.qr_size: unknown key\n"
                               "t.toml:29: box.text[0].size_pt: expected a number, found a string");
}

TEST(LabelTemplate, MissingFileIsNotFound) {
    auto r = loadLabelTemplates("/nonexistent/labels.toml");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::notFound);
    EXPECT_EQ(r.error().message, "cannot read label templates /nonexistent/labels.toml: no such file");
}

}  // namespace
}  // namespace tte::labels
