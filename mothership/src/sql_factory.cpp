// The registry's SQL for the factory's side of it: the stations allowed to upload, the Dev ID
// quota of each lot, and the boxes (each a range of a lot's Dev IDs) (sql_factory.h).
#include "sql_factory.h"

#include "registry_rules.h"
#include "sql_values.h"
#include "tte/base/hex.h"

namespace tte::mothership::sql {

Status addStation(SqlDb& db, const StationRow& st) {
    return db.write([&](SqlTx& tx) -> Status {
        auto r = tx.exec("INSERT INTO stations (name, fingerprint, cert_pem, added_at) VALUES ($1, $2, $3, $4)",
                         {st.name, st.fingerprint, st.certPem, num(st.addedAt)});
        if (!r && r.error().code == Errc::alreadyExists)
            return fail(Errc::alreadyExists, "a station named " + st.name + " or with fingerprint " +
                                                 st.fingerprint + " is registered already");
        if (!r) return std::unexpected(r.error());
        return appendAudit(tx, std::nullopt, "station-added", "admin", st.name + " " + st.fingerprint, st.addedAt);
    });
}

Result<std::vector<StationRow>> stations(SqlDb& db) {
    std::vector<StationRow> out;
    Status s = db.read([&](SqlTx& tx) -> Status {
        auto rows = tx.query("SELECT name, fingerprint, cert_pem, added_at FROM stations ORDER BY name", {});
        if (!rows) return std::unexpected(rows.error());
        for (const auto& r : *rows) out.push_back(StationRow{r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), toInt(r[3])});
        return {};
    });
    if (!s) return std::unexpected(s.error());
    return out;
}

Status removeStation(SqlDb& db, std::string_view name, std::string_view actor, std::int64_t now) {
    return db.write([&](SqlTx& tx) -> Status {
        auto rows = tx.query("SELECT fingerprint FROM stations WHERE name = $1", {std::string(name)});
        if (!rows) return std::unexpected(rows.error());
        if (rows->empty()) return fail(Errc::notFound, "no station named " + std::string(name));
        auto n = tx.exec("DELETE FROM stations WHERE name = $1", {std::string(name)});
        if (!n) return std::unexpected(n.error());
        return appendAudit(tx, std::nullopt, "station-removed", actor,
                           std::string(name) + " " + rows->front()[0].value_or(""), now);
    });
}

Status setLotQuota(SqlDb& db, std::string_view lot, std::uint32_t first, std::uint32_t last) {
    if (first > last) return fail(Errc::invalidArgument, "lot quota: first must not be above last");
    return db.write([&](SqlTx& tx) -> Status {
        auto r = tx.exec("INSERT INTO lots (lot, first_id, last_id) VALUES ($1, $2, $3) ON CONFLICT (lot)"
                         " DO UPDATE SET first_id = excluded.first_id, last_id = excluded.last_id",
                         {std::string(lot), num(first), num(last)});
        if (!r) return std::unexpected(r.error());
        return appendAudit(tx, std::nullopt, "lot-quota", "admin",
                           std::string(lot) + " " + toHex(first, 8) + ".." + toHex(last, 8), 0);
    });
}

Status foldDeviceCounts(SqlDb& db) {
    if (db.dialect() != SqlDialect::postgresql) return {};
    return db.write([](SqlTx& tx) -> Status {
        auto mine = tx.query("SELECT pg_try_advisory_xact_lock(" + num(kFoldLock) + ")", {});
        if (!mine) return std::unexpected(mine.error());
        if (mine->at(0).at(0) != "t") return {};  // another MotherShip folds them now
        auto folded = tx.exec("WITH many AS (SELECT lot, state FROM device_counts GROUP BY lot, state HAVING COUNT(*) > 1),"
                              " gone AS (DELETE FROM device_counts c USING many m WHERE c.lot = m.lot AND c.state = m.state"
                              " RETURNING c.lot, c.state, c.n)"
                              " INSERT INTO device_counts (lot, state, n) SELECT lot, state, SUM(n) FROM gone GROUP BY lot, state",
                              {});
        if (!folded) return std::unexpected(folded.error());
        return {};
    });
}

