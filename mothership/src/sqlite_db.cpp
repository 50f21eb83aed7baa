// SQLite backend of the SQL seam: WAL with synchronous=FULL (a commit survives power loss),
// one writer thread that commits every queued write of a round in one transaction (group
// commit, each write in its own savepoint so one failure spoils nothing else), and a pool
// of reader connections that read in parallel with the writer. The write-ahead log is copied
// back into the database file by a checkpointer thread of its own (sqlite_checkpointer.h), so
// that no commit waits for those writes (at millions of devices they land at random places of
// a large file).
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <iterator>
#include <memory>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "sql_db.h"
#include "sqlite_checkpointer.h"
#include "sqlite_unhex.h"

namespace tte::mothership {
namespace {

std::unexpected<Error> sqliteError(sqlite3* db, int rc, std::string_view what) {
    const int ext = db ? sqlite3_extended_errcode(db) : rc;
    const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const bool unique = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY;
    return failNative(unique ? Errc::alreadyExists : Errc::io, std::string(what) + ": " + msg, "SQLite", ext,
                      sqlite3_errstr(ext));
}

/// `$1` → `?1`: the shared SQL is written with PostgreSQL's placeholders.
std::string toSqlitePlaceholders(std::string_view sql) {
    std::string out(sql);
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
        if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
    }
    return out;
}

class Connection final : public SqlTx {
public:
    explicit Connection(sqlite3* db) : m_db(db) {}
    ~Connection() override {
        for (auto& [sql, stmt] : m_cache) sqlite3_finalize(stmt);
        sqlite3_close_v2(m_db);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    sqlite3* handle() { return m_db; }

    Result<std::vector<SqlRow>> query(std::string_view sql, const std::vector<SqlValue>& params) override {
        auto stmt = prepare(sql, params);
        if (!stmt) return std::unexpected(stmt.error());
        std::vector<SqlRow> rows;
        for (;;) {
            const int rc = sqlite3_step(*stmt);
            if (rc == SQLITE_DONE) break;
            if (rc != SQLITE_ROW) {
                sqlite3_reset(*stmt);
                return sqliteError(m_db, rc, "query");
            }
            SqlRow row;
            const int n = sqlite3_column_count(*stmt);
            for (int c = 0; c < n; ++c) {
                if (sqlite3_column_type(*stmt, c) == SQLITE_NULL) {
                    row.emplace_back(std::nullopt);
                } else {
                    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(*stmt, c));
                    row.emplace_back(std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(*stmt, c))));
                }
            }
            rows.push_back(std::move(row));
        }
        sqlite3_reset(*stmt);
        return rows;
    }

    Result<std::int64_t> exec(std::string_view sql, const std::vector<SqlValue>& params) override {
        auto stmt = prepare(sql, params);
        if (!stmt) return std::unexpected(stmt.error());
        int rc;
        while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
        }
        sqlite3_reset(*stmt);
        if (rc != SQLITE_DONE) return sqliteError(m_db, rc, "statement");
        return static_cast<std::int64_t>(sqlite3_changes64(m_db));
    }

    Status script(std::string_view sql) override {
        const std::string text(sql);
        char* err = nullptr;
        const int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &err);
        if (rc != SQLITE_OK) {
            std::string msg = err ? err : sqlite3_errstr(rc);
            sqlite3_free(err);
            return failNative(Errc::io, "SQL script: " + msg, "SQLite", rc, sqlite3_errstr(rc));
        }
        return {};
    }

    Status copyRows(std::string_view table, const std::vector<std::string>& columns,
                    const std::vector<SqlRow>& rows) override {
        std::string sql = "INSERT INTO " + std::string(table) + " (";
        std::string values;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            sql += (i ? ", " : "") + columns[i];
            values += (i ? ", $" : "$") + std::to_string(i + 1);
        }
        sql += ") VALUES (" + values + ")";
        auto stmt = prepare(sql, {});
        if (!stmt) return std::unexpected(stmt.error());
        for (const auto& row : rows) {
            // The row outlives the step: SQLite reads its text in place (SQLITE_STATIC).
            if (auto b = bind(*stmt, row, SQLITE_STATIC); !b) return std::unexpected(b.error());
            const int rc = sqlite3_step(*stmt);
            sqlite3_reset(*stmt);
            if (rc != SQLITE_DONE) return sqliteError(m_db, rc, "insert into " + std::string(table));
        }
        return {};
    }

