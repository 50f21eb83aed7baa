// The registry's schema migrations (sql_schema.h): one function per version, applied in order.
#include "sql_schema.h"

#include <functional>
#include <iterator>

#include "sql_values.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

constexpr std::int64_t kSchemaVersion = kRegistrySchemaVersion;

/// One schema version's migration.
using Migration = std::function<Status(SqlTx&)>;

/// A migration that is one script.
Migration script(std::string sql) {
    return [sql = std::move(sql)](SqlTx& tx) { return tx.script(sql); };
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

/// Version 2: failure counts and lockouts in the registry (they survive a restart and are
/// shared by every instance); the failure counter of a device comes from the audit trail.
std::string schemaV2() {
    return "CREATE TABLE attempt_limits (subject TEXT PRIMARY KEY, failures BIGINT NOT NULL,"
           " window_start BIGINT NOT NULL, locked_until BIGINT NOT NULL);"
           "CREATE INDEX audit_devid_event ON audit(devid, event);";
}

/// Version 3: the board MCU's unique ID of each record (station records carry `mcu_uid`); NULL for
/// devices stored before, and for records of stations that do not read it. Indexed: a station
/// and QA look a board up by it. Not UNIQUE: a reworked board keeps its ID under a new Dev ID.
std::string schemaMcuUid() {
    return "ALTER TABLE devices ADD COLUMN mcu_uid TEXT;"
           "CREATE INDEX devices_mcu_uid ON devices(mcu_uid);";
}

/// Version 4, revocation: who revoked a device, when and why, kept in its row (the audit trail has the
/// same as a `revoked` line), backfilled for devices revoked before; and the Dev ID a reworked
/// board had before (`reworked_from`). Its own function, so that it can take another number
/// when migrations of other work come first.
std::string schemaRevocation() {
    const std::string lastRevoked =
        "(SELECT %s FROM audit WHERE audit.devid = devices.devid AND audit.event = 'revoked' ORDER BY audit.id DESC LIMIT 1)";
    const auto latest = [&](const char* column) {
        std::string q = lastRevoked;
        q.replace(q.find("%s"), 2, column);
        return q;
    };
    return "ALTER TABLE devices ADD COLUMN revoked_at BIGINT NOT NULL DEFAULT 0;"
           "ALTER TABLE devices ADD COLUMN revoked_by TEXT NOT NULL DEFAULT '';"
           "ALTER TABLE devices ADD COLUMN revoke_reason TEXT NOT NULL DEFAULT '';"
           "ALTER TABLE devices ADD COLUMN reworked_from BIGINT;"
           "UPDATE devices SET revoked_at = COALESCE(" + latest("at") + ", 0), revoked_by = COALESCE(" +
           latest("client") + ", ''), revoke_reason = COALESCE(" + latest("detail") + ", '') WHERE state = 'revoked';"
           "CREATE INDEX devices_box ON devices(box);";
}

/// Version 5, DTLS-PSK devices (PROTOCOL §11): the device–MotherShip PSK the station made and
/// the device–Controller PSK the introducer sent, each wrapped (crypto.h, wrapPsk); NULL for a
/// certificate device.
std::string schemaPsk() {
    return "ALTER TABLE devices ADD COLUMN psk_wrapped TEXT;"
           "ALTER TABLE devices ADD COLUMN cpsk_wrapped TEXT;";
}

/// Version 6, pre-enrolled lots: the station that mapped a device through the station API without
/// its OTP ('' for every device mapped before, and for those its label's holder mapped).
std::string schemaPreEnrolled() { return "ALTER TABLE devices ADD COLUMN preenrolled_by TEXT NOT NULL DEFAULT '';"; }

/// Version 7, a registry of a whole MS ID (2^24 devices): the index upkeep of every stored
/// device made smaller. `audit_devid` goes: `audit_devid_event` starts with the same column and
/// serves every read by Dev ID. On PostgreSQL the text keys that are compared most (URN,
/// record id, MCU unique ID: ASCII by the protocol) take the "C" collation, so that their
/// B-trees compare bytes instead of calling the database locale's collation (glibc's
/// strcoll) at every step; their indexes are rebuilt once, the table is not rewritten.
/// SQLite compares text bytewise already.
std::string schemaKeysForScale(SqlDialect dialect) {
    std::string s = "DROP INDEX IF EXISTS audit_devid;";
    if (dialect == SqlDialect::postgresql)
        s += "ALTER TABLE devices ALTER COLUMN urn TYPE TEXT COLLATE \"C\", ALTER COLUMN record_id TYPE TEXT COLLATE \"C\","
             " ALTER COLUMN mcu_uid TYPE TEXT COLLATE \"C\";";
    return s;
}

/// Version 8, the index by board in the order lot, wafer, die (sql_values.h, boardKeySql)
/// instead of the MCU unique ID as stored, whose first word (the die's position) scatters a
/// day's boards over the whole index: at 16.7 M devices each batch of an import changed one
/// page of it per board (docs/MOTHERSHIP.md, "Scale").
std::string schemaBoardIndex() {
    return "DROP INDEX IF EXISTS devices_mcu_uid;"
           "CREATE INDEX devices_board ON devices (" + sql::boardKeySql("mcu_uid") + ");";
}

/// Version 9, room on each page of `devices` for the updates a device gets in its life (the claim,
/// the registration): on PostgreSQL a bulk load filled its pages, so each such update wrote
/// the new row version to another page and a new entry into every index of the table (six). With
/// a tenth of each page left free (`fillfactor` 90, for pages written from now on) the new version
/// stays on its page and no index changes (a "heap-only tuple" update: none of those columns is
/// indexed). SQLite updates a row in place (its room in each row came with version 11).
std::string schemaRoomForUpdates(SqlDialect dialect) {
    return dialect == SqlDialect::postgresql ? "ALTER TABLE devices SET (fillfactor = 90);" : "";
}

/// Version 10 on PostgreSQL (schemaBinaryHashes): one rewrite of the table, whose pages then
/// all keep version 9's free tenth.
constexpr const char* kBinaryHashesPostgres =
    "ALTER TABLE devices ALTER COLUMN fingerprint TYPE bytea USING decode(fingerprint, 'hex'),"
    " ALTER COLUMN otp_hash TYPE bytea USING decode(otp_hash, 'hex'),"
    " ALTER COLUMN record_digest TYPE bytea USING decode(record_digest, 'hex'),"
    " ALTER COLUMN firmware_sha256 TYPE bytea USING decode(firmware_sha256, 'hex'),"
    " ALTER COLUMN cfingerprint TYPE bytea USING decode(cfingerprint, 'hex');";

/// The columns of `devices` from version 10 on (version 11 adds SQLite's `room`).
constexpr const char* kDeviceColumnsV10 =
    "devid, urn, fingerprint, otp_hash, lot, box, station, record_id, record_digest, signature, firmware_sha256, created,"
    " state, cip, cport, cfingerprint, description, inserted_at, updated_at, failures, mcu_uid, revoked_at, revoked_by,"
    " revoke_reason, reworked_from, psk_wrapped, cpsk_wrapped, preenrolled_by";

/// `devices` rebuilt on SQLite, which has no ALTER COLUMN and no DROP CONSTRAINT, as its
/// documentation says ("ALTER TABLE", "Making Other Kinds Of Table Schema Changes"): the new
/// table `devices_new` (made by `create`), every row copied by `copy`, the old table dropped
/// (and its indexes and triggers with it; the implicit DELETE of a DROP fires none), the new
/// one renamed, and the old table's indexes and triggers made again from their own text in
/// sqlite_master (a registry holds those its migrations made: devices_lot, devices_box,
/// devices_board, and from version 12 device_counts' triggers). No view refers to `devices`,
/// and no foreign key. `copy` takes the rows in Dev ID order, so the new table is written by
/// appends, its pages full.
Status rebuildDevicesSqlite(SqlTx& tx, const std::string& create, const std::string& copy) {
    auto kept = tx.query("SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = 'devices'"
                         " AND sql IS NOT NULL ORDER BY type, name",
                         {});
    if (!kept) return std::unexpected(kept.error());
    std::string s = create + ";" + copy + ";DROP TABLE devices;ALTER TABLE devices_new RENAME TO devices;";
    for (const auto& made : *kept) s += made.at(0).value_or("") + ";";
    return tx.script(s);
}

/// Version 10 on SQLite (schemaBinaryHashes): the table rebuilt (rebuildDevicesSqlite), which
/// also makes `devid` an INTEGER PRIMARY KEY, the table's own B-tree key: a read by Dev ID
/// walks one B-tree instead of the primary key's index and then the table.
Status binaryHashesSqlite(SqlTx& tx) {
    const std::string create =
        "CREATE TABLE devices_new (devid INTEGER PRIMARY KEY, urn TEXT NOT NULL UNIQUE, fingerprint BLOB NOT NULL,"
        " otp_hash BLOB NOT NULL, lot TEXT NOT NULL, box BIGINT, station TEXT NOT NULL, record_id TEXT NOT NULL UNIQUE,"
        " record_digest BLOB NOT NULL, signature TEXT NOT NULL, firmware_sha256 BLOB NOT NULL, created TEXT NOT NULL,"
        " state TEXT NOT NULL, cip TEXT, cport INTEGER, cfingerprint BLOB, description TEXT NOT NULL DEFAULT '',"
        " inserted_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, failures BIGINT NOT NULL DEFAULT 0, mcu_uid TEXT,"
        " revoked_at BIGINT NOT NULL DEFAULT 0, revoked_by TEXT NOT NULL DEFAULT '', revoke_reason TEXT NOT NULL DEFAULT '',"
        " reworked_from BIGINT, psk_wrapped TEXT, cpsk_wrapped TEXT, preenrolled_by TEXT NOT NULL DEFAULT '')";
    const std::string copy =
        "INSERT INTO devices_new (" + std::string(kDeviceColumnsV10) +
        ") SELECT devid, urn, unhex(fingerprint), unhex(otp_hash), lot, box, station, record_id, unhex(record_digest),"
        " signature, unhex(firmware_sha256), created, state, cip, cport, unhex(cfingerprint), description, inserted_at,"
        " updated_at, failures, mcu_uid, revoked_at, revoked_by, revoke_reason, reworked_from, psk_wrapped, cpsk_wrapped,"
        " preenrolled_by FROM devices ORDER BY devid";
    return rebuildDevicesSqlite(tx, create, copy);
}

/// Version 10, the SHA-256 values of `devices` (fingerprint, otp_hash, record_digest,
/// firmware_sha256, cfingerprint) as their 32 bytes instead of 64 hex characters: about 160
/// bytes less per device, so that more of a registry of a whole MS ID stays in the page cache
/// (docs/MOTHERSHIP.md, "Scale"). The registry's SQL converts at its edge (sql_values.h, hexIn,
/// hexOut). A stored value that is not hex fails the migration, which then changes nothing.
Migration schemaBinaryHashes(SqlDialect dialect) {
    if (dialect == SqlDialect::postgresql) return script(kBinaryHashesPostgres);
    return binaryHashesSqlite;
}

/// Version 11, room in each row SQLite stores from now on for the update that fills in its
/// Controller (sql_values.h, kSqliteRowRoom). Rows stored before keep none: giving it to them
/// would rewrite the whole table. PostgreSQL: nothing (its pages keep a tenth free, version 9).
std::string schemaRoomInRows(SqlDialect dialect) {
    return dialect == SqlDialect::sqlite ? "ALTER TABLE devices ADD COLUMN room BLOB;" : "";
}

/// Version 12 on SQLite (schemaDeviceCounts): one row per lot and state, kept by row triggers
/// in the transaction of every change (SQLite has one writer: no two transactions wait on a
/// row). A device counted in goes to its row by UPDATE, and a new row is made only when that
/// changed nothing: SQLite documents that `changes()` in a trigger's second statement is the
/// count of its first ("sqlite3_changes", "Count The Number Of Rows Modified"). Half the CPU of
/// an upsert per row, measured on a bulk INSERT of 1,000,000 rows (0.4 against 1.1 µs).
constexpr const char* kDeviceCountsSqlite =
    "CREATE TABLE device_counts (lot TEXT NOT NULL, state TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (lot, state))"
    " WITHOUT ROWID;"
    "INSERT INTO device_counts (lot, state, n) SELECT lot, state, COUNT(*) FROM devices GROUP BY lot, state;"
    "CREATE TRIGGER device_counts_insert AFTER INSERT ON devices BEGIN"
    " UPDATE device_counts SET n = n + 1 WHERE lot = NEW.lot AND state = NEW.state;"
    " INSERT INTO device_counts (lot, state, n) SELECT NEW.lot, NEW.state, 1 WHERE changes() = 0; END;"
    "CREATE TRIGGER device_counts_delete AFTER DELETE ON devices BEGIN"
    " UPDATE device_counts SET n = n - 1 WHERE lot = OLD.lot AND state = OLD.state; END;"
    "CREATE TRIGGER device_counts_update AFTER UPDATE OF lot, state ON devices"
    " WHEN OLD.lot IS NOT NEW.lot OR OLD.state IS NOT NEW.state BEGIN"
    " UPDATE device_counts SET n = n - 1 WHERE lot = OLD.lot AND state = OLD.state;"
    " UPDATE device_counts SET n = n + 1 WHERE lot = NEW.lot AND state = NEW.state;"
    " INSERT INTO device_counts (lot, state, n) SELECT NEW.lot, NEW.state, 1 WHERE changes() = 0; END;";

/// Version 12 on PostgreSQL (schemaDeviceCounts): every statement that changes `devices` appends
/// its changes as rows of differences (statement triggers over its transition tables: one row
/// per lot and state it changed, however many devices). Appends never wait for one another,
/// so claims on several MotherShips do not queue on a counter row; the readers sum the rows and
/// fold them into one per lot and state as they read (sql_factory.h, foldDeviceCounts).
constexpr const char* kDeviceCountsPostgres =
    "CREATE TABLE device_counts (lot TEXT NOT NULL, state TEXT NOT NULL, n BIGINT NOT NULL);"
    "INSERT INTO device_counts (lot, state, n) SELECT lot, state, COUNT(*) FROM devices GROUP BY lot, state;"
    "CREATE FUNCTION device_counts_inserted() RETURNS trigger AS $$ BEGIN"
    " INSERT INTO device_counts (lot, state, n) SELECT lot, state, COUNT(*) FROM new_rows GROUP BY lot, state;"
    " RETURN NULL; END $$ LANGUAGE plpgsql;"
    "CREATE FUNCTION device_counts_deleted() RETURNS trigger AS $$ BEGIN"
    " INSERT INTO device_counts (lot, state, n) SELECT lot, state, -COUNT(*) FROM old_rows GROUP BY lot, state;"
    " RETURN NULL; END $$ LANGUAGE plpgsql;"
    "CREATE FUNCTION device_counts_updated() RETURNS trigger AS $$ BEGIN"
    " INSERT INTO device_counts (lot, state, n) SELECT lot, state, SUM(d) FROM"
    " (SELECT lot, state, 1 AS d FROM new_rows UNION ALL SELECT lot, state, -1 FROM old_rows) c"
    " GROUP BY lot, state HAVING SUM(d) <> 0;"
    " RETURN NULL; END $$ LANGUAGE plpgsql;"
    "CREATE TRIGGER device_counts_insert AFTER INSERT ON devices REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION device_counts_inserted();"
    "CREATE TRIGGER device_counts_delete AFTER DELETE ON devices REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION device_counts_deleted();"
    "CREATE TRIGGER device_counts_update AFTER UPDATE ON devices REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION device_counts_updated();";

/// Version 12, the devices of each lot by state kept as they change (`device_counts`), so that
/// the registry's gauges (`/metrics`) and a lot's use (`GET /api/v1/lots/…`, `admin lot list`)
/// read a few rows instead of counting every device: at 16.7 M devices a count read the whole
/// table or index (docs/MOTHERSHIP.md, "Scale"). The database's triggers keep it, so every
/// change counts, an `admin copy` and a change made by hand with SQL included; the migration
/// counts the devices stored before once. A migration that rebuilds `devices` on SQLite makes
/// the triggers again (rebuildDevicesSqlite). Also an index of `attempt_limits` by
/// `locked_until`: the gauge of subjects locked out right now reads only those.
std::string schemaDeviceCounts(SqlDialect dialect) {
    return std::string(dialect == SqlDialect::postgresql ? kDeviceCountsPostgres : kDeviceCountsSqlite) +
           "CREATE INDEX attempt_limits_locked ON attempt_limits(locked_until);";
}

/// Version 13 on SQLite (schemaUrnByDevId): its URN index is the table's UNIQUE constraint,
/// which only a rebuild removes (rebuildDevicesSqlite). The rebuild also gives the not-mapped
/// rows stored before version 11 the room that rows get since (kSqliteRowRoom).
Status urnByDevIdSqlite(SqlTx& tx) {
    const std::string create =
        "CREATE TABLE devices_new (devid INTEGER PRIMARY KEY,"
        " urn TEXT NOT NULL CHECK (lower(substr(urn, -8)) = printf('%08x', devid)), fingerprint BLOB NOT NULL,"
        " otp_hash BLOB NOT NULL, lot TEXT NOT NULL, box BIGINT, station TEXT NOT NULL, record_id TEXT NOT NULL UNIQUE,"
        " record_digest BLOB NOT NULL, signature TEXT NOT NULL, firmware_sha256 BLOB NOT NULL, created TEXT NOT NULL,"
        " state TEXT NOT NULL, cip TEXT, cport INTEGER, cfingerprint BLOB, description TEXT NOT NULL DEFAULT '',"
        " inserted_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, failures BIGINT NOT NULL DEFAULT 0, mcu_uid TEXT,"
        " revoked_at BIGINT NOT NULL DEFAULT 0, revoked_by TEXT NOT NULL DEFAULT '', revoke_reason TEXT NOT NULL DEFAULT '',"
        " reworked_from BIGINT, psk_wrapped TEXT, cpsk_wrapped TEXT, preenrolled_by TEXT NOT NULL DEFAULT '', room BLOB)";
    const std::string columns = kDeviceColumnsV10;
    const std::string copy = "INSERT INTO devices_new (" + columns + ", room) SELECT " + columns +
                             ", iif(room IS NULL AND state = 'not-mapped', " + sql::roomBytes() +
                             ", room) FROM devices ORDER BY devid";
    return rebuildDevicesSqlite(tx, create, copy);
}

/// Version 13, no index of URNs. A device's URN is its Dev ID's (the low 32 bits of its serial
/// are the Dev ID: docs/PROTOCOL.md §1, refused otherwise by the station's record parser and
/// the registry, checkDevIdOfUrn), so the primary key finds a device by URN (deviceByUrn reads
/// `devid = <the URN's> AND urn = <the text>`) and refuses a second device with the same URN.
/// The URN index cost every stored device an index entry (about 1 GB at 16.7 M devices) and
/// every import row an index insert. The database keeps the rule itself, for rows written by
/// hand or copied in: a CHECK that the URN ends in the Dev ID's 8 hex digits (either case, as a
/// station may write the serial). A row that breaks it fails the migration, which then changes
/// nothing. PostgreSQL checks every row once (a read of the table) under the migration's lock.
Migration schemaUrnByDevId(SqlDialect dialect) {
    if (dialect == SqlDialect::sqlite) return urnByDevIdSqlite;
    return script("ALTER TABLE devices DROP CONSTRAINT devices_urn_key, ADD CONSTRAINT devices_urn_devid"
                  " CHECK (lower(right(urn, 8)) = lpad(to_hex(devid), 8, '0'));");
}

}  // namespace

