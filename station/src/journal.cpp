// The journal's entries: append (hash chain + station signature), read, verify.
// Queue operations that share the database are in queue.cpp.
#include "tte/station/journal.h"

#include <sqlite3.h>

#include "sqlite_util.h"
#include "tte/protocol/crypto.h"

namespace tte::station {
namespace {

const std::string kGenesis(64, '0');

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS journal(
  seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, devid INTEGER, body TEXT NOT NULL,
  prev TEXT NOT NULL, hash TEXT NOT NULL, signature TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_devid ON journal(devid);
CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal
  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON journal
  BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TABLE IF NOT EXISTS queue(
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, devid INTEGER, after TEXT NOT NULL, body TEXT NOT NULL,
  sealed BLOB, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '',
  seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS queue_state ON queue(state, kind, seq);
)";

JournalEntry readEntry(const sql::Stmt& s) {
    JournalEntry e;
    e.seq = s.integer(0);
    e.kind = s.text(1);
    if (!s.isNull(2)) e.devId = static_cast<std::uint32_t>(s.integer(2));
    e.body = nlohmann::json::parse(s.text(3), nullptr, false);
    e.prev = s.text(4);
    e.hash = s.text(5);
    e.signature = s.text(6);
    return e;
}

}  // namespace

std::string JournalEntry::canonical() const {
    nlohmann::json j = {{"seq", seq}, {"kind", kind}, {"body", body}, {"prev", prev}};
    j["devid"] = devId ? nlohmann::json(*devId) : nlohmann::json(nullptr);
    return j.dump();
}

Result<std::unique_ptr<Journal>> Journal::open(const std::string& path, StationKeys& keys) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_close(db);
        return failNative(Errc::io, "journal: cannot open " + path, "SQLite", rc, sqlite3_errstr(rc));
    }
    std::unique_ptr<Journal> journal(new Journal(db, keys));
    if (auto s = journal->init(); !s) return withContext(s.error(), path);
    return journal;
}

Journal::~Journal() { sqlite3_close(m_db); }

Status Journal::init() {
    sqlite3_busy_timeout(m_db, 10000);
    // WAL + synchronous=FULL: a committed entry survives power loss; secure_delete zeroes
    // freed content (cleared sealed OTPs).
    for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA secure_delete=ON",
                               "PRAGMA foreign_keys=ON"}) {
        if (auto s = sql::exec(m_db, pragma); !s) return s;
    }
    if (auto s = sql::exec(m_db, kSchema); !s) return fail(Errc::corrupt, "not a station journal: " + s.error().message);
    return {};
}

Result<std::pair<std::int64_t, std::string>> Journal::headLocked() {
    sql::Stmt s(m_db, "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1");
    if (!s.ok()) return sql::sqliteError(m_db, "read head");
    const int rc = s.step();
    if (rc == SQLITE_ROW) return std::pair{s.integer(0), s.text(1)};
    if (rc == SQLITE_DONE) return std::pair{std::int64_t{0}, kGenesis};
    return sql::sqliteError(m_db, "read head");
}

Result<JournalEntry> Journal::appendLocked(const std::string& kind, std::optional<std::uint32_t> devId,
                                           const CommitBuilder& build) {
    sql::Transaction tx(m_db);
    if (!tx.begun()) return sql::sqliteError(m_db, "begin");
    auto head = headLocked();
    if (!head) return std::unexpected(head.error());
    JournalEntry e;
    e.seq = head->first + 1;
    e.kind = kind;
    e.devId = devId;
    e.prev = head->second;
    auto commit = build(e.seq, e.prev);
    if (!commit) return std::unexpected(commit.error());
    e.body = std::move(commit->body);
    // Every entry names who ran the station when it was written (docs/STATION.md).
    if (!m_operator.empty() && e.body.is_object() && !e.body.contains("operator")) e.body["operator"] = m_operator;
    if (m_clock != nullptr && e.body.is_object() && !e.body.contains("at")) e.body["at"] = rfc3339(m_clock->wallNow());
    const std::string canonical = e.canonical();
    e.hash = protocol::sha256Hex(canonical);
    auto sig = m_keys.sign(std::span(reinterpret_cast<const std::uint8_t*>(canonical.data()), canonical.size()));
    if (!sig) return withContext(sig.error(), "journal: signing entry");
    e.signature = protocol::base64Encode(*sig);

    sql::Stmt ins(m_db, "INSERT INTO journal(seq, kind, devid, body, prev, hash, signature) VALUES(?,?,?,?,?,?,?)");
    ins.bind(1, e.seq);
    ins.bind(2, e.kind);
    ins.bind(3, e.devId);
    ins.bind(4, e.body.dump());
    ins.bind(5, e.prev);
    ins.bind(6, e.hash);
    ins.bind(7, e.signature);
    if (ins.step() != SQLITE_DONE) return sql::sqliteError(m_db, "append");
    for (const auto& item : commit->items) {
        if (auto s = insertItemLocked(item, e.seq); !s) return std::unexpected(s.error());
    }
    if (auto s = tx.commit(); !s) return std::unexpected(s.error());
    return e;
}

