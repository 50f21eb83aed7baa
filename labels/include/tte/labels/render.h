// Renders a laid-out label with cairo: PDF (page size = label size, for CUPS), a
// monochrome raster at the printer's resolution (what a thermal printer prints, and what
// the scan-back decodes) and PNG of that raster (preview, GUI).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tte/base/error.h"
#include "tte/labels/layout.h"

namespace tte::labels {

/// An 8-bit grey image, row-major, one byte per pixel, 0 = black, 255 = white.
struct Raster {
    int width = 0;
    int height = 0;
    int dpi = 0;
    std::vector<std::uint8_t> pixels;
    [[nodiscard]] std::uint8_t at(int x, int y) const {
        return pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
    }
};

/// The label as a one-page PDF whose page is exactly the label (width × height mm).
/// Errors: internal (a cairo status, with its name in nativeName).
Result<std::vector<std::uint8_t>> renderPdf(const LabelLayout& layout);

/// The label as printed by a monochrome printer of the layout's dpi: every pixel black or
/// white, one pixel per printer dot. Errors: internal (cairo status).
Result<Raster> renderRaster(const LabelLayout& layout);

/// A raster as PNG bytes (8-bit grey). Errors: internal (cairo status).
Result<std::vector<std::uint8_t>> encodePng(const Raster& raster);

/// Renders a one-page PDF (a printed label document) at `dpi` in black and white, one pixel
/// per printer dot (poppler). Errors: corrupt (not a readable PDF, encrypted, not exactly one
/// page), invalidArgument (dpi outside 50–2400), internal (poppler could not render).
Result<Raster> rasterizePdf(std::span<const std::uint8_t> pdf, int dpi);

/// Reads a PNG (any format cairo reads) into a grey raster of the given dpi.
/// Errors: invalidArgument when the bytes are not a PNG cairo can read.
Result<Raster> decodePng(const std::vector<std::uint8_t>& png, int dpi);

}  // namespace tte::labels
