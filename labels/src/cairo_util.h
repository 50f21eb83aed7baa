// Small RAII and font helpers around cairo, shared by layout (text measuring) and rendering,
// so that a text is measured with exactly the settings it is drawn with.
#pragma once

#include <memory>
#include <string>

#include <cairo.h>

#include "tte/base/error.h"

namespace tte::labels::detail {

struct SurfaceDeleter {
    void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
    void operator()(cairo_t* c) const { cairo_destroy(c); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;
using ContextPtr = std::unique_ptr<cairo_t, ContextDeleter>;

/// Selects the font with hinting off, so metrics are the same on every surface and scale.
inline void selectFont(cairo_t* cr, const std::string& family, bool bold, double sizeUser) {
    cairo_select_font_face(cr, family.c_str(), CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, sizeUser);
    cairo_font_options_t* opts = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(opts, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(opts, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_antialias(opts, CAIRO_ANTIALIAS_GRAY);
    cairo_set_font_options(cr, opts);
    cairo_font_options_destroy(opts);
}

/// An error for a cairo status, keeping the status as the native code.
inline std::unexpected<Error> cairoFail(cairo_status_t st, const std::string& what) {
    return failNative(Errc::internal, what + ": " + cairo_status_to_string(st), "cairo", static_cast<int>(st));
}

}  // namespace tte::labels::detail
