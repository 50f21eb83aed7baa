// The registry's SQL, shared by SQLite and PostgreSQL: the conditional updates of the device
// life cycle and the audit trail (the schema and its migrations: sql_schema.cpp; the bulk
// import: sql_import.cpp; stations, lots and boxes: sql_factory.cpp).
#include <algorithm>

#include "registry_rules.h"
#include "tte/base/hex.h"
#include "sql_db.h"
#include "sql_factory.h"
#include "sql_import.h"
#include "sql_schema.h"
#include "sql_values.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

using P = std::vector<SqlValue>;

using sql::appendAudit;
using sql::kDeviceColumns;
using sql::kDevicePage;
using sql::deviceSelect;
using sql::hexIn;
using sql::hexOut;
using sql::num;
using sql::roomColumn;
using sql::roomFreed;
using sql::roomValue;
using sql::rowToDevice;
using sql::stateOf;
using sql::toInt;

class SqlRegistry final : public Registry {
public:
    explicit SqlRegistry(std::unique_ptr<SqlDb> db) : m_db(std::move(db)) {}

    Result<InsertOutcome> insertDevice(const DeviceRow& row, std::int64_t now) override {
        if (auto s = checkDevIdOfUrn(row); !s) return std::unexpected(s.error());
        InsertOutcome outcome = InsertOutcome::stored;
        Status s = m_db->write([&](SqlTx& tx) -> Status {
            auto same = tx.query("SELECT " + hexOut(dialect(), "record_digest") + " FROM devices WHERE record_id = $1",
                                 {row.recordId});
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
            // The same URN is the same Dev ID (checkDevIdOfUrn).
            auto taken = tx.query("SELECT devid FROM devices WHERE devid = $1", {num(row.devId)});
            if (!taken) return std::unexpected(taken.error());
            if (!taken->empty()) return fail(Errc::alreadyExists, deviceTakenMessage(row));
            if (row.reworkedFrom) {
                auto old = stateOf(tx, *row.reworkedFrom);
                if (!old && old.error().code != Errc::notFound) return std::unexpected(old.error());
                if (auto c = checkReworkedFrom(row, old ? std::optional(*old) : std::nullopt); !c) return c;
            }
            if (row.mcuUid) {
                // By devices_board; the IDs compared here (sql_import.cpp, checkImportRows).
                auto holders = tx.query("SELECT devid, state, mcu_uid FROM devices WHERE " + sql::boardKeySql("mcu_uid") + " = $1",
                                        {sql::boardKey(*row.mcuUid)});
                if (!holders) return std::unexpected(holders.error());
                std::vector<std::pair<std::uint32_t, DeviceState>> found;
                for (const auto& h : *holders) {
                    if (h[2] != row.mcuUid) continue;
                    auto state = protocol::parseEnrollmentState(h[1].value_or(""));
                    if (!state) return std::unexpected(state.error());
                    found.emplace_back(static_cast<std::uint32_t>(toInt(h[0])), *state);
                }
                if (auto c = checkMcuUid(row, found); !c) return c;
            }
            auto ins = tx.exec(std::string("INSERT INTO devices (") + kDeviceColumns + roomColumn(dialect()) + ") VALUES ($1,$2," +
                                   hex("$3") + "," + hex("$4") + ",$5,$6,$7,$8," + hex("$9") + ",$10," + hex("$11") +
                                   ",$12,$13,NULL,NULL,NULL,'',$14,$14,0,$15,$16" + roomValue(dialect()) + ")",
                               {num(row.devId), row.urn, row.fingerprint, toHex(row.otpHash), row.lot,
                                row.box ? SqlValue(num(*row.box)) : std::nullopt, row.station, row.recordId,
                                row.recordDigest, row.signature, row.firmwareSha256, row.created,
                                std::string(stateName(DeviceState::notMapped)), num(now), row.mcuUid,
                                row.reworkedFrom ? SqlValue(num(*row.reworkedFrom)) : std::nullopt});
            if (!ins) return std::unexpected(ins.error());
            if (row.pskWrapped) {
                auto psk = tx.exec("UPDATE devices SET psk_wrapped = $2 WHERE devid = $1", {num(row.devId), *row.pskWrapped});
                if (!psk) return std::unexpected(psk.error());
            }
            return appendAudit(tx, row.devId, "stored", row.station, storedAuditDetail(row), now);
        });
        if (!s) return std::unexpected(s.error());
        return outcome;
    }

