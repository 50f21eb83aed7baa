// The small SQL seam the registry's SQL logic runs on: a transaction that runs statements
// with positional parameters ($1, $2, … in the text), and a database that runs read and
// write transactions. SQLite and PostgreSQL implement it; the registry's SQL is shared.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {

/// A parameter or a column: text, or NULL. Integers travel as decimal text.
using SqlValue = std::optional<std::string>;
using SqlRow = std::vector<SqlValue>;

enum class SqlDialect { sqlite, postgresql };

/// The registry's schema version this program writes (sql_schema.cpp migrates up to it).
inline constexpr std::int64_t kRegistrySchemaVersion = 13;

class SqlTx {
public:
    virtual ~SqlTx() = default;
    /// Runs a statement and returns its rows. Errors: io (with the native code),
    /// alreadyExists (unique constraint).
    virtual Result<std::vector<SqlRow>> query(std::string_view sql, const std::vector<SqlValue>& params) = 0;
    /// Runs a statement and returns the number of rows it changed. Errors as query().
    virtual Result<std::int64_t> exec(std::string_view sql, const std::vector<SqlValue>& params) = 0;
    /// Runs several statements without parameters (schema scripts). Errors: io.
    virtual Status script(std::string_view sql) = 0;
    /// Appends `rows` (values in the order of `columns`) to `table` the fastest way the
    /// database has: PostgreSQL COPY … FROM STDIN, SQLite one prepared INSERT run per row.
    /// For a bulk load into a staging table. Errors: io, alreadyExists (unique constraint).
    virtual Status copyRows(std::string_view table, const std::vector<std::string>& columns,
                            const std::vector<SqlRow>& rows) = 0;
};

class SqlDb {
public:
    virtual ~SqlDb() = default;
    [[nodiscard]] virtual SqlDialect dialect() const = 0;
    /// Runs fn in a read-only snapshot. Errors: whatever fn returns, io.
    virtual Status read(const std::function<Status(SqlTx&)>& fn) = 0;
    /// Runs one read-only statement on its own: its own snapshot, no transaction block around
    /// it (one round trip on PostgreSQL, where read() takes three). For the reads of one
    /// statement that every request makes. Errors: io, unavailable.
    Result<std::vector<SqlRow>> readOne(std::string_view sql, const std::vector<SqlValue>& params) {
        std::vector<SqlRow> rows;
        Status s = readAlone([&](SqlTx& tx) -> Status {
            auto r = tx.query(sql, params);
            if (!r) return std::unexpected(r.error());
            rows = std::move(*r);
            return {};
        });
        if (!s) return std::unexpected(s.error());
        return rows;
    }
    /// Runs fn atomically: when fn fails nothing of it stays; when this returns success
    /// the changes are committed durably. Errors: whatever fn returns, io.
    virtual Status write(const std::function<Status(SqlTx&)>& fn) = 0;
    /// write() without waiting: `done` gets the result once fn's changes are committed durably
    /// (or undone). By default the write runs at once on the caller's thread; SQLite queues it
    /// for the writer's next group commit and calls `done` on the writer thread, where it must
    /// not write to this database (the writer would wait for itself).
    virtual void writeAsync(std::function<Status(SqlTx&)> fn, std::function<void(Status)> done) { done(write(fn)); }
    /// Consistent copy while serving. Errors: unsupported, io.
    virtual Status backup(const std::string& path) = 0;
    /// The write-ahead log this process checkpoints itself (SQLite); none where the server does.
    [[nodiscard]] virtual std::optional<WalState> walState() const { return std::nullopt; }

protected:
    /// Runs `fn`, which makes one read-only statement, without a transaction block where the
    /// database allows it (readOne()); by default read().
    virtual Status readAlone(const std::function<Status(SqlTx&)>& fn) { return read(fn); }
};

/// SQLite at `path` (":memory:" allowed): WAL, synchronous=FULL, one writer thread with
/// group commit (write() and writeAsync() share it) whose page cache holds `writerCacheMib`
/// MiB, `readers` reader connections (SQLite's default cache), a checkpointer thread that tells
/// `warn` (when set) of its trouble (RegistryOptions::warn). Errors: io.
Result<std::unique_ptr<SqlDb>> openSqlite(const std::string& path, int readers, int writerCacheMib,
                                          std::function<void(const std::string&)> warn = {});

/// PostgreSQL at a libpq connection URI, with a pool of `connections`. Errors: unavailable, io.
Result<std::unique_ptr<SqlDb>> openPostgres(const std::string& uri, int connections);

/// A registry over any SqlDb; runs the schema migrations first. Errors: io.
Result<std::unique_ptr<Registry>> makeSqlRegistry(std::unique_ptr<SqlDb> db);

}  // namespace tte::mothership