Result<JournalEntry> Journal::append(const std::string& kind, std::optional<std::uint32_t> devId,
                                     nlohmann::json body) {
    std::lock_guard lock(m_mutex);
    return appendLocked(kind, devId, [&](std::int64_t, const std::string&) -> Result<Commit> {
        return Commit{std::move(body), {}};
    });
}

Result<JournalEntry> Journal::commit(const std::string& kind, std::optional<std::uint32_t> devId,
                                     const CommitBuilder& build) {
    std::lock_guard lock(m_mutex);
    return appendLocked(kind, devId, build);
}

Result<std::vector<JournalEntry>> Journal::entries(std::optional<std::uint32_t> devId) {
    std::lock_guard lock(m_mutex);
    sql::Stmt s(m_db, devId ? "SELECT seq, kind, devid, body, prev, hash, signature FROM journal WHERE devid=? ORDER BY seq"
                            : "SELECT seq, kind, devid, body, prev, hash, signature FROM journal ORDER BY seq");
    if (!s.ok()) return sql::sqliteError(m_db, "read entries");
    if (devId) s.bind(1, static_cast<std::int64_t>(*devId));
    std::vector<JournalEntry> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(readEntry(s));
    if (rc != SQLITE_DONE) return sql::sqliteError(m_db, "read entries");
    return out;
}

Result<VerifyReport> Journal::verify() {
    auto key = m_keys.stationPublicKey();
    if (!key) return withContext(key.error(), "journal verify: station public key");
    auto all = entries();
    if (!all) return std::unexpected(all.error());
    VerifyReport report;
    std::int64_t expectedSeq = 1;
    std::string prevHash = kGenesis;
    for (const auto& e : *all) {
        const std::string at = "entry " + std::to_string(e.seq) + ": ";
        if (e.seq != expectedSeq)
            report.problems.push_back(at + "expected entry " + std::to_string(expectedSeq) + " (entry missing)");
        if (e.body.is_discarded()) report.problems.push_back(at + "body is not JSON (edited)");
        const std::string canonical = e.canonical();
        if (protocol::sha256Hex(canonical) != e.hash) report.problems.push_back(at + "content does not match its hash (edited)");
        if (e.prev != prevHash)
            report.problems.push_back(at + "does not chain to the entry before it (removed or reordered)");
        auto sig = protocol::base64Decode(e.signature);
        if (!sig || !protocol::verifyEcdsaSha256(*key, std::span(reinterpret_cast<const std::uint8_t*>(canonical.data()),
                                                      canonical.size()), *sig))
            report.problems.push_back(at + "station signature does not verify");
        expectedSeq = e.seq + 1;
        prevHash = e.hash;
    }
    report.entries = static_cast<std::int64_t>(all->size());
    report.head = prevHash;
    return report;
}

Result<std::optional<std::uint32_t>> Journal::lastAllocated(std::uint32_t first, std::uint32_t last) {
    std::lock_guard lock(m_mutex);
    sql::Stmt s(m_db, "SELECT MAX(devid) FROM journal WHERE kind='allocated' AND devid BETWEEN ? AND ?");
    s.bind(1, static_cast<std::int64_t>(first));
    s.bind(2, static_cast<std::int64_t>(last));
    if (!s.ok() || s.step() != SQLITE_ROW) return sql::sqliteError(m_db, "last allocated");
    if (s.isNull(0)) return std::optional<std::uint32_t>{};
    return std::optional<std::uint32_t>{static_cast<std::uint32_t>(s.integer(0))};
}

Status Journal::withRawDb(const std::function<Status(sqlite3*)>& fn) {
    std::lock_guard lock(m_mutex);
    return fn(m_db);
}

}  // namespace tte::station
