// Operations for `tte-mothership admin …`: keys, station certificates, lot quotas,
// revocation, device inspection, export and backup of the registry.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

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

/// A consistent copy while serving: SQLite online backup into `out`, or for a PostgreSQL
/// URL `pg_dump --format=custom` (`pgDump` names the program). A password in the URL never
/// reaches pg_dump's argv: it goes to a temporary PGPASSFILE (mode 0600, removed after).
/// Errors: io (pg_dump missing or failed, temp file), invalidArgument (URL), those of the
/// SQLite backup.
Status adminBackup(const std::string& databaseUrl, const std::string& out, const std::string& pgDump = "pg_dump");

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
