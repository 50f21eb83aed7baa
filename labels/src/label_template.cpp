// Reads label templates from TOML (toml++). Every error names the file, the line, the
// table and the key, because the person fixing a template has only the file in front of them.
#include "tte/labels/label_template.h"

#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <toml++/toml.h>

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

std::string_view typeName(toml::node_type t) {
    switch (t) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a number";
        case toml::node_type::boolean: return "a boolean";
        default: return "a date/time";
    }
}

// Reads keys of one table; remembers the first error so callers read on without an `if`
// after every key and check once at the end.
class TableReader {
public:
    TableReader(const toml::table& table, std::string path, std::string_view source, std::optional<Error>& error)
        : m_table(table), m_path(std::move(path)), m_source(source), m_error(error) {}

    int line() const { return static_cast<int>(m_table.source().begin.line); }

    double number(std::string_view key, std::optional<double> def, double min, double max) {
        const toml::node* n = get(key, !def.has_value());
        if (n == nullptr) return def.value_or(0);
        auto v = n->value<double>();
        if (!n->is_number() || !v) return wrongType(*n, key, "a number"), 0;
        if (*v < min || *v > max) {
            std::ostringstream os;
            os << "must be between " << min << " and " << max << ", found " << *v;
            failAt(*n, key, os.str());
        }
        return *v;
    }

    int integer(std::string_view key, std::optional<int> def, int min, int max) {
        const toml::node* n = get(key, !def.has_value());
        if (n == nullptr) return def.value_or(0);
        if (!n->is_integer()) return wrongType(*n, key, "an integer"), 0;
        auto v = n->as_integer()->get();
        if (v < min || v > max) {
            failAt(*n, key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", found " +
                                std::to_string(v));
            return 0;
        }
        return static_cast<int>(v);
    }

    std::string string(std::string_view key, std::optional<std::string> def) {
        const toml::node* n = get(key, !def.has_value());
        if (n == nullptr) return def.value_or("");
        if (!n->is_string()) return wrongType(*n, key, "a string"), "";
        return n->as_string()->get();
    }

    bool boolean(std::string_view key, bool def) {
        const toml::node* n = get(key, false);
        if (n == nullptr) return def;
        if (!n->is_boolean()) return wrongType(*n, key, "a boolean"), false;
        return n->as_boolean()->get();
    }

    const toml::node* node(std::string_view key, bool required) { return get(key, required); }

    // Rejects keys nobody asked for: a misspelt key must not silently fall back to a default.
    void rejectUnknownKeys() {
        for (const auto& [k, v] : m_table) {
            if (!m_used.contains(std::string(k.str()))) {
                failLine(static_cast<int>(k.source().begin.line), "unknown key '" + std::string(k.str()) + "'");
                return;
            }
        }
    }

    void failAt(const toml::node& n, std::string_view key, const std::string& what) {
        failLine(static_cast<int>(n.source().begin.line), std::string(key) + ": " + what);
    }

    void failLine(int line, const std::string& what) {
        if (m_error) return;
        std::ostringstream os;
        os << m_source << ':' << line << ": [" << m_path << "] " << what;
        m_error = Error{Errc::invalidArgument, os.str(), "template", 0, {}};
    }

private:
    const toml::node* get(std::string_view key, bool required) {
        m_used.insert(std::string(key));
        const toml::node* n = m_table.get(key);
        if (n == nullptr && required) failLine(line(), "missing key '" + std::string(key) + "'");
        return n;
    }

    void wrongType(const toml::node& n, std::string_view key, std::string_view expected) {
        failAt(n, key, "expected " + std::string(expected) + ", found " + std::string(typeName(n.type())));
    }

    const toml::table& m_table;
    std::string m_path;
    std::string_view m_source;
    std::optional<Error>& m_error;
    std::set<std::string> m_used;
};

// A device label shows one Dev ID; a box label a range and a box number (draft 5.2).
bool fieldAllowed(std::string_view label, LabelField f) {
    if (label == "device") return f != LabelField::devIdRange && f != LabelField::box;
    return f != LabelField::devId;
}

