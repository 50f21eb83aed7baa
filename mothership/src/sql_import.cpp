// The bulk import of station records (sql_import.h): the batch staged, the rules of a single
// upload checked set-wise, then one INSERT … SELECT each into devices and audit.
#include "sql_import.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "registry_rules.h"
#include "sql_values.h"
#include "tte/base/hex.h"

namespace tte::mothership {
namespace {

using sql::kDeviceColumns;
using sql::num;
using sql::stateOf;
using sql::toInt;

/// A PostgreSQL array literal of `items` (each quoted, `"` and `\` escaped), for `$n::text[]`.
std::string textArray(const std::vector<std::string_view>& items) {
    std::string out = "{";
    for (const auto item : items) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (const char c : item) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

/// A SHA-256 column's hex in a row for COPY into `devices` (PostgreSQL): bytea's input form
/// `\x<hex>`, its backslash escaped by copyRows(). Text that is not hex fails the COPY (bytea
/// input: "invalid hexadecimal digit"), and the batch with it.
std::string copyBytes(std::string_view hex) { return "\\x" + std::string(hex); }

/// The batch in a staging table (`ord` = its place in the batch), with the audit detail
/// insertDevice() would write. Dropped again at the end of the transaction, or undone
/// with it.
Status stageImport(SqlTx& tx, SqlDialect dialect, std::span<const DeviceRow> rows) {
    const bool pg = dialect == SqlDialect::postgresql;
    // The keys joined with devices' in the collation of its columns (schema version 7).
    const std::string key = pg ? "TEXT COLLATE \"C\"" : "TEXT";
    // SQLite: no type, so no affinity, which would keep the join from devices_board's
    // expression (an expression has none) from using that index.
    const std::string board = pg ? key : "";
    if (auto c = tx.script(std::string("CREATE TEMP TABLE import_devices (ord ") + (pg ? "BIGINT" : "INTEGER") +
                           " PRIMARY KEY, devid BIGINT NOT NULL, urn " + key +
                           " NOT NULL, fingerprint TEXT NOT NULL,"
                           " otp_hash TEXT NOT NULL, lot TEXT NOT NULL, box BIGINT, station TEXT NOT NULL,"
                           " record_id " + key + " NOT NULL, record_digest TEXT NOT NULL, signature TEXT NOT NULL,"
                           " firmware_sha256 TEXT NOT NULL, created TEXT NOT NULL, mcu_uid " + key + ", board " + board + ","
                           " reworked_from BIGINT, detail TEXT NOT NULL)");
        !c)
        return c;
    static const std::vector<std::string> columns{
        "ord",       "devid",         "urn",       "fingerprint",     "otp_hash", "lot",     "box",           "station",
        "record_id", "record_digest", "signature", "firmware_sha256", "created",  "mcu_uid", "board", "reworked_from", "detail"};
    std::vector<SqlRow> staged;
    staged.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        staged.push_back(SqlRow{
            num(static_cast<std::int64_t>(i)), num(r.devId), r.urn, r.fingerprint, toHex(r.otpHash), r.lot,
            r.box ? SqlValue(num(*r.box)) : std::nullopt, r.station, r.recordId, r.recordDigest, r.signature,
            r.firmwareSha256, r.created, r.mcuUid, r.mcuUid ? SqlValue(sql::boardKey(*r.mcuUid)) : std::nullopt,
            r.reworkedFrom ? SqlValue(num(*r.reworkedFrom)) : std::nullopt, storedAuditDetail(r)});
    }
    // No ANALYZE of the staging table: PostgreSQL sizes a table without statistics from
    // its pages, which is enough for the checks below, and ANALYZE cost as much as the COPY
    // (measured: 0.5 s for 50,000 rows).
    return tx.copyRows("import_devices", columns, staged);
}

/// Rows whose record id is stored already: the same content is a duplicate (taken out of
/// the staging table, stored no second time), other content refuses the batch. Returns
/// the places of the duplicates.
Result<std::vector<std::size_t>> checkImportRecords(SqlTx& tx, SqlDialect dialect, std::span<const DeviceRow> rows) {
    auto known = tx.query("SELECT i.ord, " + sql::hexOut(dialect, "d.record_digest") +
                              " FROM import_devices i JOIN devices d ON d.record_id = i.record_id ORDER BY i.ord",
                          {});
    if (!known) return std::unexpected(known.error());
    std::vector<std::size_t> duplicates;
    for (const auto& k : *known) {
        const auto ord = static_cast<std::size_t>(toInt(k[0]));
        if (k[1] != rows[ord].recordDigest)
            return fail(Errc::alreadyExists, "record id " + rows[ord].recordId + " was stored with other content");
        if (auto d = tx.exec("DELETE FROM import_devices WHERE ord = $1", {k[0]}); !d) return std::unexpected(d.error());
        duplicates.push_back(ord);
    }
    return duplicates;
}

/// insertDevice()'s other rules, set-wise over the staging table: the lot's quota, a Dev ID
/// or URN stored under another record, a board (MCU unique ID) that is another live device,
/// a reworked board's old device.
Status checkImportRows(SqlTx& tx, std::span<const DeviceRow> rows, const std::vector<std::size_t>& duplicates) {
    auto outside = tx.query("SELECT i.ord, l.first_id, l.last_id FROM import_devices i LEFT JOIN lots l ON l.lot = i.lot"
                            " WHERE l.lot IS NULL OR i.devid < l.first_id OR i.devid > l.last_id ORDER BY i.ord LIMIT 1",
                            {});
    if (!outside) return std::unexpected(outside.error());
    if (!outside->empty()) {
        const auto& o = outside->front();
        const std::vector<SqlRow> quota = o[1] ? std::vector<SqlRow>{{o[1], o[2]}} : std::vector<SqlRow>{};
        if (auto q = checkQuota(rows[static_cast<std::size_t>(toInt(o[0]))], quota); !q) return q;
        return fail(Errc::internal, "import: a row outside its lot's quota passed the quota check");
    }
    // The same URN is the same Dev ID (checkDevIdOfUrn).
    auto taken = tx.query("SELECT MIN(i.ord) FROM import_devices i WHERE EXISTS (SELECT 1 FROM devices d"
                          " WHERE d.devid = i.devid)",
                          {});
    if (!taken) return std::unexpected(taken.error());
    if (!taken->empty() && taken->front()[0])
        return fail(Errc::alreadyExists, deviceTakenMessage(rows[static_cast<std::size_t>(toInt(taken->front()[0]))]));
    // By devices_board; the IDs themselves compared here (SQLite plans a scan of devices for
    // a second term on mcu_uid). The same board key is the same ID for IDs of 24 characters.
    auto boards = tx.query("SELECT i.ord, d.devid, d.state, i.mcu_uid, d.mcu_uid FROM import_devices i JOIN devices d ON " +
                               sql::boardKeySql("d.mcu_uid") + " = i.board"
                               " WHERE d.state <> 'revoked' AND d.devid <> i.devid ORDER BY i.ord",
                           {});
    if (!boards) return std::unexpected(boards.error());
    const auto same = std::ranges::find_if(*boards, [](const SqlRow& b) { return b[3] == b[4]; });
    if (same != boards->end()) {
        const auto& b = *same;
        auto state = protocol::parseEnrollmentState(b[2].value_or(""));
        if (!state) return std::unexpected(state.error());
        if (auto c = checkMcuUid(rows[static_cast<std::size_t>(toInt(b[0]))],
                                 {{static_cast<std::uint32_t>(toInt(b[1])), *state}});
            !c)
            return c;
        return fail(Errc::internal, "import: a board's second live identity passed the MCU check");
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (!rows[i].reworkedFrom || std::ranges::find(duplicates, i) != duplicates.end()) continue;
        auto old = stateOf(tx, *rows[i].reworkedFrom);
        if (!old && old.error().code != Errc::notFound) return std::unexpected(old.error());
        if (auto c = checkReworkedFrom(rows[i], old ? std::optional(*old) : std::nullopt); !c) return c;
    }
    return {};
}

/// What importCopied() knows of its batch: the Dev IDs as text, and which rows are stored
/// already under the same record (duplicates, copied no second time).
struct CopyBatch {
    std::vector<std::string> ids;
    std::vector<bool> duplicate;
    std::size_t duplicates = 0;
};

/// A PostgreSQL array literal of one field of each row.
template <typename Field>
std::string columnArray(std::span<const DeviceRow> rows, Field field) {
    std::vector<std::string_view> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(field(r));
    return textArray(out);
}

/// Record ids stored before: the same content is a duplicate (marked in `batch`), other
/// content refuses the batch.
Status findDuplicates(SqlTx& tx, std::span<const DeviceRow> rows, CopyBatch& batch) {
    auto known = tx.query("SELECT record_id, " + sql::hexOut(SqlDialect::postgresql, "record_digest") +
                              " FROM devices WHERE record_id = ANY($1::text[])",
                          {columnArray(rows, [](const DeviceRow& r) -> std::string_view { return r.recordId; })});
    if (!known) return std::unexpected(known.error());
    std::unordered_map<std::string_view, std::string_view> digests;
    for (const auto& k : *known) digests.emplace(*k[0], *k[1]);
    for (std::size_t i = 0; i < rows.size() && !digests.empty(); ++i) {
        const auto d = digests.find(rows[i].recordId);
        if (d == digests.end()) continue;
        if (d->second != rows[i].recordDigest)
            return fail(Errc::alreadyExists, "record id " + rows[i].recordId + " was stored with other content");
        batch.duplicate[i] = true;
        ++batch.duplicates;
    }
    return {};
}

/// A Dev ID stored under another record refuses the batch (the same URN is the same Dev ID:
/// checkDevIdOfUrn).
Status checkTaken(SqlTx& tx, std::span<const DeviceRow> rows, const CopyBatch& batch) {
    auto taken = tx.query("SELECT devid FROM devices WHERE devid = ANY($1::bigint[])",
                          {textArray({batch.ids.begin(), batch.ids.end()})});
    if (!taken) return std::unexpected(taken.error());
    if (!taken->empty()) {
        std::unordered_set<std::string_view> takenIds;
        for (const auto& t : *taken) takenIds.insert(*t[0]);
        for (std::size_t i = 0; i < rows.size(); ++i)
            if (!batch.duplicate[i] && takenIds.contains(batch.ids[i]))
                return fail(Errc::alreadyExists, deviceTakenMessage(rows[i]));
    }
    return {};
}

/// PostgreSQL: the same rules as the staged path, in its order, each one query with the
/// batch's keys as an array (`= ANY($1)`, one index scan over the sorted keys) and the batch
/// order applied here. `lookUpStored` false leaves out the two lookups of rows stored before
/// (findDuplicates, checkTaken), for a batch that copyBatch() then finds new through devices'
/// unique indexes.
Status checkCopied(SqlTx& tx, std::span<const DeviceRow> rows, CopyBatch& batch, bool lookUpStored) {
    if (lookUpStored)
        if (auto c = findDuplicates(tx, rows, batch); !c) return c;
    const auto& duplicate = batch.duplicate;
    // The lot quota (the batch's lots, each once).
    std::unordered_set<std::string_view> lotNames;
    for (const auto& r : rows) lotNames.insert(r.lot);
    auto lots = tx.query("SELECT lot, first_id, last_id FROM lots WHERE lot = ANY($1::text[])",
                         {textArray({lotNames.begin(), lotNames.end()})});
    if (!lots) return std::unexpected(lots.error());
    std::unordered_map<std::string_view, std::vector<SqlRow>> quota;  // checkQuota's form: no row, no quota
    for (const auto& l : *lots) quota[*l[0]].push_back(SqlRow{l[1], l[2]});
    static const std::vector<SqlRow> noQuota;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (duplicate[i]) continue;
        const auto q = quota.find(rows[i].lot);
        if (auto c = checkQuota(rows[i], q == quota.end() ? noQuota : q->second); !c) return c;
    }
    if (lookUpStored)
        if (auto c = checkTaken(tx, rows, batch); !c) return c;
    // A board that is another live device (by devices_board; the IDs compared here).
    std::vector<std::string> boards;
    for (const auto& r : rows)
        if (r.mcuUid) boards.push_back(sql::boardKey(*r.mcuUid));
    if (!boards.empty()) {
        auto holders = tx.query("SELECT mcu_uid, devid, state FROM devices WHERE " + sql::boardKeySql("mcu_uid") +
                                    " = ANY($1::text[]) AND state <> 'revoked'",
                                {textArray({boards.begin(), boards.end()})});
        if (!holders) return std::unexpected(holders.error());
        std::unordered_multimap<std::string_view, const SqlRow*> byUid;
        for (const auto& h : *holders)
            if (h[0]) byUid.emplace(*h[0], &h);
        for (std::size_t i = 0; i < rows.size() && !byUid.empty(); ++i) {
            if (duplicate[i] || !rows[i].mcuUid) continue;
            const auto [from, to] = byUid.equal_range(*rows[i].mcuUid);
            for (auto h = from; h != to; ++h) {
                const auto& row = *h->second;
                const auto devId = static_cast<std::uint32_t>(toInt(row[1]));
                if (devId == rows[i].devId) continue;
                auto state = protocol::parseEnrollmentState(row[2].value_or(""));
                if (!state) return std::unexpected(state.error());
                if (auto c = checkMcuUid(rows[i], {{devId, *state}}); !c) return c;
                return fail(Errc::internal, "import: a board's second live identity passed the MCU check");
            }
        }
    }
    // A reworked board's old device.
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (duplicate[i] || !rows[i].reworkedFrom) continue;
        auto old = stateOf(tx, *rows[i].reworkedFrom);
        if (!old && old.error().code != Errc::notFound) return std::unexpected(old.error());
        if (auto c = checkReworkedFrom(rows[i], old ? std::optional(*old) : std::nullopt); !c) return c;
    }
    return {};
}

