// Strict reading of the TOML configuration files (station.toml, labels.toml, mothership.toml,
// controller.toml): every key that no one asks for is an error, not a silent default, and every
// problem names the file, the line and the key – `station.toml:12: station.slot: unknown key
// (did you mean 'slots'?)` – so the person fixing it needs nothing but the file.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"

namespace tte::settings {

/// Whether a key must be present.
enum class Need { optional, required };

/// The problems found in one file, reported together (a person fixes them in one go).
class Problems {
public:
    explicit Problems(std::string file) : m_file(std::move(file)) {}

    /// Records `FILE:LINE: key: reason` (`FILE: key: reason` when line is 0).
    void add(int line, std::string_view key, std::string_view reason);
    [[nodiscard]] bool empty() const { return m_lines.empty(); }
    [[nodiscard]] const std::string& file() const { return m_file; }
    /// Ok, or invalidArgument whose message holds every problem, by line, one per text line.
    [[nodiscard]] Status status() const;

private:
    std::string m_file;
    std::vector<std::pair<int, std::string>> m_lines;
};

/// Parses TOML text. Errors: invalidArgument `FILE:LINE:COLUMN: syntax error: …`.
Result<toml::table> parse(std::string_view text, const std::string& file);
/// The whole file as text. Errors: io `PATH: cannot read the file`.
Result<std::string> readFile(const std::string& path);
/// Reads and parses a file; problems name it as `path` was given. Errors: io, invalidArgument.
Result<toml::table> parseFile(const std::string& path);

/// Reads the keys of one table. Each getter marks its key as known; finish() reports every key
/// of the table no getter asked for. A wrong type or a value out of range is recorded in
/// Problems and the getter returns nothing, so the caller reads on and keeps its default.
class TableReader {
public:
    /// `path` is the table's dotted name in messages ("" for the file's top level, "lot",
    /// "device.text[2]").
    TableReader(const toml::table& table, std::string path, Problems& problems);

    /// The line where the table starts (0 for the top level).
    [[nodiscard]] int line() const;
    [[nodiscard]] const std::string& path() const { return m_path; }

    std::optional<std::string> string(std::string_view key, Need need = Need::optional);
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max, Need need = Need::optional);
    std::optional<double> number(std::string_view key, double min, double max, Need need = Need::optional);
    std::optional<bool> boolean(std::string_view key, Need need = Need::optional);
    /// An array of strings.
    std::optional<std::vector<std::string>> strings(std::string_view key, Need need = Need::optional);
    /// A sub-table ([key]); read it with a TableReader of its own.
    const toml::table* table(std::string_view key, Need need = Need::optional);
    /// An array of tables ([[key]]).
    const toml::array* tables(std::string_view key, Need need = Need::optional);
    /// Marks `key` as known and returns it unchecked (nullptr when absent).
    const toml::node* node(std::string_view key);

    /// Records a problem with the value of `key` (at its line, or the table's when absent).
    void problem(std::string_view key, std::string_view reason);
    /// Reports each key no getter asked for: "unknown key" or "unknown table", with a "did you
    /// mean" among the keys that were asked for.
    void finish();

    /// `path.key`, as problems name it.
    [[nodiscard]] std::string name(std::string_view key) const;

private:
    const toml::node* get(std::string_view key, Need need, std::string_view what);
    void wrongType(const toml::node& n, std::string_view key, std::string_view expected);

    const toml::table& m_table;
    std::string m_path;
    Problems& m_problems;
    std::vector<std::string> m_known;
};

/// "a string", "an integer", … for messages.
std::string_view typeName(toml::node_type type);
/// The line of a node (0 when toml++ does not know it).
int lineOf(const toml::node& node);

}  // namespace tte::settings