    Result<ImportSummary> importDevices(std::span<const DeviceRow> rows, std::int64_t now) override {
        if (auto s = checkBatch(rows); !s) return std::unexpected(s.error());
        ImportSummary out;
        if (rows.empty()) return out;
        Status s = m_db->write([&](SqlTx& tx) -> Status {
            auto imported = importStaged(tx, m_db->dialect(), rows, now);
            if (!imported) return std::unexpected(imported.error());
            out = *imported;
            return {};
        });
        if (!s) return std::unexpected(s.error());
        return out;
    }

    Result<DeviceRow> device(std::uint32_t devId) override {
        return readDevice("SELECT " + deviceSelect(dialect(), true) + " FROM devices WHERE devid = $1", {num(devId)},
                          "no device with Dev ID " + toHex(devId, 8));
    }
    Result<DeviceRow> deviceRow(std::uint32_t devId) override {
        return readDevice("SELECT " + deviceSelect(dialect(), false) + " FROM devices WHERE devid = $1", {num(devId)},
                          "no device with Dev ID " + toHex(devId, 8));
    }
    Result<std::optional<std::vector<std::uint8_t>>> otpHash(std::uint32_t devId) override {
        // Always one row (NULL for an unknown Dev ID), so both cases run the same statement
        // steps; the failure count of device() is not read here: it grows with every wrong OTP.
        auto rows = m_db->readOne("SELECT (SELECT " + hexOut(dialect(), "otp_hash") + " FROM devices WHERE devid = $1)",
                                  {num(devId)});
        if (!rows) return std::unexpected(rows.error());
        if (rows->empty() || !rows->front()[0]) return std::optional<std::vector<std::uint8_t>>{};
        auto hash = fromHex(*rows->front()[0], "otp_hash");
        if (!hash) return std::unexpected(hash.error());
        return std::optional(std::move(*hash));
    }
    Result<DeviceRow> deviceByUrn(std::string_view urn) override {
        // By the URN's Dev ID, the table's key; the URN compared as the text it was stored with.
        const std::string missing = "no device with URN " + std::string(urn);
        const auto id = devIdOfUrn(urn);
        if (!id) return fail(Errc::notFound, missing);
        return readDevice("SELECT " + deviceSelect(dialect(), false) + " FROM devices WHERE devid = $1 AND urn = $2",
                          {num(*id), std::string(urn)}, missing);
    }

    Status claim(std::uint32_t devId, const ControllerAddress& c, std::string_view description,
                 std::string_view client, std::int64_t now) override {
        return m_db->write([&](SqlTx& tx) -> Status {
            auto n = tx.exec("UPDATE devices SET state = 'mapped', cip = $2, cport = $3, cfingerprint = " + hex("$4") +
                                 ", description = $5, updated_at = $6, cpsk_wrapped = $7" + roomFreed(dialect()) +
                                 " WHERE devid = $1 AND state = 'not-mapped'",
                             {num(devId), c.ip, num(c.port), c.fingerprint, std::string(description), num(now),
                              c.pskWrapped});
            if (!n) return std::unexpected(n.error());
            if (*n == 0) return explainNoTransition(tx, devId, "mapped");
            return appendAudit(tx, devId, "mapped", client, mappingDetail(c), now);
        });
    }

