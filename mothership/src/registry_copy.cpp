// `tte-mothership admin copy`: the whole registry from its database into an empty PostgreSQL
// database, for a MotherShip that outgrows SQLite (admin.h; docs/OPERATIONS.md, "Moving the
// registry to PostgreSQL").
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <ostream>

#include "sql_db.h"
#include "sql_schema.h"
#include "sql_values.h"
#include "tte/mothership/admin.h"

namespace tte::mothership {
namespace {

/// One table of the registry as the copy moves it: every column, the first being the key the
/// rows are read in order of, and those that hold bytes in both databases (schema version 10).
struct CopiedTable {
    std::string name;
    std::string what;  ///< for the summary: "devices", "audit lines", …
    std::vector<std::string> columns;
    std::vector<std::string> bytes;

    [[nodiscard]] bool holdsBytes(const std::string& column) const {
        return std::find(bytes.begin(), bytes.end(), column) != bytes.end();
    }
};

/// The registry's tables at schema version kRegistrySchemaVersion, in the order they are
/// copied. checkColumns() refuses a database whose tables have a column that is not here.
const std::vector<CopiedTable>& copiedTables() {
    static const std::vector<CopiedTable> tables = {
        {"stations", "stations", {"name", "fingerprint", "cert_pem", "added_at"}, {}},
        {"lots", "lots", {"lot", "first_id", "last_id"}, {}},
        {"boxes", "boxes", {"box", "lot", "first_id", "last_id"}, {}},
        {"devices",
         "devices",
         {"devid", "urn", "fingerprint", "otp_hash", "lot", "box", "station", "record_id", "record_digest", "signature",
          "firmware_sha256", "created", "state", "cip", "cport", "cfingerprint", "description", "inserted_at",
          "updated_at", "failures", "mcu_uid", "revoked_at", "revoked_by", "revoke_reason", "reworked_from",
          "psk_wrapped", "cpsk_wrapped", "preenrolled_by"},
         {"fingerprint", "otp_hash", "record_digest", "firmware_sha256", "cfingerprint"}},
        {"audit", "audit lines", {"id", "at", "devid", "event", "client", "detail"}, {}},
        {"attempt_limits", "failure counts", {"subject", "failures", "window_start", "locked_until"}, {}},
    };
    return tables;
}

/// Rows per read of the source and per COPY into the target.
constexpr std::int64_t kPageRows = 10'000;

/// The column names of `table` in the database of `tx`.
Result<std::vector<std::string>> columnsOf(SqlTx& tx, SqlDialect dialect, const std::string& table) {
    auto rows = dialect == SqlDialect::sqlite
                    ? tx.query("SELECT name FROM pragma_table_info($1)", {table})
                    : tx.query("SELECT column_name FROM information_schema.columns"
                               " WHERE table_schema = current_schema() AND table_name = $1",
                               {table});
    if (!rows) return std::unexpected(rows.error());
    std::vector<std::string> out;
    for (const auto& r : *rows) out.push_back(r.at(0).value_or(""));
    return out;
}

/// Every column of each table in `tx`'s database is one the copy moves (SQLite's `room`, version
/// 11, has no counterpart: it holds nothing), and every column the copy moves is there. A
/// column added by a later schema version without this file knowing it would otherwise be lost
/// in the copy. Errors: internal, naming the table and the column.
Status checkColumns(SqlTx& tx, SqlDialect dialect, std::string_view where) {
    for (const auto& t : copiedTables()) {
        auto have = columnsOf(tx, dialect, t.name);
        if (!have) return std::unexpected(have.error());
        for (const auto& c : *have) {
            if (dialect == SqlDialect::sqlite && t.name == "devices" && c == "room") continue;
            if (std::find(t.columns.begin(), t.columns.end(), c) == t.columns.end())
                return fail(Errc::internal, "the " + std::string(where) + " registry's table " + t.name + " has a column " +
                                                c + " that admin copy does not know: nothing copied");
        }
        for (const auto& c : t.columns) {
            if (std::find(have->begin(), have->end(), c) == have->end())
                return fail(Errc::internal, "the " + std::string(where) + " registry's table " + t.name +
                                                " has no column " + c + ": nothing copied");
        }
    }
    return {};
}

Result<std::int64_t> countRows(SqlTx& tx, const std::string& table) {
    auto rows = tx.query("SELECT COUNT(*) FROM " + table, {});
    if (!rows) return std::unexpected(rows.error());
    return sql::toInt(rows->at(0).at(0));
}

/// The SELECT of one page of `t` in key order: the first page, or the one after key $1.
std::string pageSql(const CopiedTable& t, SqlDialect dialect, bool first) {
    std::string s = "SELECT ";
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
        if (i) s += ", ";
        s += t.holdsBytes(t.columns[i]) ? sql::hexOut(dialect, t.columns[i]) : t.columns[i];
    }
    s += " FROM " + t.name;
    if (!first) s += " WHERE " + t.columns[0] + " > $1";
    return s + " ORDER BY " + t.columns[0] + " LIMIT " + sql::num(kPageRows);
}

/// Progress lines: a table's count as it goes, at most one line every two seconds, and one
/// when it is done.
class Progress {
public:
    explicit Progress(std::ostream& out) : m_out(out) {}

