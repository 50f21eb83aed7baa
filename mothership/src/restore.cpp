// `tte-mothership admin restore`: a backup of adminBackup() back in place of the registry,
// checked first, and never over a live registry unless told (admin.h).
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "sql_db.h"
#include "tte/mothership/admin.h"

namespace tte::mothership {
namespace {

/// An open SQLite handle, closed on destruction.
class SqliteHandle {
public:
    static Result<SqliteHandle> open(const std::string& path, int flags, const std::string& what) {
        sqlite3* db = nullptr;
        const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
        SqliteHandle h(db);
        if (rc != SQLITE_OK)
            return failNative(Errc::io, what + " " + path + ": " + sqlite3_errstr(rc), "SQLite", rc, sqlite3_errstr(rc));
        sqlite3_busy_timeout(db, 5000);
        return h;
    }
    SqliteHandle(SqliteHandle&& o) noexcept : m_db(std::exchange(o.m_db, nullptr)) {}
    SqliteHandle& operator=(SqliteHandle&&) = delete;
    ~SqliteHandle() { sqlite3_close_v2(m_db); }
    [[nodiscard]] sqlite3* get() const { return m_db; }

    /// The first column of the first row; nothing when there is no row. Errors: the SQLite
    /// message (io).
    Result<std::optional<std::string>> scalar(const char* sql) const {
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr);
        if (rc != SQLITE_OK) return failNative(Errc::io, sqlite3_errmsg(m_db), "SQLite", rc, sqlite3_errstr(rc));
        std::optional<std::string> out;
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
            out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return failNative(Errc::io, sqlite3_errmsg(m_db), "SQLite", rc, sqlite3_errstr(rc));
        return out;
    }

private:
    explicit SqliteHandle(sqlite3* db) : m_db(db) {}
    sqlite3* m_db;
};

/// The backup is a sound SQLite file holding a registry schema this program knows.
Status checkSqliteBackup(const SqliteHandle& backup, const std::string& from) {
    auto ok = backup.scalar("PRAGMA quick_check");
    if (!ok) return fail(Errc::invalidArgument, "backup " + from + " is not a SQLite database: " + ok.error().message);
    if (*ok != "ok") return fail(Errc::invalidArgument, "backup " + from + " is damaged: " + ok->value_or("?"));
    auto version = backup.scalar("SELECT MAX(version) FROM schema_versions");
    if (!version || !*version) return fail(Errc::invalidArgument, "backup " + from + " holds no MotherShip registry");
    if (std::stoll(**version) > kRegistrySchemaVersion)
        return fail(Errc::invalidArgument, "backup " + from + " has schema version " + **version +
                                               ", newer than this program (" + std::to_string(kRegistrySchemaVersion) + ")");
    return {};
}

/// What `path` holds now: nothing (absent or empty), or a description for the refusal.
Result<std::optional<std::string>> sqliteTargetContent(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) || std::filesystem::file_size(path, ec) == 0) return std::nullopt;
    auto db = SqliteHandle::open(path, SQLITE_OPEN_READONLY, "cannot open");
    if (!db) return std::unexpected(db.error());
    auto devices = db->scalar("SELECT COUNT(*) FROM devices");
    if (!devices) return std::optional<std::string>("a database that is not a MotherShip registry");
    return std::optional<std::string>("a registry of " + devices->value_or("0") + " devices");
}

Status restoreSqlite(const std::string& path, const std::string& from, bool force) {
    auto backup = SqliteHandle::open(from, SQLITE_OPEN_READONLY, "cannot open the backup");
    if (!backup) return std::unexpected(backup.error());
    if (auto s = checkSqliteBackup(*backup, from); !s) return s;
    auto content = sqliteTargetContent(path);
    if (!content) return std::unexpected(content.error());
    if (*content && !force)
        return fail(Errc::alreadyExists, "refusing to overwrite " + path + ", which holds " + **content +
                                             "; stop every MotherShip using it, then add --force");
    if (!*content) {
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);  // the registry is private
        if (fd < 0) return fail(Errc::io, "cannot create " + path);
        ::close(fd);
    }
    auto target = SqliteHandle::open(path, SQLITE_OPEN_READWRITE, "cannot open");
    if (!target) return std::unexpected(target.error());
    sqlite3_backup* copy = sqlite3_backup_init(target->get(), "main", backup->get(), "main");
    if (copy == nullptr) return failNative(Errc::io, std::string("restore: ") + sqlite3_errmsg(target->get()), "SQLite", 0);
    const int rc = sqlite3_backup_step(copy, -1);
    sqlite3_backup_finish(copy);
    if (rc != SQLITE_DONE)
        return failNative(Errc::io, "restore into " + path + ": " + sqlite3_errstr(rc) +
                                        (rc == SQLITE_BUSY ? " (is a MotherShip still using it?)" : ""),
                          "SQLite", rc, sqlite3_errstr(rc));
    return {};
}

Status restorePostgres(const std::string& url, const std::string& from, const RestoreOptions& options) {
    if (!std::filesystem::exists(from)) return fail(Errc::io, "cannot read the backup " + from);
    if (auto s = runPostgresTool(options.pgRestore, "", {"--list", from}, true); !s)
        return fail(Errc::invalidArgument, "backup " + from + " is not a pg_dump archive (" + s.error().message + ")");
    auto db = openPostgres(url, 1);
    if (!db) return std::unexpected(db.error());
    std::optional<std::string> devices;
    Status read = (*db)->read([&](SqlTx& tx) -> Status {
        auto rows = tx.query("SELECT to_regclass('devices') IS NOT NULL", {});
        if (!rows) return std::unexpected(rows.error());
        if (rows->at(0).at(0).value_or("f") != "t") return {};
        auto count = tx.query("SELECT COUNT(*) FROM devices", {});
        if (!count) return std::unexpected(count.error());
        devices = count->at(0).at(0).value_or("0");
        return {};
    });
    if (!read) return read;
    db->reset();
    if (devices && !options.force)
        return fail(Errc::alreadyExists, "refusing to overwrite the database, which holds a registry of " + *devices +
                                             " devices; stop every MotherShip using it, then add --force");
    return runPostgresTool(options.pgRestore, url,
                           {"--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-owner", from});
}

}  // namespace

Result<std::string> adminRestore(const std::string& databaseUrl, const std::string& from, const RestoreOptions& options) {
    if (isPostgresUrl(databaseUrl)) {
        if (auto s = restorePostgres(databaseUrl, from, options); !s) return std::unexpected(s.error());
    } else if (auto file = sqliteFileOf(databaseUrl)) {
        if (auto s = restoreSqlite(*file, from, options.force); !s) return std::unexpected(s.error());
    } else {
        return fail(Errc::invalidArgument, "restore needs a sqlite:///path or postgresql:// database URL");
    }
    // Opening runs the schema migrations: an older backup comes back at today's schema.
    auto registry = openRegistry(databaseUrl, 1);
    if (!registry) return std::unexpected(registry.error());
    auto stats = (*registry)->stats(0);  // the kept counts (schema version 12): no read of every device
    if (!stats) return std::unexpected(stats.error());
    std::int64_t devices = 0;
    for (const std::int64_t n : stats->devices) devices += n;
    return "restored " + std::to_string(devices) + " devices from " + from;
}

}  // namespace tte::mothership
