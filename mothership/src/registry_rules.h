// Rules every registry backend applies the same way: quota checks, the messages for a
// refused state transition. Kept in one place so SQL and in-memory stores agree exactly.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sql_db.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {

/// `rows` is the lot's quota query result (first_id, last_id) – empty when the lot is unknown.
/// Errors: notFound (no quota), outOfRange (Dev ID outside it).
Status checkQuota(const DeviceRow& row, const std::vector<SqlRow>& rows);
/// The same for a box's range. Errors: notFound, outOfRange, invalidArgument (first > last).
Status checkBox(const BoxRow& box, const std::vector<SqlRow>& rows);
/// Quota check on plain numbers (the in-memory store).
Status checkRange(std::string_view what, std::uint32_t first, std::uint32_t last, std::uint32_t quotaFirst,
                  std::uint32_t quotaLast, std::string_view lot);
std::string deviceTakenMessage(const DeviceRow& row);
/// A row's Dev ID is its URN's (the low 32 bits of the serial, docs/PROTOCOL.md §1), as the
/// station's record parser requires: the registry finds a device by URN through its Dev ID
/// and keeps no index of URNs (schema version 13). Errors: invalidArgument (the URN's parse
/// error, or "Dev ID 00000101 does not match the URN's 00000100 (urn:…)").
Status checkDevIdOfUrn(const DeviceRow& row);
/// The Dev ID of a URN the registry is asked for; none when the text is no Dev URN (no device
/// is stored under it).
std::optional<std::uint32_t> devIdOfUrn(std::string_view urn);
/// The detail of a stored device's `stored` audit line: its record id, and the Dev ID a
/// reworked board had before.
std::string storedAuditDetail(const DeviceRow& row);
/// A bulk import's rows: each one's Dev ID is its URN's (checkDevIdOfUrn, the first row that
/// breaks it), and they name each Dev ID (so each URN), record id and MCU unique ID once.
/// Errors: invalidArgument (checkDevIdOfUrn's, "Dev ID 00000100 appears twice in the batch",
/// "record id … appears …", "MCU unique ID … appears …").
Status checkBatch(std::span<const DeviceRow> rows);
/// A subject's failure count (registry table `attempt_limits`), unix milliseconds.
struct FailureCount {
    std::int64_t failures = 0;
    std::int64_t windowStart = 0;
    std::int64_t lockedUntil = 0;
};
/// One more failure: a count whose window is over (or that was reset by a lockout) starts a
/// new window at `now`; reaching `limit` locks the subject until now + lockout and resets the
/// count. The one rule of the SQL and in-memory stores.
FailureCount countFailureStep(const FailureCount& previous, int limit, const FailurePolicy& policy, std::int64_t now);
/// Whether a count can be forgotten at `now`: not locked and its window over.
bool failureCountIdle(const FailureCount& count, const FailurePolicy& policy, std::int64_t now);

/// A device a revocation may cover, as the store read it.
struct RevokeCandidate {
    std::uint32_t devId = 0;
    DeviceState state = DeviceState::notMapped;
    std::string station;
};
/// The one rule of every store for a revocation: which of `candidates` (the devices of
/// `target`, by Dev ID) are revoked now and which were before. Errors: notFound (no
/// candidate), permissionDenied (a candidate of another station than `why.onlyStation`).
Result<RevokeSummary> planRevocation(const RevokeTarget& target, const Revocation& why,
                                     const std::vector<RevokeCandidate>& candidates);
/// The audit detail of a revocation: the reason, and the box or lot when it covered one.
std::string revocationDetail(const RevokeTarget& target, const Revocation& why);
/// A new record's `reworkedFrom` must name a revoked device; `oldState` is that device's
/// state, nothing when it is not stored. Errors: notFound, conflict.
Status checkReworkedFrom(const DeviceRow& row, std::optional<DeviceState> oldState);

/// One board, one live identity: a new record whose `mcuUid` is already another device's is
/// refused unless every such device is revoked (a board gets a new identity only by rework,
/// which revokes the old one first). `holders` are the other devices with that unique ID.
/// Errors: alreadyExists.
Status checkMcuUid(const DeviceRow& row, const std::vector<std::pair<std::uint32_t, DeviceState>>& holders);

/// The one rule of every store for a pre-enrollment of `device` (as stored): true when it is to
/// be mapped now, false when the same pre-enrollment was made before (nothing to do).
/// Errors: those of Registry::preEnroll() but notFound and io.
Result<bool> planPreEnroll(const DeviceRow& device, const PreEnrollment& what);
/// The audit detail of a mapping: "controller <ip> port <port> fingerprint <hex>".
std::string mappingDetail(const ControllerAddress& c);

/// Why `from` cannot move to `target`: revoked → permissionDenied, else conflict.
std::unexpected<Error> transitionError(DeviceState from, std::string_view target);

}  // namespace tte::mothership
