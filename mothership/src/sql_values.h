// What the registry's SQL files share (sql_registry.cpp, sql_import.cpp, sql_schema.cpp):
// integers as the decimal text the SQL seam carries, the devices table's columns, and a
// device's state read inside a transaction.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>

#include "sql_db.h"
#include "tte/mothership/registry.h"

namespace tte::mothership::sql {

/// An integer parameter.
inline std::string num(std::int64_t v) { return std::to_string(v); }

/// An integer column; 0 for NULL.
inline std::int64_t toInt(const SqlValue& v) {
    std::int64_t out = 0;
    if (v) std::from_chars(v->data(), v->data() + v->size(), out);
    return out;
}

/// The devices table's columns as a new device's INSERT names them.
inline constexpr const char* kDeviceColumns =
    "devid, urn, fingerprint, otp_hash, lot, box, station, record_id, record_digest, signature, firmware_sha256, "
    "created, state, cip, cport, cfingerprint, description, inserted_at, updated_at, failures, mcu_uid, reworked_from";

/// The state of device `devId`. Errors: notFound, the database's.
Result<DeviceState> stateOf(SqlTx& tx, std::uint32_t devId);

}  // namespace tte::mothership::sql
