// PostgreSQL backend of the SQL seam over libpqxx 6.4: a fixed pool of connections, one
// transaction per registry call. Durability is PostgreSQL's own (synchronous_commit on):
// commit() returns after the WAL is flushed. Each connection prepares every statement text
// it runs once, so the server parses and plans a status lookup's statements once per
// connection instead of at every request.
#include <pqxx/pqxx>
#include <pqxx/tablewriter>

#include <cctype>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "sql_db.h"

namespace tte::mothership {
namespace {

/// libpq's text (an exception's what()) on one line, as every error of the registry is: its
/// lines (the message, DETAIL and HINT; a failed connection and its hint) joined by "; ",
/// without their indentation and the last newline.
std::string oneLine(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] != '\n') {
            out += text[i++];
            continue;
        }
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i < text.size() && !out.empty()) out += "; ";
    }
    while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
    return out;
}

/// A failure of libpq or libpqxx as the registry's error: `context`, ": " and its text on one
/// line (oneLine), in the domain PostgreSQL, with the SQLSTATE where the server gave one.
std::unexpected<Error> pgFailure(Errc code, std::string_view context, const std::exception& e,
                                 std::string sqlstate = {}) {
    return failNative(code, std::string(context) + ": " + oneLine(e.what()), "PostgreSQL", 0, std::move(sqlstate));
}

/// A pooled connection and the statements it has prepared, by text. The registry's texts are
/// a fixed set (a lockout read's text depends only on how many subjects it names), so the
/// cap only guards against a caller that builds texts from data: past it, statements run
/// unprepared.
struct PgConnection {
    static constexpr std::size_t kMaxPrepared = 512;
    std::unique_ptr<pqxx::connection> conn;
    std::unordered_map<std::string, std::string> prepared;  ///< text -> statement name
};

template <class Tx>
class PgTx final : public SqlTx {
public:
    PgTx(Tx& tx, PgConnection& conn) : m_tx(tx), m_conn(conn) {}

    Result<std::vector<SqlRow>> query(std::string_view sql, const std::vector<SqlValue>& params) override {
        auto r = run(sql, params);
        if (!r) return std::unexpected(r.error());
        std::vector<SqlRow> rows;
        rows.reserve(r->size());
        for (const auto& pgRow : *r) {
            SqlRow row;
            for (const auto& field : pgRow) {
                if (field.is_null()) row.emplace_back(std::nullopt);
                else row.emplace_back(std::string(field.c_str(), field.size()));
            }
            rows.push_back(std::move(row));
        }
        return rows;
    }

    Result<std::int64_t> exec(std::string_view sql, const std::vector<SqlValue>& params) override {
        auto r = run(sql, params);
        if (!r) return std::unexpected(r.error());
        return static_cast<std::int64_t>(r->affected_rows());
    }

    Status script(std::string_view sql) override {
        try {
            m_tx.exec(std::string(sql));
            return {};
        } catch (const std::exception& e) {
            return pgFailure(Errc::io, "SQL script", e);
        }
    }

    Status copyRows(std::string_view table, const std::vector<std::string>& columns,
                    const std::vector<SqlRow>& rows) override {
        try {
            // libpqxx 6.4's stream_to takes only tuples of a fixed size; tablewriter takes
            // lines in COPY's text format, which appendCopyLine() makes. Its constructors are
            // marked deprecated in 6.4 (7.x replaces them with stream_to::raw_table).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
            pqxx::tablewriter writer(m_tx, std::string(table), columns.begin(), columns.end());
#pragma GCC diagnostic pop
            // The rows go in chunks of about 256 KiB, each one CopyData message (COPY's
            // protocol lets a message hold any part of the data, PostgreSQL's "COPY
            // Operations"). write_raw_line() copies its argument and adds the newline; a
            // message per row was a send() of libpq every dozen rows (docs/MOTHERSHIP.md).
            constexpr std::size_t kChunk = 256 * 1024;
            std::string chunk;
            chunk.reserve(kChunk + 4096);
            for (const auto& row : rows) {
                appendCopyLine(row, chunk);
                if (chunk.size() >= kChunk) {
                    writer.write_raw_line(chunk);  // ends in '\n': it is taken off and put back
                    chunk.clear();
                }
            }
            if (!chunk.empty()) writer.write_raw_line(chunk);
            writer.complete();
            return {};
        } catch (const pqxx::unique_violation& e) {
            return pgFailure(Errc::alreadyExists, "COPY", e, e.sqlstate());
        } catch (const pqxx::sql_error& e) {
            return pgFailure(Errc::io, "COPY", e, e.sqlstate());
        } catch (const std::exception& e) {
            return pgFailure(Errc::unavailable, "COPY", e);
        }
    }

private:
    /// One row in COPY's text format appended to `out`, with its newline: tab-separated, NULL
    /// as \N, backslash, tab, newline and carriage return escaped.
    static void appendCopyLine(const SqlRow& row, std::string& out) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (i) out += '\t';
            if (!row[i]) {
                out += "\\N";
                continue;
            }
            std::string_view rest = *row[i];
            for (auto special = rest.find_first_of("\\\t\n\r"); special != std::string_view::npos;
                 special = rest.find_first_of("\\\t\n\r")) {
                out += rest.substr(0, special);
                switch (rest[special]) {
                    case '\\': out += "\\\\"; break;
                    case '\t': out += "\\t"; break;
                    case '\n': out += "\\n"; break;
                    default: out += "\\r"; break;
                }
                rest.remove_prefix(special + 1);
            }
            out += rest;
        }
        out += '\n';
    }

    Result<pqxx::result> run(std::string_view sql, const std::vector<SqlValue>& params) {
        std::vector<const char*> values;
        values.reserve(params.size());
        for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
        try {
            std::string text(sql);
            auto name = m_conn.prepared.find(text);
            if (name == m_conn.prepared.end() && m_conn.prepared.size() < PgConnection::kMaxPrepared) {
                std::string fresh = "tte_" + std::to_string(m_conn.prepared.size());
                m_conn.conn->prepare(fresh, text);  // sent to the server at its first use
                name = m_conn.prepared.emplace(std::move(text), std::move(fresh)).first;
            }
            if (name == m_conn.prepared.end()) return m_tx.exec_params(std::string(sql), pqxx::prepare::make_dynamic_params(values));
            return m_tx.exec_prepared(name->second, pqxx::prepare::make_dynamic_params(values));
        } catch (const pqxx::unique_violation& e) {
            return pgFailure(Errc::alreadyExists, "statement", e, e.sqlstate());
        } catch (const pqxx::sql_error& e) {
            return pgFailure(Errc::io, "statement", e, e.sqlstate());
        } catch (const std::exception& e) {
            return pgFailure(Errc::unavailable, "statement", e);
        }
    }

    Tx& m_tx;
    PgConnection& m_conn;
};

