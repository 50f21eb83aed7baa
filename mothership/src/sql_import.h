// The bulk import of station records on the registry's SQL (Registry::importDevices), shared
// by SQLite and PostgreSQL.
#pragma once

#include <cstdint>
#include <span>

#include "sql_db.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {

/// Stores `rows` (checked as a batch: checkBatch) inside `tx`, with the rules of a single
/// upload: a record id stored before with the same content is a duplicate and other content
/// refuses the batch, then the lot quota, a Dev ID taken (a URN is its Dev ID's), a board that
/// is another live device and a reworked board's old device are checked for the whole batch, and
/// `devices` and `audit` get its rows (one `stored` line per device). SQLite: the batch in a
/// staging table, the checks as joins, one INSERT … SELECT per table. PostgreSQL: one lookup
/// per rule with the batch's keys as an array, then COPY into each table; a batch is first
/// copied with the rows stored before left to devices' unique indexes, and goes again the whole
/// way from a savepoint when that fails. All or nothing with `tx`.
Result<ImportSummary> importStaged(SqlTx& tx, SqlDialect dialect, std::span<const DeviceRow> rows, std::int64_t now);

}  // namespace tte::mothership
