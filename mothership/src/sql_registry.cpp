// The registry's SQL, shared by SQLite and PostgreSQL: schema migrations (a versions
// table), the conditional updates of the device life cycle, and the audit trail.
#include <charconv>

#include "registry_rules.h"
#include "tte/base/hex.h"
#include "sql_db.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

using P = std::vector<SqlValue>;

std::string num(std::int64_t v) { return std::to_string(v); }
std::int64_t toInt(const SqlValue& v) {
    std::int64_t out = 0;
    if (v) std::from_chars(v->data(), v->data() + v->size(), out);
    return out;
}

constexpr const char* kDeviceColumns =
    "devid, urn, fingerprint, otp_hash, lot, box, station, record_id, record_digest, signature, firmware_sha256, "
    "created, state, cip, cport, cfingerprint, description, inserted_at, updated_at, failures";

Result<DeviceRow> rowToDevice(const SqlRow& r) {
    DeviceRow d;
    d.devId = static_cast<std::uint32_t>(toInt(r[0]));
    d.urn = r[1].value_or("");
    d.fingerprint = r[2].value_or("");
    auto hash = fromHex(r[3].value_or(""), "otp_hash");
    if (!hash) return std::unexpected(hash.error());
    d.otpHash = std::move(*hash);
    d.lot = r[4].value_or("");
    if (r[5]) d.box = static_cast<std::uint32_t>(toInt(r[5]));
    d.station = r[6].value_or("");
    d.recordId = r[7].value_or("");
    d.recordDigest = r[8].value_or("");
    d.signature = r[9].value_or("");
    d.firmwareSha256 = r[10].value_or("");
    d.created = r[11].value_or("");
    auto state = protocol::parseEnrollmentState(r[12].value_or(""));
    if (!state) return std::unexpected(state.error());
    d.state = *state;
    if (r[13]) d.controller = ControllerAddress{*r[13], static_cast<std::uint16_t>(toInt(r[14])), r[15].value_or("")};
    d.description = r[16].value_or("");
    d.insertedAt = toInt(r[17]);
    d.updatedAt = toInt(r[18]);
    d.failures = toInt(r[19]);
    return d;
}

std::string schemaV1(SqlDialect dialect) {
    const bool pg = dialect == SqlDialect::postgresql;
    std::string s =
        "CREATE TABLE devices (devid BIGINT PRIMARY KEY, urn TEXT NOT NULL UNIQUE, fingerprint TEXT NOT NULL,"
        " otp_hash TEXT NOT NULL, lot TEXT NOT NULL, box BIGINT, station TEXT NOT NULL,"
        " record_id TEXT NOT NULL UNIQUE, record_digest TEXT NOT NULL, signature TEXT NOT NULL,"
        " firmware_sha256 TEXT NOT NULL, created TEXT NOT NULL, state TEXT NOT NULL,"
        " cip TEXT, cport INTEGER, cfingerprint TEXT, description TEXT NOT NULL DEFAULT '',"
        " inserted_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, failures BIGINT NOT NULL DEFAULT 0);"
        "CREATE INDEX devices_lot ON devices(lot);"
        "CREATE TABLE audit (id ";
    s += pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
    s += ", at BIGINT NOT NULL, devid BIGINT, event TEXT NOT NULL, client TEXT NOT NULL, detail TEXT NOT NULL);"
         "CREATE INDEX audit_devid ON audit(devid);"
         "CREATE TABLE stations (name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, cert_pem TEXT NOT NULL,"
         " added_at BIGINT NOT NULL);"
         "CREATE TABLE lots (lot TEXT PRIMARY KEY, first_id BIGINT NOT NULL, last_id BIGINT NOT NULL);"
         "CREATE TABLE boxes (box BIGINT PRIMARY KEY, lot TEXT NOT NULL, first_id BIGINT NOT NULL,"
         " last_id BIGINT NOT NULL);";
    // The audit trail is append-only: the database itself refuses UPDATE and DELETE.
    if (pg) {
        s += "CREATE FUNCTION audit_append_only() RETURNS trigger AS $$ BEGIN"
             " RAISE EXCEPTION 'audit is append-only'; END $$ LANGUAGE plpgsql;"
             "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit"
             " FOR EACH ROW EXECUTE FUNCTION audit_append_only();";
    } else {
        s += "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
             "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;";
    }
    return s;
}