Result<LotQuota> lotQuota(SqlDb& db, std::string_view lot) {
    if (auto f = foldDeviceCounts(db); !f) return std::unexpected(f.error());
    LotQuota q;
    Status s = db.read([&](SqlTx& tx) -> Status {
        auto rows = tx.query("SELECT first_id, last_id, (SELECT COALESCE(SUM(n), 0) FROM device_counts WHERE lot = $1)"
                             " FROM lots WHERE lot = $1",
                             {std::string(lot)});
        if (!rows) return std::unexpected(rows.error());
        if (rows->empty()) return fail(Errc::notFound, "no quota for lot " + std::string(lot));
        q = LotQuota{std::string(lot), protocol::DevId{static_cast<std::uint32_t>(toInt((*rows)[0][0]))},
                     protocol::DevId{static_cast<std::uint32_t>(toInt((*rows)[0][1]))},
                     static_cast<std::uint64_t>(toInt((*rows)[0][2]))};
        return {};
    });
    if (!s) return std::unexpected(s.error());
    return q;
}

Result<std::vector<LotQuota>> lots(SqlDb& db) {
    if (auto f = foldDeviceCounts(db); !f) return std::unexpected(f.error());
    std::vector<LotQuota> out;
    Status s = db.read([&](SqlTx& tx) -> Status {
        auto rows = tx.query("SELECT l.lot, l.first_id, l.last_id, COALESCE(SUM(c.n), 0) FROM lots l"
                             " LEFT JOIN device_counts c ON c.lot = l.lot GROUP BY l.lot, l.first_id, l.last_id ORDER BY l.lot",
                             {});
        if (!rows) return std::unexpected(rows.error());
        for (const auto& r : *rows)
            out.push_back(LotQuota{r[0].value_or(""), protocol::DevId{static_cast<std::uint32_t>(toInt(r[1]))},
                                   protocol::DevId{static_cast<std::uint32_t>(toInt(r[2]))},
                                   static_cast<std::uint64_t>(toInt(r[3]))});
        return {};
    });
    if (!s) return std::unexpected(s.error());
    return out;
}

Status addBox(SqlDb& db, const BoxRow& box) {
    return db.write([&](SqlTx& tx) -> Status {
        auto lot = tx.query("SELECT first_id, last_id FROM lots WHERE lot = $1", {box.lot});
        if (!lot) return std::unexpected(lot.error());
        if (auto q = checkBox(box, *lot); !q) return q;
        auto known = tx.query("SELECT lot, first_id, last_id FROM boxes WHERE box = $1", {num(box.box)});
        if (!known) return std::unexpected(known.error());
        if (!known->empty()) {
            const auto& k = known->front();
            if (k[0] == box.lot && toInt(k[1]) == box.first && toInt(k[2]) == box.last) return {};
            return fail(Errc::alreadyExists, "box " + toHex(box.box, 8) + " is registered with another range");
        }
        auto r = tx.exec("INSERT INTO boxes (box, lot, first_id, last_id) VALUES ($1, $2, $3, $4)",
                         {num(box.box), box.lot, num(box.first), num(box.last)});
        if (!r) return std::unexpected(r.error());
        return {};
    });
}

Result<StationRow> readStation(SqlDb& db, const std::string& column, std::string_view key) {
    Result<StationRow> out = fail(Errc::notFound, "no station with " + column + " " + std::string(key));
    Status s = db.read([&](SqlTx& tx) -> Status {
        auto rows = tx.query("SELECT name, fingerprint, cert_pem, added_at FROM stations WHERE " + column + " = $1",
                             {std::string(key)});
        if (!rows) return std::unexpected(rows.error());
        if (!rows->empty()) {
            const auto& r = rows->front();
            out = StationRow{r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), toInt(r[3])};
        }
        return {};
    });
    if (!s) return std::unexpected(s.error());
    return out;
}

}  // namespace tte::mothership::sql
