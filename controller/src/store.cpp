// SQLite implementation of the Controller's device store.
#include "tte/controller/store.h"

#include <string_view>

#include <sqlite3.h>

#include <utility>

namespace tte::controller {
namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
PRAGMA secure_delete=ON;
CREATE TABLE IF NOT EXISTS devices (
  urn TEXT PRIMARY KEY,
  devid TEXT NOT NULL,
  fingerprint TEXT NOT NULL UNIQUE,
  otp TEXT NOT NULL,
  ms TEXT NOT NULL,
  description TEXT NOT NULL,
  introduced INTEGER NOT NULL,
  introduced_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  registered_at INTEGER,
  last_seen INTEGER,
  ms_state TEXT NOT NULL DEFAULT 'unknown',
  query_attempts INTEGER NOT NULL DEFAULT 0,
  next_query_at INTEGER NOT NULL DEFAULT 0
);
)sql";

std::unexpected<Error> dbError(sqlite3* db, std::string what) {
    int code = sqlite3_extended_errcode(db);
    return failNative(Errc::io, std::move(what) + ": " + sqlite3_errmsg(db), "SQLite", code, sqlite3_errstr(code));
}

/// A prepared statement that finalizes itself.
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) : m_db(db) { m_ok = sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr) == SQLITE_OK; }
    ~Stmt() { sqlite3_finalize(m_stmt); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    [[nodiscard]] bool ok() const { return m_ok; }
    Stmt& text(int i, std::string_view v) {
        sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& integer(int i, std::int64_t v) {
        sqlite3_bind_int64(m_stmt, i, v);
        return *this;
    }
    int step() { return sqlite3_step(m_stmt); }
    [[nodiscard]] std::string col(int i) const {
        auto* p = sqlite3_column_text(m_stmt, i);
        return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
    }
    [[nodiscard]] std::int64_t colInt(int i) const { return sqlite3_column_int64(m_stmt, i); }
    [[nodiscard]] bool isNull(int i) const { return sqlite3_column_type(m_stmt, i) == SQLITE_NULL; }

private:
    sqlite3* m_db;
    sqlite3_stmt* m_stmt = nullptr;
    bool m_ok = false;
};

/// BEGIN IMMEDIATE … COMMIT; rolled back when not committed (an error on the way).
class Transaction {
public:
    explicit Transaction(sqlite3* db) : m_db(db) { m_open = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK; }
    ~Transaction() {
        if (m_open) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    [[nodiscard]] bool begun() const { return m_open; }
    /// True once committed (durable: WAL, synchronous=FULL).
    bool commit() {
        m_open = sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK;
        return !m_open;
    }

private:
    sqlite3* m_db;
    bool m_open = false;
};

constexpr const char* kColumns =
    "SELECT urn, devid, fingerprint, ms, description, introduced, introduced_at, expires_at, registered_at, "
    "last_seen, ms_state FROM devices ";

DeviceRecord rowToRecord(const Stmt& s, UnixSeconds now) {
    DeviceRecord r;
    r.urn = s.col(0);
    r.devid = s.col(1);
    r.fingerprint = s.col(2);
    r.ms = s.col(3);
    r.description = s.col(4);
    r.introduced = s.colInt(5) != 0;
    r.introducedAt = s.colInt(6);
    r.expiresAt = s.colInt(7);
    bool registered = !s.isNull(8);
    if (!s.isNull(9)) r.lastSeen = s.colInt(9);
    r.msState = s.col(10);
    if (registered)
        r.state = "registered";
    else if (now >= r.expiresAt)
        r.state = "expired";
    else
        r.state = "introduced";
    return r;
}

/// A device the Controller asks the MotherShip nothing more about and whose OTP it no longer
/// needs (PROTOCOL §8): it checked in, or the MotherShip's answer is final (registered,
/// revoked). `row`: "devices." inside an upsert, whose new row is `excluded`.
std::string settled(std::string_view row = "") {
    const std::string r(row);
    return "(" + r + "registered_at IS NOT NULL OR " + r + "ms_state IN ('registered', 'revoked'))";
}

}  // namespace

Result<std::unique_ptr<DeviceStore>> DeviceStore::open(const std::string& path) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        auto err = dbError(db, "cannot open " + path);
        sqlite3_close(db);
        return err;
    }
    sqlite3_busy_timeout(db, 5000);
    char* msg = nullptr;
    if (sqlite3_exec(db, kSchema, nullptr, nullptr, &msg) != SQLITE_OK) {
        sqlite3_free(msg);
        auto err = dbError(db, "cannot create the schema in " + path);
        sqlite3_close(db);
        return err;
    }
    // PROTOCOL §11: the device–Controller PSK of a DTLS-PSK device (hex; '' for a certificate
    // device). Added to stores made before PSK mode; "duplicate column" means it is there.
    if (sqlite3_exec(db, "ALTER TABLE devices ADD COLUMN psk TEXT NOT NULL DEFAULT ''", nullptr, nullptr, &msg) !=
        SQLITE_OK) {
        const bool there = msg != nullptr && std::string_view(msg).find("duplicate column") != std::string_view::npos;
        sqlite3_free(msg);
        if (!there) {
            auto err = dbError(db, "cannot add the psk column in " + path);
            sqlite3_close(db);
            return err;
        }
    }
    // A WAL left by a kill may still hold old pages with OTPs that a later commit forgot
    // (the kill came between that commit and its checkpoint): copy and truncate it now.
    int logFrames = 0, checkpointed = 0;
    // SQLITE_BUSY (a reader, e.g. an operator's sqlite3, holds it) leaves it to the next one.
    if (const int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &logFrames, &checkpointed);
        rc != SQLITE_OK && rc != SQLITE_BUSY) {
        auto err = dbError(db, "cannot checkpoint the WAL of " + path);
        sqlite3_close(db);
        return err;
    }
    return std::unique_ptr<DeviceStore>(new DeviceStore(db));
}

