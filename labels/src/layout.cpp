// Lays out a label in printer dots: QR code (libqrencode, level H per draft 2) with whole-dot
// modules and its quiet zone, and text lines measured with cairo.
#include "tte/labels/layout.h"

#include <cmath>
#include <cstdio>
#include <memory>

#include <qrencode.h>

#include "cairo_util.h"
#include "tte/base/hex.h"
#include "tte/protocol/box.h"
#include "tte/protocol/enrollment_url.h"

namespace tte::labels {

int mmToDots(double mm, int dpi) { return static_cast<int>(std::lround(mm * dpi / 25.4)); }

namespace {

constexpr std::size_t kMaxUrlBytes = 512;
constexpr std::size_t kMaxFieldBytes = 128;

std::string fmt1(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

std::string where(const LabelTemplate& t, const TextSpec& s) {
    return t.name + " label, text '" + std::string(labelFieldName(s.field)) + "' (template line " +
           std::to_string(s.line) + ")";
}

struct QrDeleter {
    void operator()(QRcode* q) const { QRcode_free(q); }
};

Result<PlacedQr> placeQr(const LabelTemplate& t, const Secret& url) {
    if (url.empty() || url.size() > kMaxUrlBytes) {
        return fail(Errc::invalidArgument, t.name + " label: the URL must be 1 to 512 bytes, found " +
                                               std::to_string(url.size()));
    }
    std::string data(url.view());  // libqrencode wants a NUL-terminated string
    // draft 2: error correction level H. Case-sensitive, so the URL is encoded exactly.
    std::unique_ptr<QRcode, QrDeleter> code(QRcode_encodeString(data.c_str(), 0, QR_ECLEVEL_H, QR_MODE_8, 1));
    secureZero(data.data(), data.size());
    if (!code) {
        return failNative(Errc::outOfRange, t.name + " label: the URL does not fit any QR version at level H",
                          "libqrencode", errno);
    }
    PlacedQr qr;
    qr.version = code->version;
    qr.modules = code->width;
    qr.quietZoneModules = t.quietZoneModules;
    const int total = qr.modules + 2 * t.quietZoneModules;
    const int areaDots = static_cast<int>(std::floor(t.qr.sizeMm * t.dpi / 25.4));
    qr.moduleDots = areaDots / total;
    if (qr.moduleDots < t.minModuleDots) {
        return fail(Errc::outOfRange,
                    t.name + " label: the code (version " + std::to_string(qr.version) + ", " +
                        std::to_string(qr.modules) + " modules + 2x" + std::to_string(t.quietZoneModules) +
                        " quiet) needs " + std::to_string(total * t.minModuleDots) + " dots at " +
                        std::to_string(t.minModuleDots) + " dots per module; the QR area is " +
                        std::to_string(areaDots) + " dots (" + fmt1(t.qr.sizeMm) + " mm at " +
                        std::to_string(t.dpi) + " dpi)");
    }
    const int codeDots = total * qr.moduleDots;
    const int offset = (areaDots - codeDots) / 2;
    const int ax = mmToDots(t.qr.xMm, t.dpi) + offset;
    const int ay = mmToDots(t.qr.yMm, t.dpi) + offset;
    qr.area = Rect{double(ax), double(ay), double(codeDots), double(codeDots)};
    qr.originX = ax + t.quietZoneModules * qr.moduleDots;
    qr.originY = ay + t.quietZoneModules * qr.moduleDots;
    const auto n = static_cast<std::size_t>(qr.modules) * static_cast<std::size_t>(qr.modules);
    qr.dark.resize(n);
    for (std::size_t i = 0; i < n; ++i) qr.dark[i] = code->data[i] & 1U;
    return qr;
}

Status checkFieldText(const LabelTemplate& t, std::string_view name, const std::string& value) {
    if (value.size() > kMaxFieldBytes) {
        return fail(Errc::invalidArgument, t.name + " label: " + std::string(name) + " is longer than 128 bytes");
    }
    for (unsigned char c : value) {
        if (c < 0x20 || c == 0x7f) {
            return fail(Errc::invalidArgument, t.name + " label: " + std::string(name) + " contains a control character");
        }
    }
    return {};
}

// Measures `text` and shrinks it until it fits the spec's width, down to its minimum size.
Result<PlacedText> placeText(const LabelTemplate& t, const TextSpec& s, std::string text, cairo_t* cr) {
    const double dotsPerPt = t.dpi / 72.0;
    const double maxWidth = s.maxWidthMm * t.dpi / 25.4;
    double size = s.sizePt;
    cairo_text_extents_t te{};
    cairo_font_extents_t fe{};
    for (;;) {
        detail::selectFont(cr, s.font, s.bold, size * dotsPerPt);
        cairo_text_extents(cr, text.c_str(), &te);
        cairo_font_extents(cr, &fe);
        double width = std::max(te.x_advance, te.x_bearing + te.width);
        if (width <= maxWidth) break;
        if (size - 0.25 < s.minSizePt - 1e-9) {
            return fail(Errc::outOfRange, where(t, s) + ": \"" + text + "\" is " + fmt1(width * 25.4 / t.dpi) +
                                              " mm wide at " + fmt1(size) + " pt; the room is " +
                                              fmt1(s.maxWidthMm) + " mm");
        }
        size -= 0.25;
    }
    PlacedText p;
    p.field = s.field;
    p.text = std::move(text);
    p.font = s.font;
    p.bold = s.bold;
    p.sizeDots = size * dotsPerPt;
    p.maxWidthDots = maxWidth;
    p.x = s.xMm * t.dpi / 25.4;
    const double top = s.yMm * t.dpi / 25.4;
    p.top = top;
    p.baseline = top + fe.ascent;
    // The box covers the advance and the ink, rounded out to whole dots plus one dot for
    // anti-aliased edges that the printer's threshold may still blacken.
    const double left = std::floor(std::min(p.x, p.x + te.x_bearing)) - 1;
    const double right = std::ceil(std::max(p.x + te.x_advance, p.x + te.x_bearing + te.width)) + 1;
    const double bottom = std::ceil(std::max(top + fe.ascent + fe.descent, p.baseline + te.y_bearing + te.height)) + 1;
    const double boxTop = std::floor(std::min(top, p.baseline + te.y_bearing)) - 1;
    p.box = Rect{left, boxTop, right - left, bottom - boxTop};
    return p;
}

Status checkPlacement(const LabelTemplate& t, const TextSpec& s, const PlacedText& p, const LabelLayout& l) {
    const Rect label{0, 0, double(l.widthDots), double(l.heightDots)};
    if (!label.contains(p.box)) return fail(Errc::outOfRange, where(t, s) + ": runs past the label's edge");
    if (p.box.intersects(l.qr.area)) {
        return fail(Errc::outOfRange, where(t, s) + ": overlaps the QR code or its quiet zone");
    }
    for (const auto& other : l.texts) {
        if (p.box.intersects(other.box)) {
            return fail(Errc::outOfRange,
                        where(t, s) + ": overlaps text '" + std::string(labelFieldName(other.field)) + "'");
        }
    }
    return {};
}

struct FieldValues {
    std::string devId, devIdRange, box, msHost, lot, date;
};

std::string valueOf(const TextSpec& s, const FieldValues& v) {
    switch (s.field) {
        case LabelField::devId: return v.devId;
        case LabelField::devIdRange: return v.devIdRange;
        case LabelField::box: return v.box;
        case LabelField::msHost: return v.msHost;
        case LabelField::lot: return v.lot;
        case LabelField::date: return v.date;
        case LabelField::text: return s.text;
    }
    return {};
}

Result<LabelLayout> layout(const LabelTemplate& t, const Secret& url, const FieldValues& values) {
    for (auto [name, value] : {std::pair<std::string_view, const std::string*>{"MS host", &values.msHost},
                               {"lot", &values.lot},
                               {"date", &values.date}}) {
        if (auto st = checkFieldText(t, name, *value); !st) return std::unexpected(st.error());
    }
    LabelLayout l;
    l.name = t.name;
    l.dpi = t.dpi;
    l.widthMm = t.widthMm;
    l.heightMm = t.heightMm;
    l.widthDots = mmToDots(t.widthMm, t.dpi);
    l.heightDots = mmToDots(t.heightMm, t.dpi);
    auto qr = placeQr(t, url);
    if (!qr) return std::unexpected(qr.error());
    l.qr = std::move(*qr);
    l.url = url.clone();
    detail::SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1));
    detail::ContextPtr cr(cairo_create(surface.get()));
    for (const auto& s : t.texts) {
        auto p = placeText(t, s, s.prefix + valueOf(s, values), cr.get());
        if (!p) return std::unexpected(p.error());
        if (auto st = checkPlacement(t, s, *p, l); !st) return std::unexpected(st.error());
        l.texts.push_back(std::move(*p));
    }
    if (cairo_status_t st = cairo_status(cr.get()); st != CAIRO_STATUS_SUCCESS) {
        return detail::cairoFail(st, t.name + " label: measuring text");
    }
    return l;
}

// The text a person reads must say what the code says: a label with another device's Dev ID
// or another MotherShip's host would send the customer to the wrong device.
Status checkHost(const LabelTemplate& t, protocol::MsId urlMs, const std::string& msHost) {
    auto shown = protocol::parseMsHostName(msHost, protocol::MsIdUse::operational);
    if (!shown) return fail(Errc::invalidArgument, t.name + " label: " + shown.error().message);
    if (!(*shown == urlMs)) {
        return fail(Errc::invalidArgument, t.name + " label: the URL's host is " + protocol::msHostName(urlMs) +
                                               ", the label shows " + msHost);
    }
    return {};
}

Status checkDeviceUrl(const LabelTemplate& t, const DeviceLabel& label) {
    auto url = protocol::parseEnrollmentUrl(label.url.view());
    if (!url) return fail(Errc::invalidArgument, t.name + " label: " + url.error().message);
    if (url->devId.value != label.devId) {
        return fail(Errc::invalidArgument, t.name + " label: the URL is for Dev ID " + url->devId.hex() +
                                               ", the label shows " + toHex(label.devId, 8));
    }
    return checkHost(t, url->ms, label.msHost);
}

Status checkBoxUrl(const LabelTemplate& t, const BoxLabel& label) {
    auto url = protocol::parseBoxUrl(label.url.view());
    if (!url) return fail(Errc::invalidArgument, t.name + " label: " + url.error().message);
    if (url->first.value != label.firstDevId || url->last.value != label.lastDevId) {
        return fail(Errc::invalidArgument, t.name + " label: the URL is for Dev IDs " + url->first.hex() + "-" +
                                               url->last.hex() + ", the label shows " + toHex(label.firstDevId, 8) +
                                               "-" + toHex(label.lastDevId, 8));
    }
    return checkHost(t, url->ms, label.msHost);
}

}  // namespace

Result<LabelLayout> layoutDeviceLabel(const LabelTemplate& tmpl, const DeviceLabel& label) {
    if (auto st = checkDeviceUrl(tmpl, label); !st) return std::unexpected(st.error());
    FieldValues v;
    v.devId = toHex(label.devId, 8);
    v.msHost = label.msHost;
    v.lot = label.lot;
    v.date = label.date;
    return layout(tmpl, label.url, v);
}

Result<LabelLayout> layoutBoxLabel(const LabelTemplate& tmpl, const BoxLabel& label) {
    if (label.firstDevId > label.lastDevId) {
        return fail(Errc::invalidArgument, "box label: first Dev ID " + toHex(label.firstDevId, 8) +
                                               " is greater than last Dev ID " + toHex(label.lastDevId, 8));
    }
    if (auto st = checkBoxUrl(tmpl, label); !st) return std::unexpected(st.error());
    FieldValues v;
    v.devIdRange = toHex(label.firstDevId, 8) + "-" + toHex(label.lastDevId, 8);
    v.box = toHex(label.box, 8);
    v.msHost = label.msHost;
    v.lot = label.lot;
    v.date = label.date;
    return layout(tmpl, label.url, v);
}

}  // namespace tte::labels