    Result<DeviceState> preEnroll(std::uint32_t devId, const PreEnrollment& what, std::int64_t now) override {
        DeviceState after = DeviceState::mapped;
        Status s = m_db->write([&](SqlTx& tx) -> Status {
            auto rows = tx.query("SELECT " + deviceSelect(dialect(), true) + " FROM devices WHERE devid = $1", {num(devId)});
            if (!rows) return std::unexpected(rows.error());
            if (rows->empty()) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
            auto device = rowToDevice(rows->front());
            if (!device) return std::unexpected(device.error());
            auto plan = planPreEnroll(*device, what);
            if (!plan) return std::unexpected(plan.error());
            after = device->state;
            if (!*plan) return {};
            const ControllerAddress& c = what.controller;
            // Conditional, as the claim: of a claim and a pre-enrollment at once exactly one wins.
            auto n = tx.exec("UPDATE devices SET state = 'mapped', cip = $2, cport = $3, cfingerprint = " + hex("$4") +
                                 ", description = $5, preenrolled_by = $6, updated_at = $7" + roomFreed(dialect()) +
                                 " WHERE devid = $1 AND state = 'not-mapped'",
                             {num(devId), c.ip, num(c.port), c.fingerprint, what.description, what.station, num(now)});
            if (!n) return std::unexpected(n.error());
            if (*n == 0) return explainNoTransition(tx, devId, "pre-enrolled");
            after = DeviceState::mapped;
            return appendAudit(tx, devId, "pre-enrolled", "station " + what.station, mappingDetail(c), now);
        });
        if (!s) return std::unexpected(s.error());
        return after;
    }

    Status markRegistered(std::uint32_t devId, std::string_view client, std::int64_t now) override {
        return m_db->write([&](SqlTx& tx) { return registerDevice(tx, devId, client, now); });
    }

    void markRegisteredAsync(std::uint32_t devId, std::string client, std::int64_t now,
                             std::function<void(Status)> done) override {
        m_db->writeAsync([devId, client = std::move(client), now](SqlTx& tx) { return registerDevice(tx, devId, client, now); },
                         std::move(done));
    }

    Result<RevokeSummary> revoke(const RevokeTarget& target, const Revocation& why, std::int64_t now) override {
        RevokeSummary summary;
        Status s = m_db->write([&](SqlTx& tx) -> Status {
            const bool isLot = target.kind == RevokeTarget::Kind::lot;
            const char* column = target.kind == RevokeTarget::Kind::device ? "devid" : isLot ? "lot" : "box";
            auto rows = tx.query(std::string("SELECT devid, state, station FROM devices WHERE ") + column +
                                     " = $1 ORDER BY devid",
                                 {isLot ? target.lot : num(target.number)});
            if (!rows) return std::unexpected(rows.error());
            std::vector<RevokeCandidate> candidates;
            for (const auto& r : *rows) {
                auto state = protocol::parseEnrollmentState(r[1].value_or(""));
                if (!state) return std::unexpected(state.error());
                candidates.push_back({static_cast<std::uint32_t>(toInt(r[0])), *state, r[2].value_or("")});
            }
            auto plan = planRevocation(target, why, candidates);
            if (!plan) return std::unexpected(plan.error());
            summary = RevokeSummary{{}, plan->alreadyRevoked};
            const std::string detail = revocationDetail(target, why);
            for (const std::uint32_t devId : plan->revoked) {
                // Conditional: a revocation that committed meanwhile keeps its reason and time.
                auto n = tx.exec("UPDATE devices SET state = 'revoked', revoked_at = $2, revoked_by = $3,"
                                 " revoke_reason = $4, updated_at = $2" + roomFreed(dialect()) +
                                 " WHERE devid = $1 AND state <> 'revoked'",
                                 {num(devId), num(now), why.actor, why.reason});
                if (!n) return std::unexpected(n.error());
                if (*n == 0) {
                    summary.alreadyRevoked.push_back(devId);
                    continue;
                }
                if (auto a = appendAudit(tx, devId, "revoked", why.actor, detail, now); !a) return a;
                summary.revoked.push_back(devId);
            }
            std::sort(summary.alreadyRevoked.begin(), summary.alreadyRevoked.end());
            return {};
        });
        if (!s) return std::unexpected(s.error());
        return summary;
    }

    Status recordFailure(std::optional<std::uint32_t> devId, std::string_view event, std::string_view client,
                         std::string_view detail, std::int64_t now) override {
        return m_db->write([&](SqlTx& tx) -> Status { return appendAudit(tx, devId, event, client, detail, now); });
    }