Result<Secret> DeviceStore::psk(const std::string& urn) {
    std::lock_guard lock(m_mutex);
    Stmt s(m_db, "SELECT psk FROM devices WHERE urn = ?1 AND introduced = 1 AND psk != ''");
    if (!s.ok()) return dbError(m_db, "cannot read the PSK");
    s.text(1, urn);
    const int rc = s.step();
    if (rc == SQLITE_DONE) return fail(Errc::notFound, "no DTLS-PSK device " + urn);
    if (rc != SQLITE_ROW) return dbError(m_db, "cannot read the PSK");
    std::string text = s.col(0);
    Secret out(text);
    secureZero(text.data(), text.size());
    return out;
}

DeviceStore::~DeviceStore() { sqlite3_close(m_db); }

Result<std::vector<DeviceRecord>> DeviceStore::select(const std::string& where, const std::string& arg,
                                                      UnixSeconds now) {
    std::string sql = std::string(kColumns) + where;
    Stmt s(m_db, sql.c_str());
    if (!s.ok()) return dbError(m_db, "cannot read devices");
    if (!arg.empty()) s.text(1, arg);
    std::vector<DeviceRecord> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(rowToRecord(s, now));
    if (rc != SQLITE_DONE) return dbError(m_db, "cannot read devices");
    return out;
}

Result<DeviceRecord> DeviceStore::introduce(const Introduction& intro, UnixSeconds now, UnixSeconds ttl) {
    std::lock_guard lock(m_mutex);
    auto byUrn = select("WHERE urn = ?1", intro.urn, now);
    if (!byUrn) return std::unexpected(byUrn.error());
    auto byFp = select("WHERE fingerprint = ?1", intro.fingerprint, now);
    if (!byFp) return std::unexpected(byFp.error());
    if (!byUrn->empty() && byUrn->front().fingerprint != intro.fingerprint)
        return fail(Errc::conflict, intro.urn + " is already introduced with another fingerprint");
    if (!byFp->empty() && byFp->front().urn != intro.urn)
        return fail(Errc::conflict, "fingerprint " + intro.fingerprint + " is already introduced for " +
                                        byFp->front().urn);
    // A settled device is never asked about again: an introduction repeated for it (a resend)
    // must not store its OTP again.
    const std::string sql =
        "INSERT INTO devices (urn, devid, fingerprint, otp, ms, description, introduced, introduced_at, expires_at, psk) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9) "
        "ON CONFLICT(urn) DO UPDATE SET description = excluded.description, "
        "otp = CASE WHEN " + settled("devices.") + " THEN '' ELSE excluded.otp END, "
        "ms = excluded.ms, introduced = 1, expires_at = excluded.expires_at, psk = excluded.psk";
    Stmt s(m_db, sql.c_str());
    if (!s.ok()) return dbError(m_db, "cannot store the introduction");
    s.text(1, intro.urn).text(2, intro.devid).text(3, intro.fingerprint).text(4, intro.otp.view());
    s.text(5, intro.ms).text(6, intro.description).integer(7, now).integer(8, now + ttl).text(9, intro.psk.empty() ? std::string_view("") : intro.psk.view());  //  not NULL
    if (s.step() != SQLITE_DONE) return dbError(m_db, "cannot store the introduction");
    auto stored = select("WHERE urn = ?1", intro.urn, now);
    if (!stored) return std::unexpected(stored.error());
    return stored->front();
}

