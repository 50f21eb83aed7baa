// The bulk import of station records (sql_import.h): the batch staged, the rules of a single
// upload checked set-wise, then one INSERT … SELECT each into devices and audit.
#include "sql_import.h"

#include <algorithm>

#include "registry_rules.h"
#include "sql_values.h"
#include "tte/base/hex.h"

namespace tte::mothership {
namespace {

using sql::kDeviceColumns;
using sql::num;
using sql::stateOf;
using sql::toInt;

/// The batch in a staging table (`ord` = its place in the batch), with the audit detail
/// insertDevice() would write. Dropped again at the end of the transaction, or undone
/// with it.
Status stageImport(SqlTx& tx, SqlDialect dialect, std::span<const DeviceRow> rows) {
    const bool pg = dialect == SqlDialect::postgresql;
    // The keys joined with devices' in the collation of its columns (schema version 7).
    const std::string key = pg ? "TEXT COLLATE \"C\"" : "TEXT";
    if (auto c = tx.script(std::string("CREATE TEMP TABLE import_devices (ord ") + (pg ? "BIGINT" : "INTEGER") +
                           " PRIMARY KEY, devid BIGINT NOT NULL, urn " + key +
                           " NOT NULL, fingerprint TEXT NOT NULL,"
                           " otp_hash TEXT NOT NULL, lot TEXT NOT NULL, box BIGINT, station TEXT NOT NULL,"
                           " record_id " + key + " NOT NULL, record_digest TEXT NOT NULL, signature TEXT NOT NULL,"
                           " firmware_sha256 TEXT NOT NULL, created TEXT NOT NULL, mcu_uid " + key + ","
                           " reworked_from BIGINT, detail TEXT NOT NULL)");
        !c)
        return c;
    static const std::vector<std::string> columns{
        "ord",       "devid",         "urn",       "fingerprint",     "otp_hash", "lot",     "box",           "station",
        "record_id", "record_digest", "signature", "firmware_sha256", "created",  "mcu_uid", "reworked_from", "detail"};
    std::vector<SqlRow> staged;
    staged.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        staged.push_back(SqlRow{
            num(static_cast<std::int64_t>(i)), num(r.devId), r.urn, r.fingerprint, toHex(r.otpHash), r.lot,
            r.box ? SqlValue(num(*r.box)) : std::nullopt, r.station, r.recordId, r.recordDigest, r.signature,
            r.firmwareSha256, r.created, r.mcuUid, r.reworkedFrom ? SqlValue(num(*r.reworkedFrom)) : std::nullopt,
            "record " + r.recordId + (r.reworkedFrom ? ", reworked from " + toHex(*r.reworkedFrom, 8) : std::string())});
    }
    // No ANALYZE of the staging table: PostgreSQL sizes a table without statistics from
    // its pages, which is enough for the checks below, and ANALYZE cost as much as the COPY
    // (measured: 0.5 s for 50,000 rows).
    return tx.copyRows("import_devices", columns, staged);
}

/// Rows whose record id is stored already: the same content is a duplicate (taken out of
/// the staging table, stored no second time), other content refuses the batch. Returns
/// the places of the duplicates.
Result<std::vector<std::size_t>> checkImportRecords(SqlTx& tx, std::span<const DeviceRow> rows) {
    auto known = tx.query("SELECT i.ord, d.record_digest FROM import_devices i JOIN devices d"
                          " ON d.record_id = i.record_id ORDER BY i.ord",
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
    auto taken = tx.query("SELECT MIN(i.ord) FROM import_devices i WHERE EXISTS (SELECT 1 FROM devices d"
                          " WHERE d.devid = i.devid) OR EXISTS (SELECT 1 FROM devices d WHERE d.urn = i.urn)",
                          {});
    if (!taken) return std::unexpected(taken.error());
    if (!taken->empty() && taken->front()[0])
        return fail(Errc::alreadyExists, deviceTakenMessage(rows[static_cast<std::size_t>(toInt(taken->front()[0]))]));
    auto board = tx.query("SELECT i.ord, d.devid, d.state FROM import_devices i JOIN devices d ON d.mcu_uid = i.mcu_uid"
                          " WHERE d.state <> 'revoked' AND d.devid <> i.devid ORDER BY i.ord LIMIT 1",
                          {});
    if (!board) return std::unexpected(board.error());
    if (!board->empty()) {
        const auto& b = board->front();
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

}  // namespace

Result<ImportSummary> importStaged(SqlTx& tx, SqlDialect dialect, std::span<const DeviceRow> rows, std::int64_t now) {
    ImportSummary out;
    if (auto c = stageImport(tx, dialect, rows); !c) return std::unexpected(c.error());
    auto known = checkImportRecords(tx, rows);
    if (!known) return std::unexpected(known.error());
    out.duplicates = known->size();
    if (auto c = checkImportRows(tx, rows, *known); !c) return std::unexpected(c.error());
    auto stored = tx.exec(std::string("INSERT INTO devices (") + kDeviceColumns +
                              ") SELECT devid, urn, fingerprint, otp_hash, lot, box, station, record_id,"
                              " record_digest, signature, firmware_sha256, created, 'not-mapped', NULL, NULL,"
                              " NULL, '', $1, $1, 0, mcu_uid, reworked_from FROM import_devices ORDER BY ord",
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
