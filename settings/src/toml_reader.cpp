// TableReader and Problems (toml_reader.h).
#include "tte/settings/toml_reader.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tte/base/spelling.h"

namespace tte::settings {

std::string_view typeName(toml::node_type type) {
    switch (type) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a number";
        case toml::node_type::boolean: return "a boolean";
        default: return "a date/time";
    }
}

int lineOf(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

void Problems::add(int line, std::string_view key, std::string_view reason) {
    std::string text = m_file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + std::string(key) +
                       (key.empty() ? "" : ": ") + std::string(reason);
    m_lines.emplace_back(line, std::move(text));
}

Status Problems::status() const {
    if (m_lines.empty()) return {};
    auto sorted = m_lines;
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string message;
    for (const auto& [line, text] : sorted) message += (message.empty() ? "" : "\n") + text;
    return fail(Errc::invalidArgument, std::move(message));
}

Result<toml::table> parse(std::string_view text, const std::string& file) {
    try {
        return toml::parse(text, file);
    } catch (const toml::parse_error& e) {  // Debian's toml++ reports syntax errors by exception
        const auto& at = e.source().begin;
        return fail(Errc::invalidArgument, file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                                               ": syntax error: " + std::string(e.description()));
    }
}

Result<std::string> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::io, path + ": cannot read the file");
    std::stringstream text;
    text << in.rdbuf();
    if (in.bad()) return fail(Errc::io, path + ": cannot read the file");
    return text.str();
}

Result<toml::table> parseFile(const std::string& path) {
    auto text = readFile(path);
    if (!text) return std::unexpected(text.error());
    return parse(*text, path);
}

TableReader::TableReader(const toml::table& table, std::string path, Problems& problems)
    : m_table(table), m_path(std::move(path)), m_problems(problems) {}

int TableReader::line() const { return m_path.empty() ? 0 : lineOf(m_table); }  // the top level has no line of its own

std::string TableReader::name(std::string_view key) const {
    return m_path.empty() ? std::string(key) : m_path + "." + std::string(key);
}

const toml::node* TableReader::get(std::string_view key, Need need, std::string_view what) {
    if (std::find(m_known.begin(), m_known.end(), key) == m_known.end()) m_known.emplace_back(key);
    const toml::node* n = m_table.get(key);
    if (n == nullptr && need == Need::required) m_problems.add(line(), name(key), "required " + std::string(what) + " is missing");
    return n;
}

void TableReader::wrongType(const toml::node& n, std::string_view key, std::string_view expected) {
    m_problems.add(lineOf(n), name(key), "expected " + std::string(expected) + ", found " + std::string(typeName(n.type())));
}

std::optional<std::string> TableReader::string(std::string_view key, Need need) {
    const toml::node* n = get(key, need, "key");
    if (n == nullptr) return std::nullopt;
    if (!n->is_string()) return wrongType(*n, key, "a string"), std::nullopt;
    return n->as_string()->get();
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min, std::int64_t max, Need need) {
    const toml::node* n = get(key, need, "key");
    if (n == nullptr) return std::nullopt;
    if (!n->is_integer()) return wrongType(*n, key, "an integer"), std::nullopt;
    const std::int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
        m_problems.add(lineOf(*n), name(key),
                       "must be " + std::to_string(min) + " to " + std::to_string(max) + ", not " + std::to_string(v));
        return std::nullopt;
    }
    return v;
}

std::optional<double> TableReader::number(std::string_view key, double min, double max, Need need) {
    const toml::node* n = get(key, need, "key");
    if (n == nullptr) return std::nullopt;
    auto v = n->value<double>();
    if (!n->is_number() || !v) return wrongType(*n, key, "a number"), std::nullopt;
    if (*v < min || *v > max) {
        std::ostringstream os;
        os << "must be " << min << " to " << max << ", not " << *v;
        m_problems.add(lineOf(*n), name(key), os.str());
        return std::nullopt;
    }
    return *v;
}

std::optional<bool> TableReader::boolean(std::string_view key, Need need) {
    const toml::node* n = get(key, need, "key");
    if (n == nullptr) return std::nullopt;
    if (!n->is_boolean()) return wrongType(*n, key, "true or false"), std::nullopt;
    return n->as_boolean()->get();
}

std::optional<std::vector<std::string>> TableReader::strings(std::string_view key, Need need) {
    const toml::node* n = get(key, need, "key");
    if (n == nullptr) return std::nullopt;
    if (!n->is_array()) return wrongType(*n, key, "an array of strings"), std::nullopt;
    std::vector<std::string> out;
    for (const auto& e : *n->as_array()) {
        if (!e.is_string()) return wrongType(e, key, "an array of strings"), std::nullopt;
        out.push_back(e.as_string()->get());
    }
    return out;
}

const toml::table* TableReader::table(std::string_view key, Need need) {
    const toml::node* n = get(key, need, "table");
    if (n == nullptr) return nullptr;
    if (!n->is_table()) return wrongType(*n, key, "a table"), nullptr;
    return n->as_table();
}

const toml::array* TableReader::tables(std::string_view key, Need need) {
    const toml::node* n = get(key, need, "table");
    if (n == nullptr) return nullptr;
    if (!n->is_array_of_tables()) return wrongType(*n, key, "an array of tables ([[" + name(key) + "]])"), nullptr;
    return n->as_array();
}

const toml::node* TableReader::node(std::string_view key) { return get(key, Need::optional, "key"); }

void TableReader::problem(std::string_view key, std::string_view reason) {
    const toml::node* n = m_table.get(key);
    m_problems.add(n != nullptr ? lineOf(*n) : line(), name(key), reason);
}

void TableReader::finish() {
    for (const auto& [k, v] : m_table) {
        const std::string key(k.str());
        if (std::find(m_known.begin(), m_known.end(), key) != m_known.end()) continue;
        const int line = k.source().begin.line > 0 ? static_cast<int>(k.source().begin.line) : lineOf(v);
        m_problems.add(line, name(key), std::string(v.is_table() ? "unknown table" : "unknown key") + didYouMean(key, m_known));
    }
}

}  // namespace tte::settings
