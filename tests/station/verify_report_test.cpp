// The QA verify table (verify.h): the terminal text and the HTML sheet, from a report made here.
#include <gtest/gtest.h>

#include "tte/protocol/crypto.h"
#include "tte/station/verify.h"

namespace tte::station {
namespace {

UnitReport report(bool labelPasses) {
    UnitReport r;
    r.devId = 0x100;
    r.source = "port 1-1";
    r.urn = "urn:dev:ops:32473-tte.line-00000100";
    r.state = "not-mapped";
    r.lines = {{"block", true, "Dev ID 00000100"},
               {"label", labelPasses, labelPasses ? "as the block" : "the label is <b>00000101</b>'s & not ours"},
               {"dtls", true, "4.04 not mapped"}};
    return r;
}

TEST(VerifyReport, TheTableNamesEveryLineAndTheVerdict) {
    EXPECT_EQ(formatTable(report(true)),
              "verify Dev ID 00000100 (port 1-1)\n"
              "  PASS  block  Dev ID 00000100\n"
              "  PASS  label  as the block\n"
              "  PASS  dtls   4.04 not mapped\n"
              "verify: PASS\n");
    auto bad = report(false);
    bad.lines[2].pass = false;
    const std::string text = formatTable(bad);
    EXPECT_NE(text.find("  FAIL  label  the label is <b>00000101</b>'s & not ours\n"), std::string::npos) << text;
    EXPECT_TRUE(text.ends_with("verify: FAIL (2 mismatches: label, dtls)\n")) << text;
    EXPECT_FALSE(bad.passed());
    EXPECT_EQ(bad.failures(), 2);
    EXPECT_FALSE(UnitReport{}.passed());  // no lines: nothing was proven
}

TEST(VerifyReport, TheSheetHoldsTheEscapedTableAndTheLabel) {
    const std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', 1, 2, 3};
    const std::string html = formatHtml(report(false), png, "2026-12-03T07:00:00Z");
    EXPECT_TRUE(html.starts_with("<!DOCTYPE html>")) << html;
    EXPECT_NE(html.find("<td>label</td><td class=\"fail\">FAIL</td><td>the label is &lt;b&gt;00000101&lt;/b&gt;&#39;s &amp; not ours</td>"),
              std::string::npos)
        << html;
    EXPECT_EQ(html.find("<b>00000101"), std::string::npos);
    EXPECT_NE(html.find("<td>block</td><td class=\"pass\">PASS</td>"), std::string::npos);
    EXPECT_NE(html.find("id=\"verdict\">verify: FAIL (1 mismatch: label)</p>"), std::string::npos) << html;
    EXPECT_NE(html.find("checked 2026-12-03T07:00:00Z"), std::string::npos);
    EXPECT_NE(html.find("src=\"data:image/png;base64," + protocol::base64Encode(png) + "\""), std::string::npos);
    const std::string none = formatHtml(report(true), {}, "now");
    EXPECT_NE(none.find("<p>no label image</p>"), std::string::npos);
    EXPECT_EQ(none.find("<img"), std::string::npos);
}

}  // namespace
}  // namespace tte::station
