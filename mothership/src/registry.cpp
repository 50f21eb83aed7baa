// Shared registry rules and the URL dispatch that opens a backend.
#include "tte/mothership/registry.h"

#include <charconv>
#include <unordered_set>

#include "registry_rules.h"
#include "tte/base/hex.h"
#include "tte/protocol/ids.h"

namespace tte::mothership {

namespace {
std::uint32_t toU32(const SqlValue& v) {
    std::uint32_t out = 0;
    if (v) std::from_chars(v->data(), v->data() + v->size(), out);
    return out;
}
}  // namespace

Status checkRange(std::string_view what, std::uint32_t first, std::uint32_t last, std::uint32_t quotaFirst,
                  std::uint32_t quotaLast, std::string_view lot) {
    if (first < quotaFirst || last > quotaLast) {
        return fail(Errc::outOfRange, std::string(what) + " is outside the quota of lot " + std::string(lot) + " (" +
                                          toHex(quotaFirst, 8) + ".." + toHex(quotaLast, 8) + ")");
    }
    return {};
}

Status checkQuota(const DeviceRow& row, const std::vector<SqlRow>& rows) {
    if (rows.empty()) return fail(Errc::notFound, "no quota for lot " + row.lot);
    return checkRange("Dev ID " + toHex(row.devId, 8), row.devId, row.devId, toU32(rows[0][0]), toU32(rows[0][1]),
                      row.lot);
}

Status checkBox(const BoxRow& box, const std::vector<SqlRow>& rows) {
    if (box.first > box.last) return fail(Errc::invalidArgument, "box: first must not be above last");
    if (rows.empty()) return fail(Errc::notFound, "no quota for lot " + box.lot);
    return checkRange("box " + toHex(box.box, 8), box.first, box.last, toU32(rows[0][0]), toU32(rows[0][1]), box.lot);
}

std::string deviceTakenMessage(const DeviceRow& row) {
    return "Dev ID " + toHex(row.devId, 8) + " or URN " + row.urn + " is stored already under another record";
}

Status checkDevIdOfUrn(const DeviceRow& row) {
    auto urn = protocol::parseDevUrn(row.urn);
    if (!urn) return std::unexpected(urn.error());
    if (urn->devId().value != row.devId)
        return fail(Errc::invalidArgument, "Dev ID " + toHex(row.devId, 8) + " does not match the URN's " +
                                               urn->devId().hex() + " (" + row.urn + ")");
    return {};
}

std::optional<std::uint32_t> devIdOfUrn(std::string_view urn) {
    auto parsed = protocol::parseDevUrn(urn);
    if (!parsed) return std::nullopt;
    return parsed->devId().value;
}

std::string storedAuditDetail(const DeviceRow& row) {
    return "record " + row.recordId + (row.reworkedFrom ? ", reworked from " + toHex(*row.reworkedFrom, 8) : std::string());
}

Status checkBatch(std::span<const DeviceRow> rows) {
    std::unordered_set<std::uint32_t> ids;
    std::unordered_set<std::string_view> records, mcuUids;
    ids.reserve(rows.size());
    records.reserve(rows.size());
    mcuUids.reserve(rows.size());
    const auto twice = [](const std::string& what) {
        return fail(Errc::invalidArgument, what + " appears twice in the batch");
    };
    for (const auto& row : rows)
        if (auto s = checkDevIdOfUrn(row); !s) return s;
    // A URN twice is its Dev ID twice (checkDevIdOfUrn above).
    for (const auto& row : rows) {
        if (!ids.insert(row.devId).second) return twice("Dev ID " + toHex(row.devId, 8));
        if (!records.insert(row.recordId).second) return twice("record id " + row.recordId);
        // One board, one live identity (checkMcuUid): two records of one board in a batch.
        if (row.mcuUid && !mcuUids.insert(*row.mcuUid).second) return twice("MCU unique ID " + *row.mcuUid);
    }
    return {};
}

FailureCount countFailureStep(const FailureCount& previous, int limit, const FailurePolicy& policy, std::int64_t now) {
    FailureCount next = previous;
    if (next.failures == 0 || now - next.windowStart > policy.windowMs) {
        next.failures = 0;
        next.windowStart = now;
    }
    ++next.failures;
    if (next.failures >= limit) {
        next.lockedUntil = now + policy.lockoutMs;
        next.failures = 0;  // a new window starts after the lockout
    }
    return next;
}

bool failureCountIdle(const FailureCount& count, const FailurePolicy& policy, std::int64_t now) {
    return count.lockedUntil <= now && now - count.windowStart > policy.windowMs;
}

std::unexpected<Error> transitionError(DeviceState from, std::string_view target) {
    if (from == DeviceState::revoked) return fail(Errc::permissionDenied, "the device is revoked");
    return fail(Errc::conflict, "the device is " + std::string(stateName(from)) + ", it cannot become " +
                                    std::string(target));
}

Result<bool> planPreEnroll(const DeviceRow& d, const PreEnrollment& what) {
    const std::string id = toHex(d.devId, 8);
    if (d.station != what.station)
        return fail(Errc::permissionDenied, "device " + id + " was provisioned by station " + d.station + ", not by " +
                                                what.station + ": a station pre-enrolls only its own devices");
    switch (d.state) {
    case DeviceState::notMapped: return true;
    case DeviceState::revoked: return fail(Errc::conflict, "device " + id + " is revoked: it cannot be pre-enrolled");
    default: break;
    }
    if (d.preEnrolledBy.empty())
        return fail(Errc::conflict, "device " + id + " is " + std::string(stateName(d.state)) +
                                        " already: its label's holder mapped it to a Controller");
    if (!d.controller || d.controller->fingerprint != what.controller.fingerprint || d.controller->ip != what.controller.ip ||
        d.controller->port != what.controller.port)
        return fail(Errc::conflict, "device " + id + " is pre-enrolled to another Controller (" +
                                        (d.controller ? mappingDetail(*d.controller) : std::string("none")) + ")");
    return false;
}

std::string mappingDetail(const ControllerAddress& c) {
    return "controller " + c.ip + " port " + std::to_string(c.port) + " fingerprint " + c.fingerprint;
}

std::string RevokeTarget::describe() const {
    switch (kind) {
        case Kind::device: return "Dev ID " + toHex(number, 8);
        case Kind::box: return "box " + toHex(number, 8);
        case Kind::lot: return "lot " + lot;
    }
    return {};
}

Result<RevokeSummary> planRevocation(const RevokeTarget& target, const Revocation& why,
                                     const std::vector<RevokeCandidate>& candidates) {
    if (candidates.empty()) {
        if (target.kind == RevokeTarget::Kind::device) return fail(Errc::notFound, "no device with " + target.describe());
        return fail(Errc::notFound, "no device in " + target.describe());
    }
    RevokeSummary out;
    for (const auto& c : candidates) {
        if (why.onlyStation && c.station != *why.onlyStation)
            return fail(Errc::permissionDenied, "device " + toHex(c.devId, 8) + " was provisioned by station " + c.station +
                                                    ", not by " + *why.onlyStation + ": a station revokes only its own devices");
        (c.state == DeviceState::revoked ? out.alreadyRevoked : out.revoked).push_back(c.devId);
    }
    return out;
}

std::string revocationDetail(const RevokeTarget& target, const Revocation& why) {
    if (target.kind == RevokeTarget::Kind::device) return why.reason;
    return why.reason + " (" + target.describe() + ")";
}

Status checkReworkedFrom(const DeviceRow& row, std::optional<DeviceState> oldState) {
    if (!row.reworkedFrom) return {};
    const std::string old = "reworked_from " + toHex(*row.reworkedFrom, 8);
    if (*row.reworkedFrom == row.devId) return fail(Errc::invalidArgument, old + " is the record's own Dev ID");
    if (!oldState) return fail(Errc::notFound, old + ": no device with this Dev ID");
    if (*oldState != DeviceState::revoked)
        return fail(Errc::conflict, old + ": the device is " + std::string(stateName(*oldState)) +
                                        ", not revoked; revoke it before its board gets a new identity");
    return {};
}

Status checkMcuUid(const DeviceRow& row, const std::vector<std::pair<std::uint32_t, DeviceState>>& holders) {
    if (!row.mcuUid) return {};
    for (const auto& [devId, state] : holders) {
        if (devId == row.devId || state == DeviceState::revoked) continue;
        return fail(Errc::alreadyExists, "MCU unique ID " + *row.mcuUid + " is already device " + toHex(devId, 8) + " (" +
                                             std::string(stateName(state)) +
                                             "): a board gets a new identity only by rework, which revokes the old one");
    }
    return {};
}

bool isPostgresUrl(std::string_view url) { return url.starts_with("postgresql://") || url.starts_with("postgres://"); }

Result<std::unique_ptr<Registry>> openRegistry(const std::string& url, int readers, const RegistryOptions& options) {
    if (options.sqliteCacheMib < 1 || options.sqliteCacheMib > RegistryOptions::kMaxSqliteCacheMib)
        return fail(Errc::invalidArgument, "database.sqlite_cache_mib must be 1 to " +
                                               std::to_string(RegistryOptions::kMaxSqliteCacheMib) + ", not " +
                                               std::to_string(options.sqliteCacheMib));
    if (url == "memory:") return makeMemoryRegistry();
    if (url.starts_with("sqlite://")) {
        const std::string path = url.substr(9);
        if (path.empty()) return fail(Errc::invalidArgument, "database URL " + url + ": no path after sqlite://");
        auto db = openSqlite(path, readers, options.sqliteCacheMib, options.warn);
        if (!db) return std::unexpected(db.error());
        return makeSqlRegistry(std::move(*db));
    }
    if (isPostgresUrl(url)) {
        auto db = openPostgres(url, readers);
        if (!db) return std::unexpected(db.error());
        return makeSqlRegistry(std::move(*db));
    }
    return fail(Errc::invalidArgument, "database URL must start with sqlite://, postgresql:// or be memory:");
}

}  // namespace tte::mothership
