// The upload queue half of the journal database: items wait here (OTP sealed) until the
// MotherShip or the controller acknowledges them; settling an item journals its outcome.
#include <sqlite3.h>

#include "sqlite_util.h"
#include "tte/station/journal.h"

namespace tte::station {
namespace {

constexpr const char* kItemColumns = "id, kind, devid, after, body, sealed, state, attempts, message";

QueueItem readItem(const sql::Stmt& s) {
    QueueItem q;
    q.id = s.text(0);
    q.kind = s.text(1);
    if (!s.isNull(2)) q.devId = static_cast<std::uint32_t>(s.integer(2));
    q.after = s.text(3);
    q.body = nlohmann::json::parse(s.text(4), nullptr, false);
    q.sealedOtp = s.blob(5);
    q.state = s.text(6);
    q.attempts = s.integer(7);
    q.message = s.text(8);
    return q;
}

}  // namespace

Status Journal::insertItemLocked(const QueueItem& item, std::int64_t seq) {
    sql::Stmt s(m_db, "INSERT INTO queue(id, kind, devid, after, body, sealed, state, seq) VALUES(?,?,?,?,?,?,'pending',?)");
    s.bind(1, item.id);
    s.bind(2, item.kind);
    s.bind(3, item.devId);
    s.bind(4, item.after);
    s.bind(5, item.body.dump());
    s.bindBlob(6, item.sealedOtp);
    s.bind(7, seq);
    if (s.step() != SQLITE_DONE) return sql::sqliteError(m_db, "enqueue " + item.id);
    return {};
}

Result<std::vector<QueueItem>> Journal::duePending(const std::string& kind, std::size_t limit) {
    std::lock_guard lock(m_mutex);
    const std::string query = std::string("SELECT ") + kItemColumns +
                              " FROM queue q WHERE state='pending' AND kind=? AND (after='' OR EXISTS("
                              "SELECT 1 FROM queue p WHERE p.id=q.after AND p.state='done')) ORDER BY seq LIMIT ?";
    sql::Stmt s(m_db, query.c_str());
    if (!s.ok()) return sql::sqliteError(m_db, "read queue");
    s.bind(1, kind);
    s.bind(2, static_cast<std::int64_t>(limit));
    std::vector<QueueItem> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(readItem(s));
    if (rc != SQLITE_DONE) return sql::sqliteError(m_db, "read queue");
    return out;
}

Result<std::vector<QueueItem>> Journal::queue() {
    std::lock_guard lock(m_mutex);
    const std::string query = std::string("SELECT ") + kItemColumns + " FROM queue ORDER BY seq, id";
    sql::Stmt s(m_db, query.c_str());
    if (!s.ok()) return sql::sqliteError(m_db, "read queue");
    std::vector<QueueItem> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(readItem(s));
    if (rc != SQLITE_DONE) return sql::sqliteError(m_db, "read queue");
    return out;
}

Status Journal::settle(const std::string& id, const std::string& state, const std::string& message) {
    std::lock_guard lock(m_mutex);
    std::optional<std::uint32_t> devId;
    std::string kind;
    {
        sql::Stmt s(m_db, "SELECT devid, kind, state FROM queue WHERE id=?");
        s.bind(1, id);
        if (s.step() != SQLITE_ROW) return fail(Errc::notFound, "queue: no item " + id);
        if (!s.isNull(0)) devId = static_cast<std::uint32_t>(s.integer(0));
        kind = s.text(1);
        if (s.text(2) != "pending") return {};  // settled already: never twice in effect
    }
    // The journal entry and the queue update are one transaction (appendLocked's), so a
    // crash leaves either both or neither.
    auto entry = appendLocked(state == "done" ? (kind == "record" ? "live" : "delivered") : "rejected", devId,
                              [&](std::int64_t, const std::string&) -> Result<Commit> {
                                  sql::Stmt u(m_db,
                                              "UPDATE queue SET state=?, sealed=NULL, message=? WHERE id=? AND state='pending'");
                                  u.bind(1, state);
                                  u.bind(2, message);
                                  u.bind(3, id);
                                  if (u.step() != SQLITE_DONE) return sql::sqliteError(m_db, "settle " + id);
                                  nlohmann::json body = {{"item", id}, {"kind", kind}};
                                  if (!message.empty()) body["message"] = message;
                                  return Commit{std::move(body), {}};
                              });
    if (!entry) return std::unexpected(entry.error());
    return {};
}

Status Journal::noteAttempt(const std::string& id, const std::string& message) {
    std::lock_guard lock(m_mutex);
    sql::Stmt u(m_db, "UPDATE queue SET attempts=attempts+1, message=? WHERE id=?");
    u.bind(1, message);
    u.bind(2, id);
    if (u.step() != SQLITE_DONE) return sql::sqliteError(m_db, "note attempt " + id);
    return {};
}

}  // namespace tte::station
