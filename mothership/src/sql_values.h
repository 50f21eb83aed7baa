// What the registry's SQL files share (sql_registry.cpp, sql_import.cpp, sql_schema.cpp,
// sql_factory.cpp): integers as the decimal text the SQL seam carries, the SHA-256 columns'
// bytes as the hex text it carries, the devices table's columns, a device read from its row, a
// device's state read inside a transaction, and a line of the audit trail (sql_device_row.cpp).
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

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

/// The SQL that stores hex text `param` (a placeholder such as "$3", or a text column) as
/// the bytes it spells, for the binary columns of `devices` (schema version 10: fingerprint,
/// otp_hash, record_digest, firmware_sha256, cfingerprint). NULL stays NULL; text that is not
/// an even number of hex digits (either case) is a statement error, nothing is stored.
/// PostgreSQL: decode(…, 'hex'), which also skips whitespace between digit pairs; SQLite:
/// unhex(), the registry's own function on each of its connections (sqlite_unhex.h: Debian
/// 12's SQLite 3.40 has none, and 3.41's answers NULL for bad input).
inline std::string hexIn(SqlDialect dialect, std::string_view param) {
    const std::string p(param);
    return dialect == SqlDialect::postgresql ? "decode(" + p + ", 'hex')" : "unhex(" + p + ")";
}

/// The SQL that reads binary column `column` as lower-case hex text, NULL as NULL (SQLite's
/// hex() alone makes NULL '').
inline std::string hexOut(SqlDialect dialect, std::string_view column) {
    const std::string c(column);
    return dialect == SqlDialect::postgresql ? "encode(" + c + ", 'hex')"
                                             : "iif(" + c + " IS NULL, NULL, lower(hex(" + c + ")))";
}

/// The devices table's columns as a new device's INSERT names them.
inline constexpr const char* kDeviceColumns =
    "devid, urn, fingerprint, otp_hash, lot, box, station, record_id, record_digest, signature, firmware_sha256, "
    "created, state, cip, cport, cfingerprint, description, inserted_at, updated_at, failures, mcu_uid, reworked_from";

/// Schema version 11: the bytes each row of `devices` that SQLite stores from then on keeps for
/// the update that fills in its Controller (a claim, a pre-enrollment), in the column `room`.
/// SQLite updates a row in place, but a row that grows needs that much free on its page, and
/// rows stored one after another in Dev ID order (a station's line, an import) fill their
/// pages: at 16.7 M devices 94 % of the table's pages had less than 60 bytes free, and nearly
/// every claim split its page and rewrote its neighbours (docs/MOTHERSHIP.md, "Scale"). A claim
/// with an IPv4 address, a fingerprint and a short description grows its row by about 50
/// bytes; the update gives the room back (roomFreed). PostgreSQL keeps a tenth of each page
/// free instead (fillfactor, version 9) and has no such column.
inline constexpr int kSqliteRowRoom = 64;
/// Devices per read of Registry::forEachDevice, which walks the whole registry in Dev ID order
/// a page at a time (`admin export`).
inline constexpr std::int64_t kDevicePage = 10'000;
/// After a new device's column names (kDeviceColumns): its room on SQLite, nothing on PostgreSQL.
inline std::string roomColumn(SqlDialect dialect) { return dialect == SqlDialect::sqlite ? ", room" : ""; }
/// The room's bytes on SQLite, as an SQL expression.
inline std::string roomBytes() { return "zeroblob(" + std::to_string(kSqliteRowRoom) + ")"; }
/// After a new device's values: the room's bytes on SQLite.
inline std::string roomValue(SqlDialect dialect) { return dialect == SqlDialect::sqlite ? ", " + roomBytes() : ""; }
/// In the SET list of an update that grows a row: the room given back on SQLite.
inline std::string roomFreed(SqlDialect dialect) { return dialect == SqlDialect::sqlite ? ", room = NULL" : ""; }

/// The key of `devices_board`, the index by board (schema version 8), for the MCU unique ID
/// in `column`: its three 32-bit words, in the order PROTOCOL.md §10 has them
/// (die position on the wafer, then wafer number and the lot's last three characters, then the
/// lot's first four), put in the order lot, wafer, die. Boards made one after another come from
/// a few reels, so from a few wafers of a lot: in this order a batch of them lands on a few
/// places of the index, where in the stored order (die position first) every board lands on
/// a page of its own.
inline std::string boardKeySql(std::string_view column) {
    const std::string c(column);
    return "(substr(" + c + ", 17, 8) || substr(" + c + ", 9, 8) || substr(" + c + ", 1, 8))";
}

/// boardKeySql() of one MCU unique ID, computed here (the same string the database computes,
/// for any length of `mcuUid`).
inline std::string boardKey(std::string_view mcuUid) {
    const auto part = [&](std::size_t from) { return mcuUid.substr(std::min(from, mcuUid.size()), 8); };
    std::string out(part(16));
    out += part(8);
    out += part(0);
    return out;
}

/// What a read of a device selects (after SELECT) in `dialect`, in rowToDevice()'s order, the
/// binary columns as hex (hexOut): with its failure count (`withFailures`: its `otp-wrong`
/// audit lines, for admin and the station API) or 0 in its place (the answers to the OTP's
/// holder and the CoAP handler). sql_device_row.cpp.
const std::string& deviceSelect(SqlDialect dialect, bool withFailures);
/// A device from a row of deviceSelect(). Errors: a stored value that does not parse.
Result<DeviceRow> rowToDevice(const SqlRow& r);

/// The state of device `devId`. Errors: notFound, the database's.
Result<DeviceState> stateOf(SqlTx& tx, std::uint32_t devId);

/// One line of the audit trail (append-only), in the caller's transaction; `devId` none for a
/// line about a station or a lot.
Status appendAudit(SqlTx& tx, std::optional<std::uint32_t> devId, std::string_view event, std::string_view client,
                   std::string_view detail, std::int64_t now);

}  // namespace tte::mothership::sql
