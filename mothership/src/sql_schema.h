// The registry's schema, shared by SQLite and PostgreSQL, and its migrations: a
// `schema_versions` table and one function per version (docs/MOTHERSHIP.md lists what each
// version adds).
#pragma once

#include "sql_db.h"

namespace tte::mothership {

/// Brings the registry to the schema version of this program (kRegistrySchemaVersion), each
/// missing version in order, in one write transaction; on PostgreSQL one migrator at a time
/// across processes. Errors: unsupported (the registry's schema is newer than this program),
/// and the database's own.
Status migrateSchema(SqlDb& db);

}  // namespace tte::mothership
