// The registry's SQL for the factory's side of it (sql_factory.cpp): stations, lot quotas and
// boxes, as SqlRegistry answers Registry's calls for them. Each call is one transaction of `db`;
// the changes write their audit line in it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sql_db.h"
#include "tte/mothership/registry.h"

namespace tte::mothership::sql {

Status addStation(SqlDb& db, const StationRow& st);
/// The station whose `column` ("name" or "fingerprint") is `key`. Errors: notFound.
Result<StationRow> readStation(SqlDb& db, const std::string& column, std::string_view key);
Result<std::vector<StationRow>> stations(SqlDb& db);
Status removeStation(SqlDb& db, std::string_view name, std::string_view actor, std::int64_t now);
Status setLotQuota(SqlDb& db, std::string_view lot, std::uint32_t first, std::uint32_t last);
/// A lot's quota and how many devices it holds (`used`, from `device_counts`).
Result<LotQuota> lotQuota(SqlDb& db, std::string_view lot);
Result<std::vector<LotQuota>> lots(SqlDb& db);
Status addBox(SqlDb& db, const BoxRow& box);

/// The advisory lock (PostgreSQL) of the one folder of `device_counts` at a time.
inline constexpr std::int64_t kFoldLock = 7475;
/// PostgreSQL: folds the rows of differences the triggers appended to `device_counts` (schema
/// version 12) into one row per lot and state, in a transaction of its own; the readers of the
/// counts call it first, so that what they sum stays a few rows per lot. One folder at a time:
/// a caller that finds the advisory lock taken leaves the folding to its holder. The rows that
/// transactions committing meanwhile append are not in the folder's snapshot and stay as they
/// are. SQLite keeps one row per lot and state already: nothing to do.
Status foldDeviceCounts(SqlDb& db);

}  // namespace tte::mothership::sql
