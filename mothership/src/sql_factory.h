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
Result<LotQuota> lotQuota(SqlDb& db, std::string_view lot);
Result<std::vector<LotQuota>> lots(SqlDb& db);
Status addBox(SqlDb& db, const BoxRow& box);

}  // namespace tte::mothership::sql