Status migrate(SqlDb& db) {
    return db.write([&](SqlTx& tx) -> Status {
        if (db.dialect() == SqlDialect::postgresql) {
            // One migrator at a time across processes.
            if (auto s = tx.script("SELECT pg_advisory_xact_lock(7474)"); !s) return s;
        }
        if (auto s = tx.script("CREATE TABLE IF NOT EXISTS schema_versions (version INTEGER PRIMARY KEY,"
                               " applied_at BIGINT NOT NULL)");
            !s)
            return s;
        auto rows = tx.query("SELECT COALESCE(MAX(version), 0) FROM schema_versions", {});
        if (!rows) return std::unexpected(rows.error());
        const std::int64_t version = toInt(rows->at(0).at(0));
        if (version > 1) return fail(Errc::unsupported, "the registry's schema version " + num(version) +
                                                            " is newer than this program (1)");
        if (version < 1) {
            if (auto s = tx.script(schemaV1(db.dialect())); !s) return s;
            auto r = tx.exec("INSERT INTO schema_versions (version, applied_at) VALUES (1, 0)", {});
            if (!r) return std::unexpected(r.error());
        }
        return {};
    });
}

Status appendAudit(SqlTx& tx, std::optional<std::uint32_t> devId, std::string_view event, std::string_view client,
             std::string_view detail, std::int64_t now) {
    auto r = tx.exec("INSERT INTO audit (at, devid, event, client, detail) VALUES ($1, $2, $3, $4, $5)",
                     {num(now), devId ? SqlValue(num(*devId)) : std::nullopt, std::string(event),
                      std::string(client), std::string(detail)});
    if (!r) return std::unexpected(r.error());
    return {};
}

class SqlRegistry final : public Registry {
public:
    explicit SqlRegistry(std::unique_ptr<SqlDb> db) : m_db(std::move(db)) {}