private:
    Result<sqlite3_stmt*> prepare(std::string_view sql, const std::vector<SqlValue>& params) {
        std::string key(sql);
        auto it = m_cache.find(key);
        sqlite3_stmt* stmt = nullptr;
        if (it == m_cache.end()) {
            const std::string text = toSqlitePlaceholders(sql);
            const int rc = sqlite3_prepare_v3(m_db, text.c_str(), static_cast<int>(text.size()),
                                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
            if (rc != SQLITE_OK) return sqliteError(m_db, rc, "prepare");
            m_cache.emplace(std::move(key), stmt);
        } else {
            stmt = it->second;
        }
        if (auto b = bind(stmt, params, SQLITE_TRANSIENT); !b) return std::unexpected(b.error());
        return stmt;
    }

    Status bind(sqlite3_stmt* stmt, const std::vector<SqlValue>& params, sqlite3_destructor_type lifetime) {
        sqlite3_clear_bindings(stmt);
        for (std::size_t i = 0; i < params.size(); ++i) {
            const int index = static_cast<int>(i + 1);
            const int rc = params[i] ? sqlite3_bind_text(stmt, index, params[i]->data(), static_cast<int>(params[i]->size()), lifetime)
                                     : sqlite3_bind_null(stmt, index);
            if (rc != SQLITE_OK) return sqliteError(m_db, rc, "bind");
        }
        return {};
    }

    sqlite3* m_db;
    std::unordered_map<std::string, sqlite3_stmt*> m_cache;
};

/// `cacheMib` > 0: the writer (its page cache); 0: a reader (SQLite's default cache, read-only);
/// < 0: the checkpointer (syncs the database file before the log is started again).
Result<std::unique_ptr<Connection>> openConnection(const std::string& path, int cacheMib) {
    const bool writer = cacheMib > 0;
    sqlite3* db = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        auto e = sqliteError(db, rc, "open " + path);
        sqlite3_close_v2(db);
        return e;
    }
    auto conn = std::make_unique<Connection>(db);
    sqlite3_busy_timeout(db, 10000);
    // The registry's SQL stores hex as bytes with unhex() (sqlite_unhex.h).
    if (const int fn = registerUnhex(db); fn != SQLITE_OK) return sqliteError(db, fn, "register unhex()");
    // The writer's cache: a negative cache_size is KiB. SQLite's default (2 MiB) makes every
    // insert at a random place of a large index read its page from the file and spill it
    // again before the commit (docs/MOTHERSHIP.md, "Scale").
    const std::string pragmas =
        writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-" +
                     std::to_string(static_cast<std::int64_t>(cacheMib) * 1024) + ";"
        : cacheMib < 0 ? "PRAGMA synchronous=FULL;"
                       : "PRAGMA query_only=ON;";
    if (auto s = conn->script(pragmas); !s) return std::unexpected(s.error());
    return conn;
}