Result<std::vector<DeviceRecord>> DeviceStore::list(UnixSeconds now) {
    std::lock_guard lock(m_mutex);
    return select("ORDER BY introduced_at, urn", "", now);
}

Result<DeviceRecord> DeviceStore::findOne(const char* where, const std::string& arg, UnixSeconds now,
                                          const std::string& notFound) {
    std::lock_guard lock(m_mutex);
    auto rows = select(where, arg, now);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return fail(Errc::notFound, notFound);
    return rows->front();
}

Result<DeviceRecord> DeviceStore::findByFingerprint(const std::string& fingerprint, UnixSeconds now) {
    return findOne("WHERE fingerprint = ?1", fingerprint, now, "no device with fingerprint " + fingerprint + " was introduced");
}

Result<DeviceRecord> DeviceStore::findByUrn(const std::string& urn, UnixSeconds now) {
    return findOne("WHERE urn = ?1", urn, now, "no device " + urn + " was introduced");
}

Status DeviceStore::markRegistered(const std::string& urn, UnixSeconds now) {
    std::lock_guard lock(m_mutex);
    // The check-in and the forgetting of its OTP commit together: a kill between two
    // commits would leave a checked-in device with its OTP (PROTOCOL §8).
    Transaction tx(m_db);
    if (!tx.begun()) return dbError(m_db, "cannot record the check-in");
    Stmt s(m_db, "UPDATE devices SET registered_at = COALESCE(registered_at, ?2), last_seen = ?2 WHERE urn = ?1");
    if (!s.ok()) return dbError(m_db, "cannot record the check-in");
    s.text(1, urn).integer(2, now);
    if (s.step() != SQLITE_DONE) return dbError(m_db, "cannot record the check-in");
    if (sqlite3_changes(m_db) == 0) return fail(Errc::notFound, urn + " is not known");
    auto forgot = clearUsedOtps(now);
    if (!forgot) return std::unexpected(forgot.error());
    if (!tx.commit()) return dbError(m_db, "cannot record the check-in");
    return *forgot ? wipeWal() : Status{};
}

Status DeviceStore::forgetUnneededOtps(UnixSeconds now) {
    std::lock_guard lock(m_mutex);
    return forgetUsedOtps(now);
}

Status DeviceStore::forgetUsedOtps(UnixSeconds now) {
    auto forgot = clearUsedOtps(now);
    if (!forgot) return std::unexpected(forgot.error());
    return *forgot ? wipeWal() : Status{};
}

Result<bool> DeviceStore::clearUsedOtps(UnixSeconds now) {
    const std::string sql = "UPDATE devices SET otp = '' WHERE otp != '' AND (" + settled() + " OR expires_at <= ?1)";
    Stmt s(m_db, sql.c_str());
    if (!s.ok()) return dbError(m_db, "cannot forget used OTPs");
    s.integer(1, now);
    if (s.step() != SQLITE_DONE) return dbError(m_db, "cannot forget used OTPs");
    return sqlite3_changes(m_db) != 0;
}

Status DeviceStore::wipeWal() {
    // The old page is still in the WAL: copy the new one into the file and empty the WAL.
    int logFrames = 0, checkpointed = 0;
    if (sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &logFrames, &checkpointed) != SQLITE_OK)
        return dbError(m_db, "cannot checkpoint after forgetting used OTPs");
    return {};
}