    Result<std::int64_t> lockedUntil(const std::vector<std::string>& keys, std::int64_t now) override {
        std::string sql = "SELECT COALESCE(MAX(locked_until), 0) FROM attempt_limits WHERE locked_until > $1 AND subject IN (";
        std::vector<SqlValue> params{num(now)};
        for (const auto& key : keys) {
            sql += (params.size() > 1 ? ", $" : "$") + num(static_cast<std::int64_t>(params.size() + 1));
            params.emplace_back(key);
        }
        auto rows = m_db->readOne(sql + ")", params);
        if (!rows) return std::unexpected(rows.error());
        return toInt(rows->at(0).at(0));
    }

    Status countFailure(const std::vector<FailureSubject>& subjects, const FailurePolicy& policy, std::uint32_t devId,
                        std::string_view event, std::string_view client, std::string_view detail,
                        std::int64_t now) override {
        // Another instance may count the same subject at the same moment: the row exists
        // before it is read, and PostgreSQL locks it for the read-modify-write (SQLite has one
        // writer anyway).
        const std::string lock = m_db->dialect() == SqlDialect::postgresql ? " FOR UPDATE" : "";
        return m_db->write([&](SqlTx& tx) -> Status {
            for (const auto& subject : subjects) {
                auto made = tx.exec("INSERT INTO attempt_limits (subject, failures, window_start, locked_until)"
                                    " VALUES ($1, 0, 0, 0) ON CONFLICT (subject) DO NOTHING",
                                    {subject.key});
                if (!made) return std::unexpected(made.error());
                auto rows = tx.query("SELECT failures, window_start, locked_until FROM attempt_limits WHERE subject = $1" + lock,
                                     {subject.key});
                if (!rows) return std::unexpected(rows.error());
                if (rows->empty()) return fail(Errc::internal, "attempt_limits: the row just made is missing");
                const auto& r = rows->front();
                const FailureCount next =
                    countFailureStep(FailureCount{toInt(r[0]), toInt(r[1]), toInt(r[2])}, subject.limit, policy, now);
                auto n = tx.exec("UPDATE attempt_limits SET failures = $2, window_start = $3, locked_until = $4 WHERE subject = $1",
                                 {subject.key, num(next.failures), num(next.windowStart), num(next.lockedUntil)});
                if (!n) return std::unexpected(n.error());
            }
            return appendAudit(tx, devId, event, client, detail, now);
        });
    }