    Result<InsertOutcome> insertDevice(const DeviceRow& row, std::int64_t now) override {
        InsertOutcome outcome = InsertOutcome::stored;
        Status s = m_db->write([&](SqlTx& tx) -> Status {
            auto same = tx.query("SELECT record_digest FROM devices WHERE record_id = $1", {row.recordId});
            if (!same) return std::unexpected(same.error());
            if (!same->empty()) {
                if (same->front()[0] == row.recordDigest) {
                    outcome = InsertOutcome::duplicate;
                    return {};
                }
                return fail(Errc::alreadyExists, "record id " + row.recordId + " was stored with other content");
            }
            auto lot = tx.query("SELECT first_id, last_id FROM lots WHERE lot = $1", {row.lot});
            if (!lot) return std::unexpected(lot.error());
            if (auto q = checkQuota(row, *lot); !q) return q;
            auto taken = tx.query("SELECT devid, urn FROM devices WHERE devid = $1 OR urn = $2",
                                  {num(row.devId), row.urn});
            if (!taken) return std::unexpected(taken.error());
            if (!taken->empty()) return fail(Errc::alreadyExists, deviceTakenMessage(row));
            auto ins = tx.exec(std::string("INSERT INTO devices (") + kDeviceColumns +
                                   ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,NULL,NULL,NULL,'',$14,$14,0)",
                               {num(row.devId), row.urn, row.fingerprint, toHex(row.otpHash), row.lot,
                                row.box ? SqlValue(num(*row.box)) : std::nullopt, row.station, row.recordId,
                                row.recordDigest, row.signature, row.firmwareSha256, row.created,
                                std::string(stateName(DeviceState::notMapped)), num(now)});
            if (!ins) return std::unexpected(ins.error());
            return appendAudit(tx, row.devId, "stored", row.station, "record " + row.recordId, now);
        });
        if (!s) return std::unexpected(s.error());
        return outcome;
    }

    Result<DeviceRow> device(std::uint32_t devId) override {
        return readDevice(std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE devid = $1", num(devId),
                          "no device with Dev ID " + toHex(devId, 8));
    }
    Result<DeviceRow> deviceByUrn(std::string_view urn) override {
        return readDevice(std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE urn = $1", std::string(urn),
                          "no device with URN " + std::string(urn));
    }

    Status claim(std::uint32_t devId, const ControllerAddress& c, std::string_view description,
                 std::string_view client, std::int64_t now) override {
        return m_db->write([&](SqlTx& tx) -> Status {
            auto n = tx.exec("UPDATE devices SET state = 'mapped', cip = $2, cport = $3, cfingerprint = $4,"
                             " description = $5, updated_at = $6 WHERE devid = $1 AND state = 'not-mapped'",
                             {num(devId), c.ip, num(c.port), c.fingerprint, std::string(description), num(now)});
            if (!n) return std::unexpected(n.error());
            if (*n == 0) return explainNoTransition(tx, devId, "mapped");
            return appendAudit(tx, devId, "mapped", client,
                         "controller " + c.ip + " port " + num(c.port) + " fingerprint " + c.fingerprint, now);
        });
    }

    Status markRegistered(std::uint32_t devId, std::string_view client, std::int64_t now) override {
        return m_db->write([&](SqlTx& tx) -> Status {
            auto n = tx.exec("UPDATE devices SET state = 'registered', updated_at = $2 WHERE devid = $1 AND state = 'mapped'",
                             {num(devId), num(now)});
            if (!n) return std::unexpected(n.error());
            if (*n == 0) {
                auto state = stateOf(tx, devId);
                if (state && *state == DeviceState::registered) return {};
                return explainNoTransition(tx, devId, "registered");
            }
            return appendAudit(tx, devId, "registered", client, "", now);
        });
    }

    Status revoke(std::uint32_t devId, std::string_view reason, std::string_view actor, std::int64_t now) override {
        return m_db->write([&](SqlTx& tx) -> Status {
            auto n = tx.exec("UPDATE devices SET state = 'revoked', updated_at = $2 WHERE devid = $1",
                             {num(devId), num(now)});
            if (!n) return std::unexpected(n.error());
            if (*n == 0) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
            return appendAudit(tx, devId, "revoked", actor, std::string(reason), now);
        });
    }

    Status recordFailure(std::optional<std::uint32_t> devId, std::string_view event, std::string_view client,
                         std::string_view detail, std::int64_t now) override {
        return m_db->write([&](SqlTx& tx) -> Status {
            if (devId) {
                auto n = tx.exec("UPDATE devices SET failures = failures + 1 WHERE devid = $1", {num(*devId)});
                if (!n) return std::unexpected(n.error());
            }
            return appendAudit(tx, devId, event, client, detail, now);
        });
    }

    Result<std::vector<AuditEntry>> audit(std::optional<std::uint32_t> devId) override {
        std::vector<AuditEntry> out;
        Status s = m_db->read([&](SqlTx& tx) -> Status {
            auto rows = devId ? tx.query("SELECT id, at, devid, event, client, detail FROM audit WHERE devid = $1 ORDER BY id",
                                         {num(*devId)})
                              : tx.query("SELECT id, at, devid, event, client, detail FROM audit ORDER BY id", {});
            if (!rows) return std::unexpected(rows.error());
            for (const auto& r : *rows) {
                AuditEntry e{toInt(r[0]), toInt(r[1]), std::nullopt, r[3].value_or(""), r[4].value_or(""),
                             r[5].value_or("")};
                if (r[2]) e.devId = static_cast<std::uint32_t>(toInt(r[2]));
                out.push_back(std::move(e));
            }
            return {};
        });
        if (!s) return std::unexpected(s.error());
        return out;
    }

    Status addStation(const StationRow& st) override {
        return m_db->write([&](SqlTx& tx) -> Status {
            auto r = tx.exec("INSERT INTO stations (name, fingerprint, cert_pem, added_at) VALUES ($1, $2, $3, $4)",
                             {st.name, st.fingerprint, st.certPem, num(st.addedAt)});
            if (!r && r.error().code == Errc::alreadyExists)
                return fail(Errc::alreadyExists, "a station named " + st.name + " or with fingerprint " +
                                                     st.fingerprint + " is registered already");
            if (!r) return std::unexpected(r.error());
            return appendAudit(tx, std::nullopt, "station-added", "admin", st.name + " " + st.fingerprint, st.addedAt);
        });
    }
    Result<StationRow> stationByFingerprint(std::string_view fp) override {
        return readStation("fingerprint", fp);
    }
    Result<StationRow> stationByName(std::string_view name) override { return readStation("name", name); }

    Status setLotQuota(std::string_view lot, std::uint32_t first, std::uint32_t last) override {
        if (first > last) return fail(Errc::invalidArgument, "lot quota: first must not be above last");
        return m_db->write([&](SqlTx& tx) -> Status {
            auto r = tx.exec("INSERT INTO lots (lot, first_id, last_id) VALUES ($1, $2, $3) ON CONFLICT (lot)"
                             " DO UPDATE SET first_id = excluded.first_id, last_id = excluded.last_id",
                             {std::string(lot), num(first), num(last)});
            if (!r) return std::unexpected(r.error());
            return appendAudit(tx, std::nullopt, "lot-quota", "admin",
                         std::string(lot) + " " + toHex(first, 8) + ".." + toHex(last, 8), 0);
        });
    }

    Result<LotQuota> lotQuota(std::string_view lot) override {
        LotQuota q;
        Status s = m_db->read([&](SqlTx& tx) -> Status {
            auto rows = tx.query("SELECT first_id, last_id, (SELECT COUNT(*) FROM devices WHERE lot = $1)"
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

    Status addBox(const BoxRow& box) override {
        return m_db->write([&](SqlTx& tx) -> Status {
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

    Status forEachDevice(const std::function<Status(const DeviceRow&)>& fn) override {
        return m_db->read([&](SqlTx& tx) -> Status {
            auto rows = tx.query(std::string("SELECT ") + kDeviceColumns + " FROM devices ORDER BY devid", {});
            if (!rows) return std::unexpected(rows.error());
            for (const auto& r : *rows) {
                auto d = rowToDevice(r);
                if (!d) return std::unexpected(d.error());
                if (auto s = fn(*d); !s) return s;
            }
            return {};
        });
    }

    Status backup(const std::string& path) override { return m_db->backup(path); }

private:
    Result<DeviceRow> readDevice(const std::string& sql, std::string key, const std::string& missing) {
        Result<DeviceRow> out = fail(Errc::notFound, missing);
        Status s = m_db->read([&](SqlTx& tx) -> Status {
            auto rows = tx.query(sql, {std::move(key)});
            if (!rows) return std::unexpected(rows.error());
            if (!rows->empty()) out = rowToDevice(rows->front());
            return {};
        });
        if (!s) return std::unexpected(s.error());
        return out;
    }

    Result<StationRow> readStation(const std::string& column, std::string_view key) {
        Result<StationRow> out = fail(Errc::notFound, "no station with " + column + " " + std::string(key));
        Status s = m_db->read([&](SqlTx& tx) -> Status {
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

    static Result<DeviceState> stateOf(SqlTx& tx, std::uint32_t devId) {
        auto rows = tx.query("SELECT state FROM devices WHERE devid = $1", {num(devId)});
        if (!rows) return std::unexpected(rows.error());
        if (rows->empty()) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
        return protocol::parseEnrollmentState(rows->front()[0].value_or(""));
    }

    static Status explainNoTransition(SqlTx& tx, std::uint32_t devId, std::string_view target) {
        auto state = stateOf(tx, devId);
        if (!state) return std::unexpected(state.error());
        return transitionError(*state, target);
    }

    std::unique_ptr<SqlDb> m_db;
};

}  // namespace

Result<std::unique_ptr<Registry>> makeSqlRegistry(std::unique_ptr<SqlDb> db) {
    if (auto s = migrate(*db); !s) return std::unexpected(s.error());
    return std::make_unique<SqlRegistry>(std::move(db));
}

}  // namespace tte::mothership