/// The rows of `batch` that are not duplicates COPYed straight into `devices`, then their
/// audit lines into `audit`. COPY inserts the table rows in groups (one WAL record per page of
/// rows) where INSERT … SELECT writes one per row, and the batch is not written and read back
/// through a staging table.
Result<ImportSummary> copyBatch(SqlTx& tx, std::span<const DeviceRow> rows, const CopyBatch& batch, std::int64_t now) {
    static const std::vector<std::string> deviceColumns{
        "devid", "urn", "fingerprint", "otp_hash", "lot", "box", "station", "record_id", "record_digest", "signature",
        "firmware_sha256", "created", "state", "cip", "cport", "cfingerprint", "description", "inserted_at", "updated_at",
        "failures", "mcu_uid", "reworked_from"};
    static const std::vector<std::string> auditColumns{"at", "devid", "event", "client", "detail"};
    std::vector<SqlRow> devices, audit;
    devices.reserve(rows.size());
    audit.reserve(rows.size());
    const std::string at = num(now), notMapped(stateName(DeviceState::notMapped));
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (batch.duplicate[i]) continue;
        const auto& r = rows[i];
        devices.push_back(SqlRow{batch.ids[i], r.urn, copyBytes(r.fingerprint), copyBytes(toHex(r.otpHash)), r.lot,
                                 r.box ? SqlValue(num(*r.box)) : std::nullopt, r.station, r.recordId,
                                 copyBytes(r.recordDigest), r.signature, copyBytes(r.firmwareSha256), r.created, notMapped,
                                 std::nullopt, std::nullopt, std::nullopt, std::string(), at, at, std::string("0"), r.mcuUid,
                                 r.reworkedFrom ? SqlValue(num(*r.reworkedFrom)) : std::nullopt});
        audit.push_back(SqlRow{at, batch.ids[i], std::string("stored"), r.station, storedAuditDetail(r)});
    }
    if (auto c = tx.copyRows("devices", deviceColumns, devices); !c) return std::unexpected(c.error());
    if (auto c = tx.copyRows("audit", auditColumns, audit); !c) return std::unexpected(c.error());
    return ImportSummary{devices.size(), batch.duplicates};
}