    Status pruneFailures(const FailurePolicy& policy, std::int64_t now) override {
        return m_db->write([&](SqlTx& tx) -> Status {
            auto n = tx.exec("DELETE FROM attempt_limits WHERE locked_until <= $1 AND window_start < $2",
                             {num(now), num(now - policy.windowMs)});
            if (!n) return std::unexpected(n.error());
            return {};
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

    Status addStation(const StationRow& st) override { return sql::addStation(*m_db, st); }
    Result<StationRow> stationByFingerprint(std::string_view fp) override {
        return sql::readStation(*m_db, "fingerprint", fp);
    }
    Result<StationRow> stationByName(std::string_view name) override { return sql::readStation(*m_db, "name", name); }
    Result<std::vector<StationRow>> stations() override { return sql::stations(*m_db); }
    Status removeStation(std::string_view name, std::string_view actor, std::int64_t now) override {
        return sql::removeStation(*m_db, name, actor, now);
    }
    Status setLotQuota(std::string_view lot, std::uint32_t first, std::uint32_t last) override {
        return sql::setLotQuota(*m_db, lot, first, last);
    }
    Result<LotQuota> lotQuota(std::string_view lot) override { return sql::lotQuota(*m_db, lot); }
    Result<std::vector<LotQuota>> lots() override { return sql::lots(*m_db); }
    Status addBox(const BoxRow& box) override { return sql::addBox(*m_db, box); }

    // In pages of Dev IDs (kDevicePage) within one read transaction, so that the walk sees one
    // snapshot of the registry (on PostgreSQL REPEATABLE READ) and holds one page in memory:
    // read whole, a registry took 1.9 GB per million devices (`admin export`, docs/OPERATIONS.md).
    Status forEachDevice(const std::function<Status(const DeviceRow&)>& fn) override {
        return m_db->read([&](SqlTx& tx) -> Status {
            if (dialect() == SqlDialect::postgresql) {
                if (auto s = tx.script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); !s) return s;
            }
            const std::string select = "SELECT " + deviceSelect(dialect(), true) + " FROM devices";
            const std::string page = " ORDER BY devid LIMIT " + num(kDevicePage);
            std::optional<std::uint32_t> last;
            for (;;) {
                auto rows = last ? tx.query(select + " WHERE devid > $1" + page, {num(*last)}) : tx.query(select + page, {});
                if (!rows) return std::unexpected(rows.error());
                for (const auto& r : *rows) {
                    auto d = rowToDevice(r);
                    if (!d) return std::unexpected(d.error());
                    if (auto s = fn(*d); !s) return s;
                    last = d->devId;
                }
                if (static_cast<std::int64_t>(rows->size()) < kDevicePage) return {};
            }
        });
    }

    Status backup(const std::string& path) override { return m_db->backup(path); }

    Result<RegistryStats> stats(std::int64_t now) override {
        if (auto f = sql::foldDeviceCounts(*m_db); !f) return std::unexpected(f.error());
        RegistryStats out;
        Status s = m_db->read([&](SqlTx& tx) -> Status {
            auto states = tx.query("SELECT state, SUM(n) FROM device_counts GROUP BY state", {});
            if (!states) return std::unexpected(states.error());
            for (const auto& r : *states) {
                auto state = protocol::parseEnrollmentState(r[0].value_or(""));
                if (!state) return std::unexpected(state.error());
                out.devices[static_cast<int>(*state)] = toInt(r[1]);
            }
            auto counts = tx.query("SELECT (SELECT COUNT(*) FROM stations), (SELECT COUNT(*) FROM lots),"
                                   " (SELECT COUNT(*) FROM attempt_limits WHERE locked_until > $1)",
                                   {num(now)});
            if (!counts) return std::unexpected(counts.error());
            out.stations = toInt(counts->at(0)[0]);
            out.lots = toInt(counts->at(0)[1]);
            out.lockedSubjects = toInt(counts->at(0)[2]);
            return {};
        });
        if (!s) return std::unexpected(s.error());
        out.wal = m_db->walState();
        return out;
    }

    Status ping() override {
        return m_db->read([&](SqlTx& tx) -> Status {
            auto rows = tx.query("SELECT MAX(version) FROM schema_versions", {});
            if (!rows) return std::unexpected(rows.error());
            return {};
        });
    }

private:
    [[nodiscard]] SqlDialect dialect() const { return m_db->dialect(); }
    /// hexIn() of a parameter: a SHA-256 column's hex as its bytes (schema version 10).
    [[nodiscard]] std::string hex(std::string_view param) const { return hexIn(dialect(), param); }

    Result<DeviceRow> readDevice(const std::string& sql, P params, const std::string& missing) {
        auto rows = m_db->readOne(sql, std::move(params));
        if (!rows) return std::unexpected(rows.error());
        if (rows->empty()) return fail(Errc::notFound, missing);
        return rowToDevice(rows->front());
    }

    static Status explainNoTransition(SqlTx& tx, std::uint32_t devId, std::string_view target) {
        auto state = stateOf(tx, devId);
        if (!state) return std::unexpected(state.error());
        return transitionError(*state, target);
    }

    /// mapped → registered with its audit line; nothing when registered already.
    static Status registerDevice(SqlTx& tx, std::uint32_t devId, std::string_view client, std::int64_t now) {
        auto n = tx.exec("UPDATE devices SET state = 'registered', updated_at = $2 WHERE devid = $1 AND state = 'mapped'",
                         {num(devId), num(now)});
        if (!n) return std::unexpected(n.error());
        if (*n == 0) {
            auto state = stateOf(tx, devId);
            if (state && *state == DeviceState::registered) return {};
            return explainNoTransition(tx, devId, "registered");
        }
        return appendAudit(tx, devId, "registered", client, "", now);
    }

    std::unique_ptr<SqlDb> m_db;
};

}  // namespace

Result<std::unique_ptr<Registry>> makeSqlRegistry(std::unique_ptr<SqlDb> db) {
    if (auto s = migrateSchema(*db); !s) return std::unexpected(s.error());
    return std::make_unique<SqlRegistry>(std::move(db));
}

}  // namespace tte::mothership