class SqliteDb final : public SqlDb {
public:
    /// `checkpointer`: the connection that checkpoints the log; none for ":memory:" (no log).
    SqliteDb(std::string path, std::unique_ptr<Connection> writer, std::vector<std::unique_ptr<Connection>> readers,
             std::unique_ptr<Connection> checkpointer, std::function<void(const std::string&)> warn)
        : m_path(std::move(path)), m_writer(std::move(writer)), m_readers(std::move(readers)),
          m_checkpointConnection(std::move(checkpointer)) {
        for (auto& r : m_readers) m_idle.push_back(r.get());
        if (m_checkpointConnection) {
            m_checkpointer = std::make_unique<SqliteCheckpointer>(m_checkpointConnection->handle(), m_path, std::move(warn));
            // Replaces SQLite's automatic checkpoint, which would run inside the commit.
            sqlite3_wal_hook(m_writer->handle(), &SqliteDb::onCommitted, this);
        }
        m_thread = std::thread([this] { writerLoop(); });
    }
    ~SqliteDb() override {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_wake.notify_all();
        m_thread.join();  // the loop drains every queued write before it ends
        m_checkpointer.reset();
        // The last connection to close copies what is left of the log into the file.
    }
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;

    [[nodiscard]] SqlDialect dialect() const override { return SqlDialect::sqlite; }

    Status read(const std::function<Status(SqlTx&)>& fn) override {
        if (m_readers.empty()) return write(fn);  // ":memory:" has one connection
        Connection* conn = acquireReader();
        // Prepared once per connection, as every statement (script() would parse them each time).
        auto begun = conn->exec("BEGIN", {});
        Status result = begun ? Status{} : Status(std::unexpected(begun.error()));
        if (result) {
            result = fn(*conn);
            (void)conn->exec("COMMIT", {});
        }
        releaseReader(conn);
        return result;
    }

    Status write(const std::function<Status(SqlTx&)>& fn) override {
        std::promise<Status> result;
        auto done = result.get_future();
        enqueue(std::make_unique<Job>(Job{&fn, {}, [&result](Status s) { result.set_value(std::move(s)); }}));
        return done.get();
    }

    // One statement in autocommit mode is its own read transaction, over when the statement is
    // reset (query() does): the same snapshot read() gives it, without its BEGIN and COMMIT.
    Status readAlone(const std::function<Status(SqlTx&)>& fn) override {
        if (m_readers.empty()) return write(fn);
        Connection* conn = acquireReader();
        Status result = fn(*conn);
        releaseReader(conn);
        return result;
    }

    void writeAsync(std::function<Status(SqlTx&)> fn, std::function<void(Status)> done) override {
        auto job = std::make_unique<Job>(Job{nullptr, std::move(fn), std::move(done)});
        job->fn = &job->owned;
        enqueue(std::move(job));
    }

    Status backup(const std::string& path) override {
        auto src = openConnection(m_path, 0);
        if (!src) return std::unexpected(src.error());
        sqlite3* dst = nullptr;
        int rc = sqlite3_open(path.c_str(), &dst);
        if (rc != SQLITE_OK) {
            auto e = sqliteError(dst, rc, "open backup " + path);
            sqlite3_close(dst);
            return e;
        }
        sqlite3_backup* b = sqlite3_backup_init(dst, "main", (*src)->handle(), "main");
        if (!b) {
            auto e = sqliteError(dst, sqlite3_errcode(dst), "backup");
            sqlite3_close(dst);
            return e;
        }
        rc = sqlite3_backup_step(b, -1);  // all pages in one step: one consistent snapshot
        sqlite3_backup_finish(b);
        Status result;
        if (rc != SQLITE_DONE) result = sqliteError(dst, rc, "backup");
        sqlite3_close(dst);
        return result;
    }

    [[nodiscard]] std::optional<WalState> walState() const override {
        if (!m_checkpointer) return std::nullopt;
        return m_checkpointer->state();
    }

private:
    /// One write: its statements (the caller's, or `owned` for writeAsync()) and who waits.
    struct Job {
        const std::function<Status(SqlTx&)>* fn;
        std::function<Status(SqlTx&)> owned;
        std::function<void(Status)> done;  ///< called on the writer thread, once committed or undone
    };

