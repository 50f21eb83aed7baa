// Writes a label as ZPL II. The code is the printer's own ^BQ QR code (model 2, level H),
// placed where the layout put the modules; text lines are clipped to their room with ^FB so
// that a printer font wider than DejaVu can never run into the code.
#include "tte/labels/zpl.h"

#include <cmath>
#include <cstdio>

namespace tte::labels {

namespace {

// ^FH hex escapes: ^ and ~ start commands, _ is the escape itself; non-ASCII as UTF-8 bytes.
std::string escapeField(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (c == '^' || c == '~' || c == '_' || c < 0x20 || c >= 0x7f) {
            char buf[4];
            std::snprintf(buf, sizeof buf, "_%02X", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

int dots(double v) { return static_cast<int>(std::lround(v)); }

}  // namespace

Result<std::string> renderZpl(const LabelLayout& l) {
    const int mag = l.qr.moduleDots;
    if (mag < 1 || mag > 10) {
        return fail(Errc::outOfRange, l.name + " label: module size " + std::to_string(mag) +
                                          " dots is outside ZPL ^BQ magnification 1-10");
    }
    for (unsigned char c : l.url.view()) {
        if (c == '^' || c == '~' || c < 0x20 || c >= 0x7f) {
            return fail(Errc::invalidArgument, l.name + " label: the URL holds a character ZPL ^FD cannot carry");
        }
    }
    std::string z;
    z += "^XA\n^CI28\n";
    z += "^PW" + std::to_string(l.widthDots) + "\n";
    z += "^LL" + std::to_string(l.heightDots) + "\n";
    z += "^LH0,0\n";
    // draft 2: level H. "HA," = error correction H, automatic data mode.
    z += "^FO" + std::to_string(l.qr.originX) + "," + std::to_string(l.qr.originY) + "^BQN,2," +
         std::to_string(mag) + ",H^FDHA,";
    z.append(l.url.view());
    z += "^FS\n";
    for (const auto& t : l.texts) {
        const int h = dots(t.sizeDots);
        z += "^FO" + std::to_string(dots(t.x)) + "," + std::to_string(dots(t.top)) + "^A0N," + std::to_string(h) +
             ",0^FB" + std::to_string(static_cast<int>(std::floor(t.maxWidthDots))) + ",1,0,L,0^FH_^FD" +
             escapeField(t.text) + "^FS\n";
    }
    z += "^PQ1\n^XZ\n";
    return z;
}

}  // namespace tte::labels
