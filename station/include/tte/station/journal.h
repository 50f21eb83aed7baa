// The station journal: an append-only SQLite log (WAL, synchronous=FULL) of every pipeline
// step, each entry hash-chained to the previous one and signed by the station key, plus the
// store-and-forward upload queue in the same database so that a record's commit and its
// queueing are one transaction. The journal never holds an OTP or a key (docs/STATION.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tte/base/clock.h"
#include "tte/base/error.h"
#include "tte/station/ports.h"

struct sqlite3;

namespace tte::station {

/// One journal entry. `hash` = SHA-256 of canonical(seq, kind, devid, body, prev);
/// `signature` = base64 DER ECDSA-SHA256 of the same canonical bytes by the station key.
struct JournalEntry {
    std::int64_t seq = 0;
    std::string kind;
    std::optional<std::uint32_t> devId;
    nlohmann::json body;
    std::string prev;  ///< hash of the previous entry (64 zeros for the first)
    std::string hash;
    std::string signature;

    /// The bytes that are hashed and signed.
    [[nodiscard]] std::string canonical() const;
};

/// An item of the upload queue. The OTP, when the item needs one, is stored XORed with a
/// keystream from the HSM (StationKeys::queueMask) and cleared once the item is done.
struct QueueItem {
    std::string id;                     ///< record id, or "<record id>/map", ".../intro", "box-…"
    std::string kind;                   ///< "record", "map", "intro", "box"
    std::optional<std::uint32_t> devId;
    std::string after;                  ///< item that must be done first ("" = none)
    nlohmann::json body;                ///< the document without the OTP
    std::vector<std::uint8_t> sealedOtp;
    std::string state = "pending";     ///< "pending", "done", "rejected"
    std::int64_t attempts = 0;
    std::string message;
};

/// What a commit callback returns: the entry body and the queue items to add atomically.
struct Commit {
    nlohmann::json body;
    std::vector<QueueItem> items;
};

/// First problem found by Journal::verify(), or none.
struct VerifyReport {
    std::int64_t entries = 0;
    std::string head;  ///< hash of the last entry
    std::vector<std::string> problems;
    [[nodiscard]] bool ok() const { return problems.empty(); }
};

class Journal {
public:
    /// Opens or creates the journal database at `path`.
    /// Errors: io (cannot open/create; SQLite code kept), corrupt (not a journal).
    static Result<std::unique_ptr<Journal>> open(const std::string& path, StationKeys& keys);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    /// Appends one entry, durably (fsync) before returning. Errors: io (SQLite), the key's errors.
    Result<JournalEntry> append(const std::string& kind, std::optional<std::uint32_t> devId, nlohmann::json body);

    /// Appends an entry whose body depends on its own seq and the previous hash (a station
    /// record), and adds `items` to the upload queue in the same transaction.
    using CommitBuilder = std::function<Result<Commit>(std::int64_t seq, const std::string& prev)>;
    Result<JournalEntry> commit(const std::string& kind, std::optional<std::uint32_t> devId,
                                const CommitBuilder& build);

    /// Every entry in seq order (or those of one device).
    Result<std::vector<JournalEntry>> entries(std::optional<std::uint32_t> devId = std::nullopt);
    /// Checks contiguity, the hash chain and every signature. Errors: io only; findings in the report.
    Result<VerifyReport> verify();
    /// The highest Dev ID ever allocated in [first, last], if any.
    Result<std::optional<std::uint32_t>> lastAllocated(std::uint32_t first, std::uint32_t last);

    // Upload queue (same database).
    /// Pending items whose `after` is done, oldest first, at most `limit` of `kind`.
    Result<std::vector<QueueItem>> duePending(const std::string& kind, std::size_t limit);
    /// Marks an item done or rejected, clears its sealed OTP, and journals the outcome.
    Status settle(const std::string& id, const std::string& state, const std::string& message);
    /// Counts attempts for an item that failed transiently.
    Status noteAttempt(const std::string& id, const std::string& message);
    /// Every item (for status/reconcile).
    Result<std::vector<QueueItem>> queue();

    /// The operator signed in at the station: from now on every entry's body names them as
    /// `operator` (unless the body names one itself).
    void setOperator(std::string name) {
        std::lock_guard lock(m_mutex);
        m_operator = std::move(name);
    }

    /// The station's clock: from now on every entry's body says when it was written as `at`
    /// (RFC 3339 UTC; unless the body says it itself), which the counters read.
    void setClock(const Clock& clock) {
        std::lock_guard lock(m_mutex);
        m_clock = &clock;
    }

    /// Runs `fn` on the raw connection under the lock (tests and tools only).
    Status withRawDb(const std::function<Status(sqlite3*)>& fn);

private:
    Journal(sqlite3* db, StationKeys& keys) : m_db(db), m_keys(keys) {}
    Status init();
    Result<JournalEntry> appendLocked(const std::string& kind, std::optional<std::uint32_t> devId,
                                      const CommitBuilder& build);
    Result<std::pair<std::int64_t, std::string>> headLocked();
    Status insertItemLocked(const QueueItem& item, std::int64_t seq);

    std::mutex m_mutex;
    std::string m_operator;
    const Clock* m_clock = nullptr;
    sqlite3* m_db;
    StationKeys& m_keys;
};

}  // namespace tte::station