class PostgresDb final : public SqlDb {
public:
    PostgresDb(std::string uri, std::vector<PgConnection> pool)
        : m_uri(std::move(uri)), m_pool(std::move(pool)) {}

    [[nodiscard]] SqlDialect dialect() const override { return SqlDialect::postgresql; }

    Status read(const std::function<Status(SqlTx&)>& fn) override { return run<pqxx::read_transaction>(fn); }
    Status write(const std::function<Status(SqlTx&)>& fn) override { return run<pqxx::work>(fn); }
    // Autocommit: PostgreSQL runs a lone statement in its own snapshot; read()'s BEGIN READ
    // ONLY and COMMIT would be two more round trips (docs/MOTHERSHIP.md, "Scale").
    Status readAlone(const std::function<Status(SqlTx&)>& fn) override { return run<pqxx::nontransaction>(fn); }

    Status backup(const std::string&) override {
        return fail(Errc::unsupported, "backup of a PostgreSQL registry: use `tte-mothership admin backup`, which runs pg_dump");
    }

private:
    template <class Tx>
    Status run(const std::function<Status(SqlTx&)>& fn) {
        auto conn = acquire();
        if (!conn) return std::unexpected(conn.error());
        Status result;
        try {
            Tx tx(*conn->conn);
            PgTx<Tx> adapter(tx, *conn);
            result = fn(adapter);
            if (result) tx.commit();
        } catch (const pqxx::broken_connection& e) {
            result = pgFailure(Errc::unavailable, "PostgreSQL connection lost", e);
            conn->conn.reset();
        } catch (const pqxx::in_doubt_error& e) {
            result = pgFailure(Errc::unavailable, "PostgreSQL commit in doubt", e);
            conn->conn.reset();
        } catch (const std::exception& e) {
            result = pgFailure(Errc::io, "PostgreSQL", e);
        }
        release(std::move(*conn));
        return result;
    }

    Result<PgConnection> acquire() {
        PgConnection c;
        {
            std::unique_lock lock(m_mutex);
            m_free.wait(lock, [this] { return !m_pool.empty(); });
            c = std::move(m_pool.back());
            m_pool.pop_back();
        }
        if (c.conn && c.conn->is_open()) return c;
        try {  // reconnect a connection that was lost: it has prepared nothing yet
            return PgConnection{std::make_unique<pqxx::connection>(m_uri), {}};
        } catch (const std::exception& e) {
            release({});
            return pgFailure(Errc::unavailable, "PostgreSQL connect", e);
        }
    }

    void release(PgConnection c) {
        {
            std::lock_guard lock(m_mutex);
            m_pool.push_back(std::move(c));
        }
        m_free.notify_one();
    }

    std::string m_uri;
    std::mutex m_mutex;
    std::condition_variable m_free;
    std::vector<PgConnection> m_pool;
};

}  // namespace

Result<std::unique_ptr<SqlDb>> openPostgres(const std::string& uri, int connections) {
    std::vector<PgConnection> pool;
    try {
        for (int i = 0; i < std::max(1, connections); ++i) pool.push_back({std::make_unique<pqxx::connection>(uri), {}});
    } catch (const std::exception& e) {
        return pgFailure(Errc::unavailable, "PostgreSQL connect", e);
    }
    return std::make_unique<PostgresDb>(uri, std::move(pool));
}

}  // namespace tte::mothership