Status migrateSchema(SqlDb& db) {
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
        const std::int64_t version = sql::toInt(rows->at(0).at(0));
        if (version > kSchemaVersion)
            return fail(Errc::unsupported, "the registry's schema version " + sql::num(version) +
                                               " is newer than this program (" + sql::num(kSchemaVersion) + ")");
        // One function per version: a migration from another branch is renumbered by its place here.
        const SqlDialect dialect = db.dialect();
        const Migration migrations[] = {script(schemaV1(dialect)), script(schemaV2()), script(schemaMcuUid()),
                                        script(schemaRevocation()), script(schemaPsk()), script(schemaPreEnrolled()),
                                        script(schemaKeysForScale(dialect)), script(schemaBoardIndex()),
                                        script(schemaRoomForUpdates(dialect)), schemaBinaryHashes(dialect),
                                        script(schemaRoomInRows(dialect)), script(schemaDeviceCounts(dialect)),
                                        schemaUrnByDevId(dialect)};
        static_assert(std::size(migrations) == kSchemaVersion, "one migration per schema version");
        for (std::int64_t v = version + 1; v <= kSchemaVersion; ++v) {
            if (auto s = migrations[v - 1](tx); !s)
                return withContext(s.error(), "schema migration to version " + sql::num(v));
            auto r = tx.exec("INSERT INTO schema_versions (version, applied_at) VALUES ($1, 0)", {sql::num(v)});
            if (!r) return std::unexpected(r.error());
        }
        return {};
    });
}

}  // namespace tte::mothership
