// Draws a label with cairo in printer-dot user units: the same drawing code produces the PDF
// for CUPS and the monochrome raster that is previewed and scanned back.
#include "tte/labels/render.h"

#include <cairo-pdf.h>

#include "cairo_util.h"
#include "tte/labels/cairo_stream.h"

namespace tte::labels {

namespace {

using detail::ContextPtr;
using detail::SurfacePtr;

void drawQr(cairo_t* cr, const PlacedQr& qr) {
    cairo_save(cr);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
    const double md = qr.moduleDots;
    for (int row = 0; row < qr.modules; ++row) {
        int col = 0;
        while (col < qr.modules) {
            if (!qr.isDark(row, col)) {
                ++col;
                continue;
            }
            int end = col;
            while (end < qr.modules && qr.isDark(row, end)) ++end;
            // One rectangle per run of dark modules, so no hairline seams appear in the PDF.
            cairo_rectangle(cr, qr.originX + col * md, qr.originY + row * md, (end - col) * md, md);
            col = end;
        }
    }
    cairo_fill(cr);
    cairo_restore(cr);
}

void drawLabel(cairo_t* cr, const LabelLayout& l) {
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, 0, 0, l.widthDots, l.heightDots);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    drawQr(cr, l.qr);
    for (const auto& t : l.texts) {
        detail::selectFont(cr, t.font, t.bold, t.sizeDots);
        cairo_move_to(cr, t.x, t.baseline);
        cairo_show_text(cr, t.text.c_str());
    }
}

// Grey from an RGB24 surface; `threshold` makes it black and white as a thermal head prints.
Raster toRaster(cairo_surface_t* s, int dpi, bool threshold) {
    cairo_surface_flush(s);
    Raster r;
    r.width = cairo_image_surface_get_width(s);
    r.height = cairo_image_surface_get_height(s);
    r.dpi = dpi;
    r.pixels.resize(static_cast<std::size_t>(r.width) * static_cast<std::size_t>(r.height));
    const int stride = cairo_image_surface_get_stride(s);
    const unsigned char* data = cairo_image_surface_get_data(s);
    for (int y = 0; y < r.height; ++y) {
        const auto* row = reinterpret_cast<const std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
        for (int x = 0; x < r.width; ++x) {
            std::uint32_t p = row[x];
            auto grey = static_cast<std::uint8_t>((((p >> 16) & 0xff) + ((p >> 8) & 0xff) + (p & 0xff)) / 3);
            if (threshold) grey = grey < 128 ? 0 : 255;
            r.pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(r.width) + static_cast<std::size_t>(x)] = grey;
        }
    }
    return r;
}

}  // namespace

Result<std::vector<std::uint8_t>> renderPdf(const LabelLayout& l) {
    std::vector<std::uint8_t> out;
    const double wPt = l.widthMm * 72.0 / 25.4;
    const double hPt = l.heightMm * 72.0 / 25.4;
    {
        SurfacePtr surface(cairo_pdf_surface_create_for_stream(appendBytes, &out, wPt, hPt));
        ContextPtr cr(cairo_create(surface.get()));
        cairo_scale(cr.get(), 72.0 / l.dpi, 72.0 / l.dpi);
        drawLabel(cr.get(), l);
        cairo_show_page(cr.get());
        if (cairo_status_t st = cairo_status(cr.get()); st != CAIRO_STATUS_SUCCESS) {
            return detail::cairoFail(st, l.name + " label: rendering PDF");
        }
        cr.reset();
        cairo_surface_finish(surface.get());
        if (cairo_status_t st = cairo_surface_status(surface.get()); st != CAIRO_STATUS_SUCCESS) {
            return detail::cairoFail(st, l.name + " label: writing PDF");
        }
    }
    return out;
}

Result<Raster> renderRaster(const LabelLayout& l) {
    SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, l.widthDots, l.heightDots));
    ContextPtr cr(cairo_create(surface.get()));
    drawLabel(cr.get(), l);
    if (cairo_status_t st = cairo_status(cr.get()); st != CAIRO_STATUS_SUCCESS) {
        return detail::cairoFail(st, l.name + " label: rendering raster");
    }
    return toRaster(surface.get(), l.dpi, true);
}

Result<std::vector<std::uint8_t>> encodePng(const Raster& r) {
    SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, r.width, r.height));
    if (cairo_status_t st = cairo_surface_status(surface.get()); st != CAIRO_STATUS_SUCCESS) {
        return detail::cairoFail(st, "PNG: creating image");
    }
    cairo_surface_flush(surface.get());
    const int stride = cairo_image_surface_get_stride(surface.get());
    unsigned char* data = cairo_image_surface_get_data(surface.get());
    for (int y = 0; y < r.height; ++y) {
        auto* row = reinterpret_cast<std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
        for (int x = 0; x < r.width; ++x) {
            std::uint32_t g = r.at(x, y);
            row[x] = (g << 16) | (g << 8) | g;
        }
    }
    cairo_surface_mark_dirty(surface.get());
    std::vector<std::uint8_t> out;
    if (cairo_status_t st = cairo_surface_write_to_png_stream(surface.get(), appendBytes, &out);
        st != CAIRO_STATUS_SUCCESS) {
        return detail::cairoFail(st, "PNG: encoding");
    }
    return out;
}

Result<Raster> decodePng(const std::vector<std::uint8_t>& png, int dpi) {
    ByteReader cursor{&png, 0};
    SurfacePtr image(cairo_image_surface_create_from_png_stream(readBytes, &cursor));
    if (cairo_status_t st = cairo_surface_status(image.get()); st != CAIRO_STATUS_SUCCESS) {
        return failNative(Errc::invalidArgument, std::string("not a readable PNG: ") + cairo_status_to_string(st),
                          "cairo", static_cast<int>(st));
    }
    const int w = cairo_image_surface_get_width(image.get());
    const int h = cairo_image_surface_get_height(image.get());
    // Paint onto white, so transparent and alpha-only PNGs read as ink on paper.
    SurfacePtr flat(cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h));
    ContextPtr cr(cairo_create(flat.get()));
    cairo_set_source_rgb(cr.get(), 1, 1, 1);
    cairo_paint(cr.get());
    cairo_set_source_surface(cr.get(), image.get(), 0, 0);
    cairo_paint(cr.get());
    return toRaster(flat.get(), dpi, false);
}

}  // namespace tte::labels
