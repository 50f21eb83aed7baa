// formatPdf(): cairo's PDF surface, toy text API (UTF-8), the label PNG drawn from memory.
#include "tte/station/adapters/verify_pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>

#include <algorithm>
#include <memory>

#include "tte/base/hex.h"
#include "tte/labels/cairo_stream.h"

namespace tte::station {
namespace {

constexpr double kWidth = 595, kHeight = 842, kMargin = 40;  // A4 in points

/// `text` cut into lines of at most `width` points at spaces.
std::vector<std::string> wrap(cairo_t* cr, const std::string& text, double width) {
    std::vector<std::string> lines;
    std::string line;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find(' ', pos);
        if (end == std::string::npos) end = text.size();
        const std::string word = text.substr(pos, end - pos);
        const std::string candidate = line.empty() ? word : line + " " + word;
        cairo_text_extents_t ext;
        cairo_text_extents(cr, candidate.c_str(), &ext);
        if (!line.empty() && ext.x_advance > width) {
            lines.push_back(line);
            line = word;
        } else {
            line = candidate;
        }
        pos = end + 1;
    }
    if (!line.empty()) lines.push_back(line);
    return lines;
}

}  // namespace

Result<std::vector<std::uint8_t>> formatPdf(const UnitReport& r, const std::vector<std::uint8_t>& labelPng,
                                            const std::string& when) {
    std::vector<std::uint8_t> pdf;
    std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
        cairo_pdf_surface_create_for_stream(labels::appendBytes, &pdf, kWidth, kHeight), cairo_surface_destroy);
    std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr(cairo_create(surface.get()), cairo_destroy);
    cairo_t* c = cr.get();
    cairo_select_font_face(c, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(c, 14);
    double y = kMargin + 14;
    const auto text = [&](const std::string& t, double x) {
        cairo_move_to(c, x, y);
        cairo_show_text(c, t.c_str());
    };
    for (const auto& line : wrap(c, "verify Dev ID " + toHex(r.devId, 8) + " (" + r.source + ")", kWidth - 2 * kMargin)) {
        text(line, kMargin);
        y += 17;
    }
    y -= 17;
    cairo_select_font_face(c, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(c, 9);
    y += 16;
    text(r.urn + (r.state.empty() ? "" : ", MotherShip state " + r.state) + "; checked " + when, kMargin);
    y += 16;
    cairo_set_font_size(c, 11);
    r.passed() ? cairo_set_source_rgb(c, 0, 0.4, 0) : cairo_set_source_rgb(c, 0.7, 0, 0);
    text(verdictLine(r), kMargin);
    y += 18;
    cairo_set_font_size(c, 8);
    constexpr double kDetailX = kMargin + 110;
    for (const auto& l : r.lines) {
        l.pass ? cairo_set_source_rgb(c, 0, 0.4, 0) : cairo_set_source_rgb(c, 0.7, 0, 0);
        text(l.pass ? "PASS" : "FAIL", kMargin);
        cairo_set_source_rgb(c, 0, 0, 0);
        text(l.check, kMargin + 35);
        for (const auto& line : wrap(c, l.detail, kWidth - kMargin - kDetailX)) {
            text(line, kDetailX);
            y += 11;
        }
        y += 3;
    }
    y += 10;
    cairo_set_font_size(c, 11);
    text("Label", kMargin);
    y += 8;
    if (labelPng.empty()) {
        y += 12;
        cairo_set_font_size(c, 9);
        text("no label image", kMargin);
    } else {
        labels::ByteReader reader{&labelPng};
        std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> image(
            cairo_image_surface_create_from_png_stream(labels::readBytes, &reader), cairo_surface_destroy);
        if (cairo_surface_status(image.get()) != CAIRO_STATUS_SUCCESS)
            return fail(Errc::corrupt, "the label image does not decode as PNG");
        // The label at the printer's 203 dpi is drawn at its printed size (72 / 203 points a pixel),
        // smaller only if it does not fit.
        const double w = cairo_image_surface_get_width(image.get()), h = cairo_image_surface_get_height(image.get());
        const double scale = std::min({72.0 / 203.0, (kWidth - 2 * kMargin) / w, std::max(1.0, kHeight - kMargin - y) / h});
        cairo_save(c);
        cairo_translate(c, kMargin, y);
        cairo_scale(c, scale, scale);
        cairo_set_source_surface(c, image.get(), 0, 0);
        cairo_pattern_set_filter(cairo_get_source(c), CAIRO_FILTER_NEAREST);
        cairo_paint(c);
        cairo_restore(c);
    }
    cairo_show_page(c);
    cr.reset();
    cairo_surface_finish(surface.get());
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
        return fail(Errc::internal, std::string("cairo: ") + cairo_status_to_string(cairo_surface_status(surface.get())));
    return pdf;
}

}  // namespace tte::station
