// Operations for `tte-mothership admin …`: keys, station certificates, lot quotas,
// revocation, device inspection, export, backup and copy of the registry.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {

/// Registers a station certificate (PEM file) under `name`; returns its fingerprint.
/// Errors: io (file), invalidArgument (not a certificate), alreadyExists.
Result<std::string> adminStationAdd(Registry& registry, const std::string& certFile, const std::string& name,
                                    std::int64_t now);

/// A device as JSON: the row (no OTP hash) and its audit trail. Errors: notFound, io.
Result<std::string> adminShow(Registry& registry, std::uint32_t devId);

/// Every device as CSV (with a header line) or JSON lines ("csv" / "jsonl"); no OTP hash.
/// Errors: invalidArgument (format), io.
Status adminExport(Registry& registry, const std::string& format, std::ostream& out);

/// Every lot: `lot first last used capacity` lines under a header (Dev IDs as 8 hex), or
/// JSON lines ("table" / "jsonl"). Errors: invalidArgument (format), io.
Status adminLotList(Registry& registry, const std::string& format, std::ostream& out);

/// Every station: `name fingerprint added` lines under a header (added: RFC 3339 UTC).
/// Errors: io.
Status adminStationList(Registry& registry, std::ostream& out);

/// A consistent copy while serving: SQLite online backup, or for a PostgreSQL URL
/// `pg_dump --format=custom` (`pgDump` names the program). The copy is written to a private
/// temp file beside `out` (mode 0600: it holds every OTP hash) and renamed onto `out` once
/// complete, so a failed backup leaves the previous one. A password in the URL never
/// reaches pg_dump's argv: it goes to a temporary PGPASSFILE (mode 0600, removed after).
/// Errors: io (pg_dump missing or failed, temp file), invalidArgument (URL), those of the
/// SQLite backup.
Status adminBackup(const std::string& databaseUrl, const std::string& out, const std::string& pgDump = "pg_dump");

struct RestoreOptions {
    bool force = false;  ///< replace a registry that holds a schema already
    std::string pgRestore = "pg_restore";
};

/// Puts a backup made by adminBackup() in place of the registry `databaseUrl` names, then
/// opens it (schema migrations run) and returns a one-line summary. The backup is checked
/// first (SQLite: integrity and a registry schema this program knows; PostgreSQL:
/// `pg_restore --list`). A database that already holds a registry is replaced only with
/// `force` – stop every MotherShip on it first. SQLite is restored through SQLite's backup
/// API (a WAL left by a crash is handled by SQLite itself); PostgreSQL by `pg_restore
/// --clean --if-exists --single-transaction` (all or nothing).
/// Errors: invalidArgument (not a backup, a newer schema), alreadyExists (a live registry,
/// no force), io (files, pg_restore), unavailable (database).
Result<std::string> adminRestore(const std::string& databaseUrl, const std::string& from, const RestoreOptions& options);

/// Copies the whole registry at `fromUrl` (SQLite or PostgreSQL) into the empty PostgreSQL
/// database `toUrl`, for a MotherShip that outgrows SQLite: stations, lots, boxes, every device
/// in its state, the audit trail and the failure counts, the OTP hashes as stored (the same
/// OTP-hash key verifies them there). Both are brought to this program's schema first. One
/// snapshot of the source, one transaction on the target (all or nothing; the target's tables
/// are locked meanwhile); every table's count is checked on both sides before the commit, the
/// audit's id sequence set after the last line copied, the tables analysed. Progress lines go to
/// `progress`; returns the summary. Stop every MotherShip on the source first: what they write
/// after the snapshot is not copied.
/// Errors: invalidArgument (`toUrl` not PostgreSQL, a password in it – it would be in argv –,
/// the same database as the source), notFound (no SQLite file at the source), alreadyExists (the
/// target holds a registry), internal (a column this program does not know, a count that differs),
/// unavailable, io.
Result<std::string> adminCopy(const std::string& fromUrl, const std::string& toUrl, std::ostream& progress,
                              int sqliteCacheMib = 256);

/// The file a `sqlite://<path>` URL names; nothing for any other URL, an empty path or
/// `:memory:` (no file to restore into or copy from).
std::optional<std::string> sqliteFileOf(std::string_view url);

/// Runs a PostgreSQL client program (pg_dump, pg_restore) with `args` and, unless
/// `databaseUrl` is empty, `--dbname=<the URL without its password>`; a password in the URL
/// is handed over in a temporary PGPASSFILE (mode 0600, in a private temp dir, removed
/// after). `quiet`: its standard output goes to /dev/null.
/// Errors: invalidArgument (URL), io ("cannot run PROGRAM …", "PROGRAM failed").
Status runPostgresTool(const std::string& program, const std::string& databaseUrl, std::vector<std::string> args,
                       bool quiet = false);

/// A libpq URI without its password, and the password (percent-decoded) when it had one.
struct PostgresTarget {
    std::string url;
    std::optional<Secret> password;
};

/// Takes the password out of a `postgresql://` / `postgres://` URI: from the user info
/// (`user:password@`) and from a `password=` parameter. Errors: invalidArgument
/// "database URL: bad percent-escape in the password" (the password itself is never shown).
Result<PostgresTarget> splitPostgresPassword(std::string_view url);

}  // namespace tte::mothership