Result<DeviceRecord> DeviceStore::addUnintroduced(const std::string& urn, const std::string& fingerprint,
                                                  UnixSeconds now) {
    std::lock_guard lock(m_mutex);
    auto byUrn = select("WHERE urn = ?1", urn, now);
    if (!byUrn) return std::unexpected(byUrn.error());
    if (!byUrn->empty() && byUrn->front().fingerprint != fingerprint)
        return fail(Errc::conflict, urn + " is known with another fingerprint");
    // Stored checked in at once: a kill after this commit leaves a registered device, not a
    // row that is neither introduced nor checked in.
    Stmt s(m_db,
           "INSERT OR IGNORE INTO devices (urn, devid, fingerprint, otp, ms, description, introduced, introduced_at, "
           "expires_at, registered_at, last_seen) VALUES (?1, '', ?2, '', '', '', 0, ?3, ?3, ?3, ?3)");
    if (!s.ok()) return dbError(m_db, "cannot store the device");
    s.text(1, urn).text(2, fingerprint).integer(3, now);
    if (s.step() != SQLITE_DONE) return dbError(m_db, "cannot store the device");
    auto stored = select("WHERE urn = ?1", urn, now);
    if (!stored) return std::unexpected(stored.error());
    return stored->front();
}

Result<std::vector<StatusQuery>> DeviceStore::dueStatusQueries(UnixSeconds now, int limit) {
    std::lock_guard lock(m_mutex);
    if (auto forgot = forgetUsedOtps(now); !forgot) return std::unexpected(forgot.error());
    const std::string sql = "SELECT urn, devid, ms, otp, query_attempts FROM devices WHERE introduced = 1 AND NOT " +
                            settled() + " AND expires_at > ?1 AND next_query_at <= ?1 ORDER BY next_query_at LIMIT ?2";
    Stmt s(m_db, sql.c_str());
    if (!s.ok()) return dbError(m_db, "cannot read due status queries");
    s.integer(1, now).integer(2, limit);
    std::vector<StatusQuery> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        StatusQuery q;
        q.urn = s.col(0);
        q.devid = s.col(1);
        q.ms = s.col(2);
        std::string otp = s.col(3);
        q.otp = Secret(otp);
        secureZero(otp.data(), otp.size());
        q.attempts = static_cast<int>(s.colInt(4));
        out.push_back(std::move(q));
    }
    if (rc != SQLITE_DONE) return dbError(m_db, "cannot read due status queries");
    return out;
}

Status DeviceStore::recordStatus(const std::string& urn, const std::string& msState, int attempts,
                                 UnixSeconds nextQueryAt) {
    std::lock_guard lock(m_mutex);
    Transaction tx(m_db);  // a final state and the forgetting of the OTP commit together
    if (!tx.begun()) return dbError(m_db, "cannot record the MotherShip status");
    Stmt s(m_db, "UPDATE devices SET ms_state = ?2, query_attempts = ?3, next_query_at = ?4 WHERE urn = ?1");
    if (!s.ok()) return dbError(m_db, "cannot record the MotherShip status");
    s.text(1, urn).text(2, msState).integer(3, attempts).integer(4, nextQueryAt);
    if (s.step() != SQLITE_DONE) return dbError(m_db, "cannot record the MotherShip status");
    bool forgot = false;
    if (msState == "registered" || msState == "revoked") {
        auto cleared = clearUsedOtps(0);
        if (!cleared) return std::unexpected(cleared.error());
        forgot = *cleared;
    }
    if (!tx.commit()) return dbError(m_db, "cannot record the MotherShip status");
    return forgot ? wipeWal() : Status{};
}

Status DeviceStore::recordFailedQuery(const std::string& urn, int attempts, UnixSeconds nextQueryAt) {
    std::lock_guard lock(m_mutex);
    Stmt s(m_db, "UPDATE devices SET query_attempts = ?2, next_query_at = ?3 WHERE urn = ?1");
    if (!s.ok()) return dbError(m_db, "cannot record the status query");
    s.text(1, urn).integer(2, attempts).integer(3, nextQueryAt);
    if (s.step() != SQLITE_DONE) return dbError(m_db, "cannot record the status query");
    return {};
}

}  // namespace tte::controller
