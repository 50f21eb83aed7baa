// Reads label templates from TOML strictly (tte::settings). Every problem names the file, the
// line and the key, because the person fixing a template has only the file in front of them.
#include "tte/labels/label_template.h"

#include <fstream>
#include <algorithm>
#include <optional>
#include <sstream>

#include "tte/settings/toml_reader.h"

namespace tte::labels {

std::string_view labelFieldName(LabelField field) {
    switch (field) {
        case LabelField::devId: return "devid";
        case LabelField::devIdRange: return "devid_range";
        case LabelField::box: return "box";
        case LabelField::msHost: return "ms_host";
        case LabelField::lot: return "lot";
        case LabelField::date: return "date";
        case LabelField::text: return "text";
    }
    return "?";
}

namespace {

std::optional<LabelField> fieldFromName(std::string_view name) {
    for (auto f : {LabelField::devId, LabelField::devIdRange, LabelField::box, LabelField::msHost, LabelField::lot,
                   LabelField::date, LabelField::text}) {
        if (labelFieldName(f) == name) return f;
    }
    return std::nullopt;
}

using settings::Need;

/// settings::TableReader with the defaults the template format gives its optional keys.
class TableReader : public settings::TableReader {
public:
    using settings::TableReader::TableReader;

    double number(std::string_view key, std::optional<double> def, double min, double max) {
        auto v = settings::TableReader::number(key, min, max, def ? Need::optional : Need::required);
        return v.value_or(def.value_or(0));
    }
    int integer(std::string_view key, std::optional<int> def, int min, int max) {
        auto v = settings::TableReader::integer(key, min, max, def ? Need::optional : Need::required);
        return static_cast<int>(v.value_or(def.value_or(0)));
    }
    std::string string(std::string_view key, std::optional<std::string> def) {
        return settings::TableReader::string(key, def ? Need::optional : Need::required).value_or(def.value_or(""));
    }
    bool boolean(std::string_view key, bool def) { return settings::TableReader::boolean(key).value_or(def); }
};

/// A bound that depends on another key: the key's value, or `fallback` while that key is bad.
double orElse(double value, double fallback) { return value > 0 ? value : fallback; }

// A device label shows one Dev ID; a box label a range and a box number (draft 5.2).
bool fieldAllowed(std::string_view label, LabelField f) {
    if (label == "device") return f != LabelField::devIdRange && f != LabelField::box;
    return f != LabelField::devId;
}

TextSpec readText(TableReader& r, const LabelTemplate& t) {
    TextSpec s;
    s.line = r.line();
    const double width = orElse(t.widthMm, 300), height = orElse(t.heightMm, 300);
    std::string field = r.string("field", std::nullopt);
    const auto known = fieldFromName(field);
    if (auto f = known) {
        s.field = *f;
        if (!fieldAllowed(t.name, *f)) r.problem("field", "'" + field + "' is not shown on a " + t.name + " label");
    } else if (const toml::node* n = r.node("field"); n != nullptr && n->is_string()) {
        r.problem("field", "unknown field '" + field + "' (one of devid, devid_range, box, ms_host, lot, date, text)");
    }
    s.text = r.string("text", known == LabelField::text ? std::nullopt : std::optional<std::string>(""));
    if (s.field != LabelField::text && !s.text.empty()) r.problem("text", "only a field = \"text\" entry has fixed text");
    s.prefix = r.string("prefix", "");
    s.xMm = r.number("x_mm", std::nullopt, 0, width);
    s.yMm = r.number("y_mm", std::nullopt, 0, height);
    s.maxWidthMm = r.number("max_width_mm", std::nullopt, 1, width);
    s.font = r.string("font", "DejaVu Sans");
    s.bold = r.boolean("bold", false);
    s.sizePt = r.number("size_pt", std::nullopt, 3, 72);
    s.minSizePt = r.number("min_size_pt", s.sizePt, 3, 72);
    if (s.minSizePt > s.sizePt) r.problem("min_size_pt", "must not exceed size_pt");
    if (t.widthMm > 0 && s.xMm + s.maxWidthMm > t.widthMm + 1e-9)
        r.problem("max_width_mm", "x_mm + max_width_mm runs past the label's right edge");
    // The code's module size, and so its printed size, depends on the URL; a text room that
    // reaches into the QR area would collide with some codes and not others, so it is refused
    // here, whatever the data.
    const double textHeightMm = s.sizePt * 25.4 / 72.0;
    if (t.qr.sizeMm > 0 && s.xMm < t.qr.xMm + t.qr.sizeMm - 1e-9 && s.xMm + s.maxWidthMm > t.qr.xMm + 1e-9 &&
        s.yMm < t.qr.yMm + t.qr.sizeMm - 1e-9 && s.yMm + textHeightMm > t.qr.yMm + 1e-9)
        r.problem("x_mm", "the text's room (x_mm to x_mm + max_width_mm) reaches into the QR area");
    r.finish();
    return s;
}

void readQr(TableReader& r, LabelTemplate& t) {
    const double width = orElse(t.widthMm, 300), height = orElse(t.heightMm, 300);
    t.qr.xMm = r.number("x_mm", std::nullopt, 0, width);
    t.qr.yMm = r.number("y_mm", std::nullopt, 0, height);
    t.qr.sizeMm = r.number("size_mm", std::nullopt, 5, std::min(width, height));
    if (t.widthMm > 0 && t.heightMm > 0 &&
        (t.qr.xMm + t.qr.sizeMm > t.widthMm + 1e-9 || t.qr.yMm + t.qr.sizeMm > t.heightMm + 1e-9))
        r.problem("size_mm", "the QR area runs past the label's edge");
    r.finish();
}

LabelTemplate readLabel(const toml::table& table, std::string_view name, settings::Problems& problems) {
    TableReader r(table, std::string(name), problems);
    LabelTemplate t;
    t.name = std::string(name);
    t.widthMm = r.number("width_mm", std::nullopt, 10, 300);
    t.heightMm = r.number("height_mm", std::nullopt, 10, 300);
    t.dpi = r.integer("dpi", std::nullopt, 100, 1200);
    t.quietZoneModules = r.integer("quiet_zone_modules", 4, 4, 16);  // ISO/IEC 18004: at least 4
    t.minModuleDots = r.integer("min_module_dots", 3, 1, 40);
    if (const toml::table* qr = r.table("qr", Need::required)) {
        TableReader q(*qr, r.name("qr"), problems);
        readQr(q, t);
    }
    if (const toml::array* texts = r.tables("text", Need::required)) {
        if (texts->empty()) r.problem("text", "expected one or more [[" + r.name("text") + "]] tables");
        for (std::size_t i = 0; i < texts->size(); ++i) {
            TableReader tr(*texts->get(i)->as_table(), r.name("text") + "[" + std::to_string(i) + "]", problems);
            t.texts.push_back(readText(tr, t));
        }
    }
    r.finish();
    return t;
}

}  // namespace

Result<LabelTemplates> parseLabelTemplates(std::string_view text, std::string_view sourceName) {
    const std::string file(sourceName);
    auto root = settings::parse(text, file);
    if (!root) return std::unexpected(root.error());
    settings::Problems problems(file);
    settings::TableReader top(*root, "", problems);
    LabelTemplates out;
    if (const toml::table* device = top.table("device", Need::required)) out.device = readLabel(*device, "device", problems);
    if (const toml::table* box = top.table("box", Need::required)) out.box = readLabel(*box, "box", problems);
    top.finish();
    if (auto s = problems.status(); !s) return std::unexpected(s.error());
    return out;
}

Result<LabelTemplates> loadLabelTemplates(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::error_code ec;
        bool exists = std::filesystem::exists(path, ec);
        return fail(exists ? Errc::io : Errc::notFound,
                    "cannot read label templates " + path.string() + (exists ? "" : ": no such file"));
    }
    std::ostringstream content;
    content << in.rdbuf();
    return parseLabelTemplates(content.str(), path.string());
}

}  // namespace tte::labels