/// PostgreSQL's import. A batch of new records (the usual one: records never loaded before) is
/// copied without looking its record ids and Dev IDs up first: devices' unique indexes (the
/// primary key and record_id's; a URN is its Dev ID's, checkDevIdOfUrn) find any of them
/// stored before while COPY inserts the rows, which descends them for every row anyway.
/// Anything stored before, or any other refusal, fails that attempt, and the
/// batch goes again from the savepoint, the whole way: the same duplicates, answer and
/// message as if only that way existed.
Result<ImportSummary> importCopied(SqlTx& tx, std::span<const DeviceRow> rows, std::int64_t now) {
    // Every lookup below has its index. Without statistics of devices_board's expression (a
    // registry not yet analyzed) PostgreSQL guesses 0.5 % of the table per key and scans the
    // whole table instead, which grows the cost of every batch with the registry (measured:
    // a scan evaluating the expression for every device, per batch).
    if (auto c = tx.script("SET LOCAL enable_seqscan = off"); !c) return std::unexpected(c.error());
    CopyBatch batch{{}, std::vector<bool>(rows.size(), false), 0};
    batch.ids.reserve(rows.size());
    for (const auto& r : rows) batch.ids.push_back(num(r.devId));
    if (auto c = tx.script("SAVEPOINT import_new"); !c) return std::unexpected(c.error());
    auto fresh = [&]() -> Result<ImportSummary> {
        if (auto c = checkCopied(tx, rows, batch, false); !c) return std::unexpected(c.error());
        return copyBatch(tx, rows, batch, now);
    }();
    if (fresh) {
        if (auto c = tx.script("RELEASE SAVEPOINT import_new"); !c) return std::unexpected(c.error());
        return fresh;
    }
    if (auto c = tx.script("ROLLBACK TO SAVEPOINT import_new"); !c) return std::unexpected(fresh.error());
    if (auto c = checkCopied(tx, rows, batch, true); !c) return std::unexpected(c.error());
    return copyBatch(tx, rows, batch, now);
}

}  // namespace