    void start() { m_tableStart = m_last = std::chrono::steady_clock::now(); }

    void update(const CopiedTable& t, std::int64_t done, std::int64_t total) {
        const auto now = std::chrono::steady_clock::now();
        if (done < total && now - m_last < std::chrono::seconds(2)) return;
        m_last = now;
        const double seconds = std::chrono::duration<double>(now - m_tableStart).count();
        m_out << t.name << ": " << done << " of " << total;
        if (total > 0) m_out << " (" << done * 100 / total << " %)";
        if (done > 0 && seconds > 0.0)
            m_out << ", " << static_cast<std::int64_t>(static_cast<double>(done) / seconds) << " rows/s";
        m_out << std::endl;
    }

private:
    std::ostream& m_out;
    std::chrono::steady_clock::time_point m_tableStart, m_last;
};

/// Copies every row of `t` from `from` into `to`, page by page in key order. Returns how many.
Result<std::int64_t> copyTable(SqlTx& from, SqlDialect dialect, SqlTx& to, const CopiedTable& t, std::int64_t total,
                               Progress& progress) {
    std::vector<std::size_t> bytes;
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
        if (t.holdsBytes(t.columns[i])) bytes.push_back(i);
    }
    const std::string first = pageSql(t, dialect, true), next = pageSql(t, dialect, false);
    std::int64_t copied = 0;
    SqlValue last;
    progress.start();
    for (;;) {
        auto rows = last ? from.query(next, {last}) : from.query(first, {});
        if (!rows) return withContext(rows.error(), "reading " + t.name);
        if (rows->empty()) break;
        last = rows->back().at(0);
        for (auto& row : *rows) {
            for (std::size_t i : bytes) {
                if (row.at(i)) row[i] = "\\x" + *row[i];  // bytea's text form in COPY
            }
        }
        if (auto s = to.copyRows(t.name, t.columns, *rows); !s) return withContext(s.error(), "writing " + t.name);
        copied += static_cast<std::int64_t>(rows->size());
        progress.update(t, copied, std::max(total, copied));
        if (static_cast<std::int64_t>(rows->size()) < kPageRows) break;
    }
    if (copied == 0) progress.update(t, 0, total);
    return copied;
}

Result<std::unique_ptr<SqlDb>> openSource(const std::string& url, int sqliteCacheMib) {
    if (isPostgresUrl(url)) return openPostgres(url, 1);
    if (auto path = sqliteFileOf(url)) {
        std::error_code ec;
        if (!std::filesystem::exists(*path, ec)) return fail(Errc::notFound, "no registry at " + *path);
        return openSqlite(*path, 1, sqliteCacheMib);
    }
    return fail(Errc::invalidArgument, "admin copy reads a sqlite:///path or postgresql:// registry, not " + url);
}