    void enqueue(std::unique_ptr<Job> job) {
        {
            std::lock_guard lock(m_mutex);
            if (!m_stopping) {
                m_queue.push_back(std::move(job));
                job = nullptr;
            }
        }
        if (job) {
            job->done(fail(Errc::cancelled, "the registry is shutting down"));
            return;
        }
        m_wake.notify_one();
    }

    Connection* acquireReader() {
        std::unique_lock lock(m_readerMutex);
        m_readerFree.wait(lock, [this] { return !m_idle.empty(); });
        Connection* c = m_idle.back();
        m_idle.pop_back();
        return c;
    }
    void releaseReader(Connection* c) {
        {
            std::lock_guard lock(m_readerMutex);
            m_idle.push_back(c);
        }
        m_readerFree.notify_one();
    }

    void writerLoop() {
        for (;;) {
            std::vector<std::unique_ptr<Job>> batch;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
                if (m_queue.empty()) return;  // stopping and drained
                batch.assign(std::make_move_iterator(m_queue.begin()), std::make_move_iterator(m_queue.end()));
                m_queue.clear();
            }
            commitBatch(batch);
        }
    }

    /// sqlite3_wal_hook: called on the writer thread after each commit with the log's size.
    static int onCommitted(void* self, sqlite3*, const char*, int frames) {
        static_cast<SqliteDb*>(self)->m_checkpointer->committed(frames);
        return SQLITE_OK;
    }

    void commitBatch(const std::vector<std::unique_ptr<Job>>& batch) {
        std::vector<Status> results(batch.size());
        Status begun = m_writer->script("BEGIN IMMEDIATE");
        if (!begun) {
            for (auto& job : batch) job->done(begun);
            return;
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            (void)m_writer->script("SAVEPOINT job");
            results[i] = (*batch[i]->fn)(*m_writer);
            if (!results[i]) (void)m_writer->script("ROLLBACK TO job");
            (void)m_writer->script("RELEASE job");
        }
        if (auto c = m_writer->script("COMMIT"); !c) {
            (void)m_writer->script("ROLLBACK");
            for (auto& r : results) r = c;
        }
        for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->done(std::move(results[i]));
    }

    std::string m_path;
    std::unique_ptr<Connection> m_writer;
    std::vector<std::unique_ptr<Connection>> m_readers;
    std::mutex m_readerMutex;
    std::condition_variable m_readerFree;
    std::vector<Connection*> m_idle;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::unique_ptr<Job>> m_queue;
    bool m_stopping = false;
    std::unique_ptr<Connection> m_checkpointConnection;
    std::unique_ptr<SqliteCheckpointer> m_checkpointer;  ///< on m_checkpointConnection; none for ":memory:"
    std::thread m_thread;
};

}  // namespace

Result<std::unique_ptr<SqlDb>> openSqlite(const std::string& path, int readers, int writerCacheMib,
                                          std::function<void(const std::string&)> warn) {
    if (writerCacheMib < 1) return fail(Errc::invalidArgument, "SQLite: the writer's page cache must be at least 1 MiB");
    if (path != ":memory:") {
        // A new registry is private whatever the umask (SQLite gives its -wal and -shm files
        // the database file's mode).
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) ::close(fd);
    }
    auto writer = openConnection(path, writerCacheMib);
    if (!writer) return std::unexpected(writer.error());
    std::vector<std::unique_ptr<Connection>> pool;
    if (path != ":memory:") {
        for (int i = 0; i < readers; ++i) {
            auto r = openConnection(path, 0);
            if (!r) return std::unexpected(r.error());
            pool.push_back(std::move(*r));
        }
    }
    std::unique_ptr<Connection> checkpointer;
    if (path != ":memory:") {
        auto c = openConnection(path, -1);
        if (!c) return std::unexpected(c.error());
        checkpointer = std::move(*c);
    }
    return std::make_unique<SqliteDb>(path, std::move(*writer), std::move(pool), std::move(checkpointer),
                                      std::move(warn));
}

}  // namespace tte::mothership