Result<ImportSummary> importStaged(SqlTx& tx, SqlDialect dialect, std::span<const DeviceRow> rows, std::int64_t now) {
    if (dialect == SqlDialect::postgresql) return importCopied(tx, rows, now);
    ImportSummary out;
    if (auto c = stageImport(tx, dialect, rows); !c) return std::unexpected(c.error());
    auto known = checkImportRecords(tx, dialect, rows);
    if (!known) return std::unexpected(known.error());
    out.duplicates = known->size();
    if (auto c = checkImportRows(tx, rows, *known); !c) return std::unexpected(c.error());
    // The staged hex becomes the bytes of devices' binary columns here (schema version 10).
    const auto hex = [&](const char* column) { return sql::hexIn(dialect, column); };
    auto stored = tx.exec(std::string("INSERT INTO devices (") + kDeviceColumns + sql::roomColumn(dialect) +
                              ") SELECT devid, urn, " + hex("fingerprint") + ", " + hex("otp_hash") +
                              ", lot, box, station, record_id, " + hex("record_digest") + ", signature, " +
                              hex("firmware_sha256") + ", created, 'not-mapped', NULL, NULL, NULL, '', $1, $1, 0, mcu_uid, reworked_from" +
                              sql::roomValue(dialect) + " FROM import_devices ORDER BY ord",
                          {num(now)});
    if (!stored) return std::unexpected(stored.error());
    out.stored = static_cast<std::size_t>(*stored);
    auto audited = tx.exec("INSERT INTO audit (at, devid, event, client, detail)"
                           " SELECT $1, devid, 'stored', station, detail FROM import_devices ORDER BY ord",
                           {num(now)});
    if (!audited) return std::unexpected(audited.error());
    if (auto d = tx.script("DROP TABLE import_devices"); !d) return std::unexpected(d.error());
    return out;
}

}  // namespace tte::mothership
