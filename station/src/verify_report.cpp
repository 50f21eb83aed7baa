// The QA verify table as text for a terminal and as a self-contained HTML sheet with the label.
#include <algorithm>

#include "tte/base/hex.h"
#include "tte/base/html.h"
#include "tte/protocol/crypto.h"
#include "tte/station/verify.h"

namespace tte::station {
namespace {

std::string title(const UnitReport& r) { return "verify Dev ID " + toHex(r.devId, 8) + " (" + r.source + ")"; }

}  // namespace

std::string verdictLine(const UnitReport& r) {
    if (r.passed()) return "verify: PASS";
    std::string names;
    for (const auto& l : r.lines)
        if (!l.pass) names += (names.empty() ? "" : ", ") + l.check;
    return "verify: FAIL (" + std::to_string(r.failures()) + (r.failures() == 1 ? " mismatch: " : " mismatches: ") + names + ")";
}

std::string formatTable(const UnitReport& r) {
    std::size_t width = 0;
    for (const auto& l : r.lines) width = std::max(width, l.check.size());
    std::string out = title(r) + "\n";
    for (const auto& l : r.lines) {
        out += std::string("  ") + (l.pass ? "PASS  " : "FAIL  ") + l.check + std::string(width - l.check.size() + 2, ' ') +
               l.detail + "\n";
    }
    return out + verdictLine(r) + "\n";
}

std::string formatHtml(const UnitReport& r, const std::vector<std::uint8_t>& labelPng, const std::string& when) {
    std::string out =
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escapeHtml(title(r)) +
        "</title>\n<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;"
        "padding:4px 8px;text-align:left}.pass{color:#060}.fail{color:#b00;font-weight:bold}</style></head><body>\n";
    out += "<h1>" + escapeHtml(title(r)) + "</h1>\n<p>" + escapeHtml(r.urn) + (r.state.empty() ? "" : ", MotherShip state " + escapeHtml(r.state)) +
           "; checked " + escapeHtml(when) + "</p>\n";
    out += "<p class=\"" + std::string(r.passed() ? "pass" : "fail") + "\" id=\"verdict\">" + escapeHtml(verdictLine(r)) + "</p>\n";
    out += "<table id=\"checks\">\n<tr><th>check</th><th>result</th><th>detail</th></tr>\n";
    for (const auto& l : r.lines) {
        out += "<tr><td>" + escapeHtml(l.check) + "</td><td class=\"" + (l.pass ? "pass\">PASS" : "fail\">FAIL") + "</td><td>" +
               escapeHtml(l.detail) + "</td></tr>\n";
    }
    out += "</table>\n<h2>Label</h2>\n";
    if (labelPng.empty()) {
        out += "<p>no label image</p>\n";
    } else {
        out += "<img id=\"label\" alt=\"label of Dev ID " + toHex(r.devId, 8) + "\" src=\"data:image/png;base64," +
               protocol::base64Encode(labelPng) + "\">\n";
    }
    return out + "</body></html>\n";
}

}  // namespace tte::station