TextSpec readText(TableReader& r, const LabelTemplate& t) {
    TextSpec s;
    s.line = r.line();
    std::string field = r.string("field", std::nullopt);
    if (auto f = fieldFromName(field)) {
        s.field = *f;
        if (!fieldAllowed(t.name, *f)) {
            r.failAt(*r.node("field", false), "field", "'" + field + "' is not shown on a " + t.name + " label");
        }
    } else if (const toml::node* n = r.node("field", false); n != nullptr && n->is_string()) {
        r.failAt(*n, "field",
                 "unknown field '" + field + "' (one of devid, devid_range, box, ms_host, lot, date, text)");
    }
    s.text = r.string("text", s.field == LabelField::text ? std::nullopt : std::optional<std::string>(""));
    if (s.field != LabelField::text && !s.text.empty()) {
        r.failAt(*r.node("text", false), "text", "only a field = \"text\" entry has fixed text");
    }
    s.prefix = r.string("prefix", "");
    s.xMm = r.number("x_mm", std::nullopt, 0, t.widthMm);
    s.yMm = r.number("y_mm", std::nullopt, 0, t.heightMm);
    s.maxWidthMm = r.number("max_width_mm", std::nullopt, 1, t.widthMm);
    s.font = r.string("font", "DejaVu Sans");
    s.bold = r.boolean("bold", false);
    s.sizePt = r.number("size_pt", std::nullopt, 3, 72);
    s.minSizePt = r.number("min_size_pt", s.sizePt, 3, 72);
    if (s.minSizePt > s.sizePt) r.failAt(*r.node("min_size_pt", false), "min_size_pt", "must not exceed size_pt");
    if (s.xMm + s.maxWidthMm > t.widthMm + 1e-9) {
        r.failLine(s.line, "x_mm + max_width_mm runs past the label's right edge");
    }
    r.rejectUnknownKeys();
    return s;
}

void readQr(TableReader& r, LabelTemplate& t) {
    t.qr.xMm = r.number("x_mm", std::nullopt, 0, t.widthMm);
    t.qr.yMm = r.number("y_mm", std::nullopt, 0, t.heightMm);
    t.qr.sizeMm = r.number("size_mm", std::nullopt, 5, std::min(t.widthMm, t.heightMm));
    if (t.qr.xMm + t.qr.sizeMm > t.widthMm + 1e-9 || t.qr.yMm + t.qr.sizeMm > t.heightMm + 1e-9) {
        r.failLine(r.line(), "the QR area runs past the label's edge");
    }
    r.rejectUnknownKeys();
}

std::optional<LabelTemplate> readLabel(const toml::table& root, std::string_view name, std::string_view source,
                                       std::optional<Error>& error) {
    const toml::node* node = root.get(name);
    if (node == nullptr || !node->is_table()) {
        int line = node != nullptr ? static_cast<int>(node->source().begin.line) : 1;
        error = Error{Errc::invalidArgument,
                      std::string(source) + ":" + std::to_string(line) + ": missing table [" + std::string(name) + "]",
                      "template", 0, {}};
        return std::nullopt;
    }
    TableReader r(*node->as_table(), std::string(name), source, error);
    LabelTemplate t;
    t.name = std::string(name);
    t.widthMm = r.number("width_mm", std::nullopt, 10, 300);
    t.heightMm = r.number("height_mm", std::nullopt, 10, 300);
    t.dpi = r.integer("dpi", std::nullopt, 100, 1200);
    t.quietZoneModules = r.integer("quiet_zone_modules", 4, 4, 16);  // ISO/IEC 18004: at least 4
    t.minModuleDots = r.integer("min_module_dots", 3, 1, 40);
    if (const toml::node* qr = r.node("qr", true); qr != nullptr && !error) {
        if (!qr->is_table()) {
            r.failAt(*qr, "qr", "expected a table");
        } else {
            TableReader q(*qr->as_table(), std::string(name) + ".qr", source, error);
            readQr(q, t);
        }
    }
    if (const toml::node* texts = r.node("text", true); texts != nullptr && !error) {
        const toml::array* arr = texts->as_array();
        if (arr == nullptr || !arr->is_array_of_tables() || arr->empty()) {
            r.failAt(*texts, "text", "expected one or more [[" + std::string(name) + ".text]] tables");
        } else {
            for (std::size_t i = 0; i < arr->size() && !error; ++i) {
                TableReader tr(*arr->get(i)->as_table(), std::string(name) + ".text", source, error);
                t.texts.push_back(readText(tr, t));
            }
        }
    }
    if (!error) r.rejectUnknownKeys();
    if (error) return std::nullopt;
    return t;
}

}  // namespace

Result<LabelTemplates> parseLabelTemplates(std::string_view text, std::string_view sourceName) {
    toml::table root;
    try {
        root = toml::parse(text, sourceName);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << sourceName << ':' << e.source().begin.line << ':' << e.source().begin.column << ": " << e.description();
        return failNative(Errc::invalidArgument, os.str(), "toml++", 0);
    }
    std::optional<Error> error;
    for (const auto& [k, v] : root) {
        if (k.str() != "device" && k.str() != "box") {
            return fail(Errc::invalidArgument, std::string(sourceName) + ":" + std::to_string(k.source().begin.line) +
                                                   ": unknown table [" + std::string(k.str()) +
                                                   "] (expected [device] and [box])");
        }
    }
    LabelTemplates out;
    auto device = readLabel(root, "device", sourceName, error);
    if (error) return std::unexpected(*error);
    auto box = readLabel(root, "box", sourceName, error);
    if (error) return std::unexpected(*error);
    out.device = std::move(*device);
    out.box = std::move(*box);
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