/// The target holds nothing yet: fails with what it holds otherwise.
Status checkEmpty(SqlTx& tx, const std::string& url) {
    std::string held;
    for (const auto& t : copiedTables()) {
        auto n = countRows(tx, t.name);
        if (!n) return std::unexpected(n.error());
        if (*n > 0) held += (held.empty() ? "" : ", ") + t.what + " " + sql::num(*n);
    }
    if (!held.empty())
        return fail(Errc::alreadyExists, "refusing to copy into " + url + ", which holds a registry (" + held +
                                             "): copy only into an empty database");
    return {};
}

}  // namespace

Result<std::string> adminCopy(const std::string& fromUrl, const std::string& toUrl, std::ostream& progress,
                              int sqliteCacheMib) {
    if (!isPostgresUrl(toUrl))
        return fail(Errc::invalidArgument, "--to: the copy goes into a PostgreSQL database (postgresql://…), not " + toUrl);
    auto split = splitPostgresPassword(toUrl);
    if (!split) return std::unexpected(split.error());
    if (split->password)
        return fail(Errc::invalidArgument, "--to: a password in the URL would be visible to every user (ps): put it in "
                                           "~/.pgpass or in the file PGPASSFILE names, and leave it out of the URL");
    if (fromUrl == toUrl) return fail(Errc::invalidArgument, "--to names the registry's own database");
    auto source = openSource(fromUrl, sqliteCacheMib);
    if (!source) return std::unexpected(source.error());
    if (auto s = migrateSchema(**source); !s) return std::unexpected(s.error());
    auto target = openPostgres(toUrl, 1);
    if (!target) return withContext(target.error(), "--to " + toUrl);
    if (auto s = migrateSchema(**target); !s) return withContext(s.error(), "--to " + toUrl);

    const SqlDialect dialect = (*source)->dialect();
    const auto started = std::chrono::steady_clock::now();
    Progress lines(progress);
    std::string copiedSummary;
    // One transaction on the target (all or nothing) around one snapshot of the source.
    Status done = (*target)->write([&](SqlTx& to) -> Status {
        copiedSummary.clear();
        if (auto s = to.script("LOCK TABLE stations, lots, boxes, devices, audit, attempt_limits IN EXCLUSIVE MODE"); !s)
            return s;
        if (auto s = checkEmpty(to, toUrl); !s) return s;
        if (auto s = checkColumns(to, SqlDialect::postgresql, "target"); !s) return s;
        return (*source)->read([&](SqlTx& from) -> Status {
            if (dialect == SqlDialect::postgresql) {
                if (auto s = from.script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); !s) return s;
            }
            if (auto s = checkColumns(from, dialect, "source"); !s) return s;
            for (const auto& t : copiedTables()) {
                auto total = countRows(from, t.name);
                if (!total) return std::unexpected(total.error());
                auto copied = copyTable(from, dialect, to, t, *total, lines);
                if (!copied) return std::unexpected(copied.error());
                auto stored = countRows(to, t.name);
                if (!stored) return std::unexpected(stored.error());
                if (*copied != *total || *stored != *total)
                    return fail(Errc::internal, t.name + ": " + sql::num(*total) + " rows in the source, " +
                                                    sql::num(*copied) + " read, " + sql::num(*stored) +
                                                    " in the target: nothing copied");
                copiedSummary += (copiedSummary.empty() ? "" : ", ") + t.what + " " + sql::num(*total);
            }
            // The next audit line gets the id after the last one copied; then the planner's
            // statistics for tables that were empty when the server last looked.
            if (auto s = to.script("SELECT setval(pg_get_serial_sequence('audit', 'id'), MAX(id)) FROM audit;"
                                   "ANALYZE stations, lots, boxes, devices, audit, attempt_limits");
                !s)
                return s;
            return {};
        });
    });
    if (!done) return std::unexpected(done.error());
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
    return "copied into " + toUrl + " in " + sql::num(seconds.count()) + " s: " + copiedSummary;
}

}  // namespace tte::mothership
