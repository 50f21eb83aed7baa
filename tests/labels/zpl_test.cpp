// ZPL output checked against the ZPL II syntax of the commands it uses: ^XA/^XZ framing,
// ^PW/^LL in dots, ^BQ (orientation N, model 2, magnification 1-10, error correction H) and
// its ^FD data in the form "<ecc><input mode>,<data>" = "HA,<url>".
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "label_fixtures.h"
#include "tte/labels/layout.h"
#include "tte/labels/zpl.h"

namespace tte::labels {
namespace {

struct Command {
    std::string name;  // two letters, or "A0" etc. for font commands
    std::string args;
};

// Splits ZPL into ^-commands; newlines between commands are not part of them.
std::vector<Command> commands(const std::string& zpl) {
    std::vector<Command> out;
    std::size_t pos = 0;
    while ((pos = zpl.find('^', pos)) != std::string::npos) {
        std::size_t end = zpl.find('^', pos + 1);
        std::string body = zpl.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
        while (!body.empty() && body.back() == '\n') body.pop_back();
        out.push_back({body.substr(0, 2), body.substr(2)});
        pos = end;
    }
    return out;
}

std::string zplFor(const LabelLayout& l) {
    auto z = renderZpl(l);
    EXPECT_TRUE(z) << z.error().toString();
    return z ? *z : std::string();
}

TEST(Zpl, DeviceLabelFollowsZplSyntax) {
    auto tmpl = testing::shippedTemplates();
    auto device = testing::sampleDevice();
    auto l = layoutDeviceLabel(tmpl.device, device);
    ASSERT_TRUE(l);
    auto cmds = commands(zplFor(*l));
    ASSERT_GE(cmds.size(), 4U);
    EXPECT_EQ(cmds.front().name, "XA");
    EXPECT_EQ(cmds.back().name, "XZ");
    auto find = [&](std::string_view name) {
        return std::find_if(cmds.begin(), cmds.end(), [&](const Command& c) { return c.name == name; });
    };
    ASSERT_NE(find("PW"), cmds.end());
    EXPECT_EQ(find("PW")->args, "400");
    EXPECT_EQ(find("LL")->args, "240");
    EXPECT_EQ(std::count_if(cmds.begin(), cmds.end(), [](const Command& c) { return c.name == "BQ"; }), 1);

    auto bq = find("BQ");
    ASSERT_GT(bq - cmds.begin(), 0);
    // ^FO<x>,<y> right before the barcode: the code's top-left module.
    EXPECT_EQ((bq - 1)->name, "FO");
    EXPECT_EQ((bq - 1)->args, std::to_string(l->qr.originX) + "," + std::to_string(l->qr.originY));
    // ^BQa,b,c,d: a = N (normal), b = 2 (model 2), c = magnification 1..10, d = H.
    int mag = 0;
    char ecc = 0;
    int consumed = 0;
    ASSERT_EQ(std::sscanf(bq->args.c_str(), "N,2,%d,%c%n", &mag, &ecc, &consumed), 2) << bq->args;
    EXPECT_EQ(std::size_t(consumed), bq->args.size()) << bq->args;
    EXPECT_EQ(ecc, 'H');
    EXPECT_GE(mag, 1);
    EXPECT_LE(mag, 10);
    EXPECT_EQ(mag, l->qr.moduleDots);
    // ^FD for ^BQ: "H" error correction, "A" automatic input mode, comma, then the data.
    ASSERT_EQ((bq + 1)->name, "FD");
    EXPECT_EQ((bq + 1)->args, "HA," + std::string(device.url.view()));
    EXPECT_EQ((bq + 2)->name, "FS");
}

TEST(Zpl, TextFieldsAreEscapedAndBoxed) {
    auto tmpl = testing::shippedTemplates();
    auto device = testing::sampleDevice();
    device.lot = "A^B~C_D";
    auto l = layoutDeviceLabel(tmpl.device, device);
    ASSERT_TRUE(l);
    auto z = zplFor(*l);
    EXPECT_NE(z.find("^FH_^FDLot A_5EB_7EC_5FD^FS"), std::string::npos) << z;
    auto cmds = commands(z);
    int fieldBlocks = 0;
    for (std::size_t i = 0; i + 1 < cmds.size(); ++i) {
        if (cmds[i].name != "FB") continue;
        ++fieldBlocks;
        // ^FBwidth,lines,spacing,justification,hanging: one line, clipped to the text's room.
        int width = 0;
        int consumed = 0;
        ASSERT_EQ(std::sscanf(cmds[i].args.c_str(), "%d,1,0,L,0%n", &width, &consumed), 1) << cmds[i].args;
        EXPECT_EQ(std::size_t(consumed), cmds[i].args.size()) << cmds[i].args;
        EXPECT_GT(width, 0);
    }
    EXPECT_EQ(fieldBlocks, 5);
}

TEST(Zpl, BoxLabelHasBoxSizeAndUrl) {
    auto tmpl = testing::shippedTemplates();
    auto box = testing::sampleBox();
    auto l = layoutBoxLabel(tmpl.box, box);
    ASSERT_TRUE(l);
    auto z = zplFor(*l);
    EXPECT_NE(z.find("^PW799\n^LL559\n"), std::string::npos);
    EXPECT_NE(z.find("^FDHA," + std::string(box.url.view()) + "^FS"), std::string::npos);
}

TEST(Zpl, MagnificationOverTenIsRefused) {
    auto tmpl = testing::shippedTemplates();
    tmpl.box.dpi = 600;  // 70 mm at 600 dpi gives the box code 22-dot modules
    for (auto& t : tmpl.box.texts) {
        t.xMm = 70;  // the bigger code's quiet zone reaches to 69 mm
        t.maxWidthMm = 29;
    }
    auto l = layoutBoxLabel(tmpl.box, testing::sampleBox());
    ASSERT_TRUE(l) << l.error().toString();
    auto z = renderZpl(*l);
    ASSERT_FALSE(z);
    EXPECT_EQ(z.error().code, Errc::outOfRange);
    EXPECT_EQ(z.error().message, "box label: module size " + std::to_string(l->qr.moduleDots) +
                                     " dots is outside ZPL ^BQ magnification 1-10");
}

}  // namespace
}  // namespace tte::labels
