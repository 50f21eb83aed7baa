// Operations for `tte-mothership admin …`: keys, station certificates, lot quotas,
// revocation, device inspection, export and backup of the registry.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "tte/base/error.h"
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
/// URL `pg_dump --format=custom`. Errors: io, unsupported.
Status adminBackup(const std::string& databaseUrl, const std::string& out);

}  // namespace tte::mothership
