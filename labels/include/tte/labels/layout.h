// Places the QR code and the text lines of a label in printer dots: the module size is a
// whole number of dots, the quiet zone is kept clear, and every text line is measured with
// the font that will print it, so overlaps are found before anything is printed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/labels/label_content.h"
#include "tte/labels/label_template.h"

namespace tte::labels {

/// An axis-aligned rectangle in dots (x to the right, y down).
struct Rect {
    double x = 0;
    double y = 0;
    double w = 0;
    double h = 0;
    [[nodiscard]] double right() const { return x + w; }
    [[nodiscard]] double bottom() const { return y + h; }
    /// True if the interiors overlap (touching edges do not).
    [[nodiscard]] bool intersects(const Rect& o) const {
        return x < o.right() && o.x < right() && y < o.bottom() && o.y < bottom();
    }
    /// True if `o` lies inside this rectangle (edges included).
    [[nodiscard]] bool contains(const Rect& o) const {
        return o.x >= x && o.y >= y && o.right() <= right() && o.bottom() <= bottom();
    }
};

/// The QR code as printed: level H (draft 2), `modules`×`modules` modules of `moduleDots`
/// dots, top-left module at `origin`; `area` is the code with its quiet zone.
struct PlacedQr {
    int version = 0;
    int modules = 0;
    int moduleDots = 0;
    int quietZoneModules = 0;
    int originX = 0;
    int originY = 0;
    Rect area;
    std::vector<std::uint8_t> dark;  ///< modules*modules, row-major, 1 = dark
    [[nodiscard]] bool isDark(int row, int col) const {
        return dark[static_cast<std::size_t>(row) * static_cast<std::size_t>(modules) + static_cast<std::size_t>(col)] != 0;
    }
};

/// One text line as printed: baseline origin (`x`, `baseline`), size in dots, and the box
/// it covers (font ascent to descent, ink and advance width).
struct PlacedText {
    LabelField field = LabelField::text;
    std::string text;
    std::string font;
    bool bold = false;
    double sizeDots = 0;
    double x = 0;
    double top = 0;  ///< top of the line as the template places it
    double baseline = 0;
    double maxWidthDots = 0;
    Rect box;
};

/// A label ready to render (PDF, PNG, raster) or to write as ZPL.
struct LabelLayout {
    std::string name;
    int dpi = 0;
    double widthMm = 0;
    double heightMm = 0;
    int widthDots = 0;
    int heightDots = 0;
    Secret url;  ///< the data of the code
    PlacedQr qr;
    std::vector<PlacedText> texts;
};

/// Lays out a device label. Errors: invalidArgument (URL empty or over 512 bytes, a field
/// with a control character), outOfRange (the code does not fit the QR area at
/// minModuleDots: the message gives version, modules, dots available; a text line wider
/// than its room at its smallest size; a text line overlapping the code's quiet zone,
/// another line, or the label edge – each naming the field and the template line).
Result<LabelLayout> layoutDeviceLabel(const LabelTemplate& tmpl, const DeviceLabel& label);

/// Lays out a box label; errors as layoutDeviceLabel(), and invalidArgument when
/// first > last.
Result<LabelLayout> layoutBoxLabel(const LabelTemplate& tmpl, const BoxLabel& label);

/// mm to dots at `dpi`, rounded to the nearest dot.
int mmToDots(double mm, int dpi);

}  // namespace tte::labels
