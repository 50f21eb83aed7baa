// A device as the registry's SQL reads it (sql_values.h): the columns a read selects, the
// row they make, and a device's state read inside a transaction; and a line of the audit trail.
#include "sql_values.h"
#include "tte/base/hex.h"

namespace tte::mothership::sql {
namespace {

// What a read selects: the same columns, with the failure count taken from the audit trail
// (an index-only count on audit(devid, event)); the failure path writes no device row, so a
// wrong OTP and an unknown Dev ID do the same work (PROTOCOL §6). The count grows with every
// wrong OTP, so the OTP check reads only otpHash() and a row once the OTP matched. The SHA-256
// columns are read as hex (schema version 10 stores their bytes).
std::string deviceColumns(SqlDialect dialect, std::string_view failures) {
    const auto hex = [&](const char* column) { return hexOut(dialect, column); };
    return "devid, urn, " + hex("fingerprint") + ", " + hex("otp_hash") + ", lot, box, station, record_id, " +
           hex("record_digest") + ", signature, " + hex("firmware_sha256") + ", created, state, cip, cport, " +
           hex("cfingerprint") + ", description, inserted_at, updated_at, " + std::string(failures) +
           ", mcu_uid, reworked_from, revoked_at, revoked_by, revoke_reason, psk_wrapped, cpsk_wrapped, preenrolled_by";
}

/// deviceSelect() of one dialect.
struct DeviceSelects {
    explicit DeviceSelects(SqlDialect dialect)
        : counted(deviceColumns(dialect, "(SELECT COUNT(*) FROM audit WHERE audit.devid = devices.devid AND audit.event = 'otp-wrong')")),
          alone(deviceColumns(dialect, "0")) {}
    std::string counted;
    // Without the count (0): the row alone, without a read of the audit index, whose page for a
    // device is seldom cached in a registry of millions.
    std::string alone;
};

}  // namespace

const std::string& deviceSelect(SqlDialect dialect, bool withFailures) {
    static const DeviceSelects sqlite(SqlDialect::sqlite), postgresql(SqlDialect::postgresql);
    const DeviceSelects& selects = dialect == SqlDialect::postgresql ? postgresql : sqlite;
    return withFailures ? selects.counted : selects.alone;
}

Result<DeviceRow> rowToDevice(const SqlRow& r) {
    DeviceRow d;
    d.devId = static_cast<std::uint32_t>(toInt(r[0]));
    d.urn = r[1].value_or("");
    d.fingerprint = r[2].value_or("");
    auto hash = fromHex(r[3].value_or(""), "otp_hash");
    if (!hash) return std::unexpected(hash.error());
    d.otpHash = std::move(*hash);
    d.lot = r[4].value_or("");
    if (r[5]) d.box = static_cast<std::uint32_t>(toInt(r[5]));
    d.station = r[6].value_or("");
    d.recordId = r[7].value_or("");
    d.recordDigest = r[8].value_or("");
    d.signature = r[9].value_or("");
    d.firmwareSha256 = r[10].value_or("");
    d.created = r[11].value_or("");
    auto state = protocol::parseEnrollmentState(r[12].value_or(""));
    if (!state) return std::unexpected(state.error());
    d.state = *state;
    if (r[13]) d.controller = ControllerAddress{*r[13], static_cast<std::uint16_t>(toInt(r[14])), r[15].value_or("")};
    d.description = r[16].value_or("");
    d.insertedAt = toInt(r[17]);
    d.updatedAt = toInt(r[18]);
    d.failures = toInt(r[19]);
    d.mcuUid = r[20];
    if (r[21]) d.reworkedFrom = static_cast<std::uint32_t>(toInt(r[21]));
    d.revokedAt = toInt(r[22]);
    d.revokedBy = r[23].value_or("");
    d.revokeReason = r[24].value_or("");
    d.pskWrapped = r[25];
    if (d.controller) d.controller->pskWrapped = r[26];
    d.preEnrolledBy = r[27].value_or("");
    return d;
}

Result<DeviceState> stateOf(SqlTx& tx, std::uint32_t devId) {
    auto rows = tx.query("SELECT state FROM devices WHERE devid = $1", {num(devId)});
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
    return protocol::parseEnrollmentState(rows->front()[0].value_or(""));
}

Status appendAudit(SqlTx& tx, std::optional<std::uint32_t> devId, std::string_view event, std::string_view client,
                   std::string_view detail, std::int64_t now) {
    auto r = tx.exec("INSERT INTO audit (at, devid, event, client, detail) VALUES ($1, $2, $3, $4, $5)",
                     {num(now), devId ? SqlValue(num(*devId)) : std::nullopt, std::string(event),
                      std::string(client), std::string(detail)});
    if (!r) return std::unexpected(r.error());
    return {};
}

}  // namespace tte::mothership::sql
