// Thin RAII over sqlite3 statements for the journal; errors keep the SQLite code.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"

namespace tte::station::sql {

inline std::unexpected<Error> sqliteError(sqlite3* db, std::string_view what) {
    const int code = sqlite3_extended_errcode(db);
    return failNative(Errc::io, std::string("journal: ") + std::string(what) + ": " + sqlite3_errmsg(db), "SQLite",
                      code, sqlite3_errstr(code));
}

inline Status exec(sqlite3* db, const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        sqlite3_free(err);
        return sqliteError(db, sql);
    }
    return {};
}

class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) : m_db(db) { m_rc = sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr); }
    ~Stmt() { sqlite3_finalize(m_stmt); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    [[nodiscard]] bool ok() const { return m_rc == SQLITE_OK; }
    void bind(int i, std::int64_t v) { sqlite3_bind_int64(m_stmt, i, v); }
    void bind(int i, std::string_view v) {
        sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void bindNull(int i) { sqlite3_bind_null(m_stmt, i); }
    void bind(int i, std::optional<std::uint32_t> v) {
        if (v) bind(i, static_cast<std::int64_t>(*v)); else bindNull(i);
    }
    void bindBlob(int i, std::span<const std::uint8_t> v) {
        if (v.empty()) bindNull(i);
        else sqlite3_bind_blob(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    /// SQLITE_ROW, SQLITE_DONE or an error code.
    int step() { return sqlite3_step(m_stmt); }
    [[nodiscard]] std::int64_t integer(int c) const { return sqlite3_column_int64(m_stmt, c); }
    [[nodiscard]] bool isNull(int c) const { return sqlite3_column_type(m_stmt, c) == SQLITE_NULL; }
    [[nodiscard]] std::string text(int c) const {
        const auto* p = sqlite3_column_text(m_stmt, c);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, c)))
                 : std::string();
    }
    [[nodiscard]] std::vector<std::uint8_t> blob(int c) const {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(m_stmt, c));
        return p ? std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(m_stmt, c)) : std::vector<std::uint8_t>();
    }

private:
    sqlite3* m_db;
    sqlite3_stmt* m_stmt = nullptr;
    int m_rc;
};

/// Rolls back unless commit() was called.
class Transaction {
public:
    explicit Transaction(sqlite3* db) : m_db(db) { m_ok = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK; }
    ~Transaction() {
        if (m_ok && !m_done) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    [[nodiscard]] bool begun() const { return m_ok; }
    Status commit() {
        m_done = true;
        return exec(m_db, "COMMIT");
    }

private:
    sqlite3* m_db;
    bool m_ok = false;
    bool m_done = false;
};

}  // namespace tte::station::sql
