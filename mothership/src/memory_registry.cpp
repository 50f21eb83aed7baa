// The in-memory registry for unit tests: the same rules as the SQL stores (registry_rules.h),
// held in maps under one mutex. Nothing survives the process.
#include <algorithm>
#include <map>
#include <mutex>

#include "registry_rules.h"
#include "tte/base/hex.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

class MemoryRegistry final : public Registry {
public:
    Result<InsertOutcome> insertDevice(const DeviceRow& row, std::int64_t now) override {
        if (auto s = checkDevIdOfUrn(row); !s) return std::unexpected(s.error());
        std::lock_guard lock(m_mutex);
        return insertLocked(row, now);
    }

    Result<ImportSummary> importDevices(std::span<const DeviceRow> rows, std::int64_t now) override {
        std::lock_guard lock(m_mutex);
        if (auto s = checkBatch(rows); !s) return std::unexpected(s.error());
        const auto devices = m_devices;  // all or nothing: put back on the first refusal
        const auto auditLines = m_audit.size();
        ImportSummary out;
        for (const auto& row : rows) {
            auto r = insertLocked(row, now);
            if (!r) {
                m_devices = devices;
                m_audit.resize(auditLines);
                return std::unexpected(r.error());
            }
            ++(*r == InsertOutcome::stored ? out.stored : out.duplicates);
        }
        return out;
    }

private:
    /// `row` as insertDevice() stores it, its URN checked by the caller (checkDevIdOfUrn, or
    /// checkBatch for an import).
    Result<InsertOutcome> insertLocked(const DeviceRow& row, std::int64_t now) {
        for (const auto& [id, d] : m_devices) {
            if (d.recordId == row.recordId) {
                if (d.recordDigest == row.recordDigest) return InsertOutcome::duplicate;
                return fail(Errc::alreadyExists, "record id " + row.recordId + " was stored with other content");
            }
        }
        auto lot = m_lots.find(row.lot);
        if (lot == m_lots.end()) return fail(Errc::notFound, "no quota for lot " + row.lot);
        if (auto s = checkRange("Dev ID " + toHex(row.devId, 8), row.devId, row.devId, lot->second.first.value,
                                lot->second.last.value, row.lot);
            !s)
            return std::unexpected(s.error());
        // The same URN is the same Dev ID (checkDevIdOfUrn).
        if (m_devices.contains(row.devId)) return fail(Errc::alreadyExists, deviceTakenMessage(row));
        if (row.reworkedFrom) {
            auto old = m_devices.find(*row.reworkedFrom);
            if (auto c = checkReworkedFrom(row, old == m_devices.end() ? std::nullopt : std::optional(old->second.state)); !c)
                return std::unexpected(c.error());
        }
        std::vector<std::pair<std::uint32_t, DeviceState>> holders;
        for (const auto& [id, d] : m_devices)
            if (row.mcuUid && d.mcuUid == row.mcuUid) holders.emplace_back(id, d.state);
        if (auto c = checkMcuUid(row, holders); !c) return std::unexpected(c.error());
        DeviceRow stored = row;
        stored.state = DeviceState::notMapped;
        stored.controller.reset();
        stored.description.clear();
        stored.insertedAt = stored.updatedAt = now;
        stored.failures = 0;
        stored.revokedAt = 0;
        stored.revokedBy.clear();
        stored.revokeReason.clear();
        stored.preEnrolledBy.clear();
        m_devices[row.devId] = stored;
        append(row.devId, "stored", row.station, storedAuditDetail(row), now);
        return InsertOutcome::stored;
    }

public:

    Result<DeviceRow> device(std::uint32_t devId) override {
        std::lock_guard lock(m_mutex);
        auto it = m_devices.find(devId);
        if (it == m_devices.end()) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
        return withFailures(it->second);
    }
    Result<DeviceRow> deviceRow(std::uint32_t devId) override {
        std::lock_guard lock(m_mutex);
        auto it = m_devices.find(devId);
        if (it == m_devices.end()) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
        return it->second;
    }

    Result<std::optional<std::vector<std::uint8_t>>> otpHash(std::uint32_t devId) override {
        std::lock_guard lock(m_mutex);
        auto it = m_devices.find(devId);
        if (it == m_devices.end()) return std::optional<std::vector<std::uint8_t>>{};
        return std::optional{it->second.otpHash};
    }

    Result<DeviceRow> deviceByUrn(std::string_view urn) override {
        std::lock_guard lock(m_mutex);
        const auto id = devIdOfUrn(urn);
        const auto it = id ? m_devices.find(*id) : m_devices.end();
        if (it != m_devices.end() && it->second.urn == urn) return it->second;
        return fail(Errc::notFound, "no device with URN " + std::string(urn));
    }

    Status claim(std::uint32_t devId, const ControllerAddress& c, std::string_view description,
                 std::string_view client, std::int64_t now) override {
        std::lock_guard lock(m_mutex);
        auto it = m_devices.find(devId);
        if (it == m_devices.end()) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
        if (it->second.state != DeviceState::notMapped) return transitionError(it->second.state, "mapped");
        it->second.state = DeviceState::mapped;
        it->second.controller = c;
        it->second.description = std::string(description);
        it->second.updatedAt = now;
        append(devId, "mapped", client, mappingDetail(c), now);
        return {};
    }

    Result<DeviceState> preEnroll(std::uint32_t devId, const PreEnrollment& what, std::int64_t now) override {
        std::lock_guard lock(m_mutex);
        auto it = m_devices.find(devId);
        if (it == m_devices.end()) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
        auto now_ = planPreEnroll(it->second, what);
        if (!now_) return std::unexpected(now_.error());
        if (!*now_) return it->second.state;
        it->second.state = DeviceState::mapped;
        it->second.controller = what.controller;
        it->second.description = what.description;
        it->second.preEnrolledBy = what.station;
        it->second.updatedAt = now;
        append(devId, "pre-enrolled", "station " + what.station, mappingDetail(what.controller), now);
        return DeviceState::mapped;
    }

    Status markRegistered(std::uint32_t devId, std::string_view client, std::int64_t now) override {
        std::lock_guard lock(m_mutex);
        auto it = m_devices.find(devId);
        if (it == m_devices.end()) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
        if (it->second.state == DeviceState::registered) return {};
        if (it->second.state != DeviceState::mapped) return transitionError(it->second.state, "registered");
        it->second.state = DeviceState::registered;
        it->second.updatedAt = now;
        append(devId, "registered", client, "", now);
        return {};
    }

    Result<RevokeSummary> revoke(const RevokeTarget& target, const Revocation& why, std::int64_t now) override {
        std::lock_guard lock(m_mutex);
        std::vector<RevokeCandidate> candidates;
        for (const auto& [id, d] : m_devices) {
            const bool in = target.kind == RevokeTarget::Kind::device ? id == target.number
                            : target.kind == RevokeTarget::Kind::box  ? d.box == target.number
                                                                      : d.lot == target.lot;
            if (in) candidates.push_back({id, d.state, d.station});
        }
        auto plan = planRevocation(target, why, candidates);
        if (!plan) return std::unexpected(plan.error());
        for (const std::uint32_t devId : plan->revoked) {
            DeviceRow& d = m_devices[devId];
            d.state = DeviceState::revoked;
            d.updatedAt = d.revokedAt = now;
            d.revokedBy = why.actor;
            d.revokeReason = why.reason;
            append(devId, "revoked", why.actor, revocationDetail(target, why), now);
        }
        return plan;
    }

    Status recordFailure(std::optional<std::uint32_t> devId, std::string_view event, std::string_view client,
                         std::string_view detail, std::int64_t now) override {
        std::lock_guard lock(m_mutex);
        append(devId, event, client, detail, now);
        return {};
    }

    Result<std::int64_t> lockedUntil(const std::vector<std::string>& keys, std::int64_t now) override {
        std::lock_guard lock(m_mutex);
        std::int64_t until = 0;
        for (const auto& key : keys) {
            auto it = m_limits.find(key);
            if (it != m_limits.end() && it->second.lockedUntil > now) until = std::max(until, it->second.lockedUntil);
        }
        return until;
    }

    Status countFailure(const std::vector<FailureSubject>& subjects, const FailurePolicy& policy, std::uint32_t devId,
                        std::string_view event, std::string_view client, std::string_view detail,
                        std::int64_t now) override {
        std::lock_guard lock(m_mutex);
        for (const auto& subject : subjects) {
            FailureCount& count = m_limits[subject.key];
            count = countFailureStep(count, subject.limit, policy, now);
        }
        append(devId, event, client, detail, now);
        return {};
    }

    Status pruneFailures(const FailurePolicy& policy, std::int64_t now) override {
        std::lock_guard lock(m_mutex);
        std::erase_if(m_limits, [&](const auto& entry) { return failureCountIdle(entry.second, policy, now); });
        return {};
    }

    Result<std::vector<AuditEntry>> audit(std::optional<std::uint32_t> devId) override {
        std::lock_guard lock(m_mutex);
        std::vector<AuditEntry> out;
        for (const auto& e : m_audit) {
            if (!devId || e.devId == devId) out.push_back(e);
        }
        return out;
    }

    Status addStation(const StationRow& st) override {
        std::lock_guard lock(m_mutex);
        for (const auto& s : m_stations) {
            if (s.name == st.name || s.fingerprint == st.fingerprint)
                return fail(Errc::alreadyExists, "a station named " + st.name + " or with fingerprint " +
                                                     st.fingerprint + " is registered already");
        }
        m_stations.push_back(st);
        return {};
    }
    Result<StationRow> stationByFingerprint(std::string_view fp) override {
        std::lock_guard lock(m_mutex);
        for (const auto& s : m_stations) {
            if (s.fingerprint == fp) return s;
        }
        return fail(Errc::notFound, "no station with fingerprint " + std::string(fp));
    }
    Result<StationRow> stationByName(std::string_view name) override {
        std::lock_guard lock(m_mutex);
        for (const auto& s : m_stations) {
            if (s.name == name) return s;
        }
        return fail(Errc::notFound, "no station with name " + std::string(name));
    }
    Result<std::vector<StationRow>> stations() override {
        std::lock_guard lock(m_mutex);
        auto out = m_stations;
        std::ranges::sort(out, {}, &StationRow::name);
        return out;
    }
    Status removeStation(std::string_view name, std::string_view actor, std::int64_t now) override {
        std::lock_guard lock(m_mutex);
        auto it = std::ranges::find(m_stations, name, &StationRow::name);
        if (it == m_stations.end()) return fail(Errc::notFound, "no station named " + std::string(name));
        append(std::nullopt, "station-removed", actor, it->name + " " + it->fingerprint, now);
        m_stations.erase(it);
        return {};
    }

    Status setLotQuota(std::string_view lot, std::uint32_t first, std::uint32_t last) override {
        if (first > last) return fail(Errc::invalidArgument, "lot quota: first must not be above last");
        std::lock_guard lock(m_mutex);
        m_lots[std::string(lot)] = LotQuota{std::string(lot), protocol::DevId{first}, protocol::DevId{last}, 0};
        return {};
    }
    Result<LotQuota> lotQuota(std::string_view lot) override {
        std::lock_guard lock(m_mutex);
        auto it = m_lots.find(std::string(lot));
        if (it == m_lots.end()) return fail(Errc::notFound, "no quota for lot " + std::string(lot));
        LotQuota q = it->second;
        for (const auto& [id, d] : m_devices) q.used += d.lot == lot ? 1 : 0;
        return q;
    }

    Result<std::vector<LotQuota>> lots() override {
        std::lock_guard lock(m_mutex);
        std::vector<LotQuota> out;
        for (auto [name, q] : m_lots) {
            for (const auto& [id, d] : m_devices) q.used += d.lot == name ? 1 : 0;
            out.push_back(q);
        }
        return out;
    }

    Status addBox(const BoxRow& box) override {
        std::lock_guard lock(m_mutex);
        if (box.first > box.last) return fail(Errc::invalidArgument, "box: first must not be above last");
        auto lot = m_lots.find(box.lot);
        if (lot == m_lots.end()) return fail(Errc::notFound, "no quota for lot " + box.lot);
        if (auto s = checkRange("box " + toHex(box.box, 8), box.first, box.last, lot->second.first.value, lot->second.last.value,
                                box.lot);
            !s)
            return s;
        auto it = m_boxes.find(box.box);
        if (it != m_boxes.end()) {
            if (it->second.lot == box.lot && it->second.first == box.first && it->second.last == box.last) return {};
            return fail(Errc::alreadyExists, "box " + toHex(box.box, 8) + " is registered with another range");
        }
        m_boxes[box.box] = box;
        return {};
    }

    Status forEachDevice(const std::function<Status(const DeviceRow&)>& fn) override {
        std::vector<DeviceRow> copy;
        {
            std::lock_guard lock(m_mutex);
            for (const auto& [id, d] : m_devices) copy.push_back(withFailures(d));
        }
        for (const auto& d : copy) {
            if (auto s = fn(d); !s) return s;
        }
        return {};
    }

    Status backup(const std::string&) override {
        return fail(Errc::unsupported, "the in-memory registry has nothing to back up");
    }

    Result<RegistryStats> stats(std::int64_t now) override {
        std::lock_guard lock(m_mutex);
        RegistryStats out;
        for (const auto& [id, d] : m_devices) ++out.devices[static_cast<int>(d.state)];
        out.stations = static_cast<std::int64_t>(m_stations.size());
        out.lots = static_cast<std::int64_t>(m_lots.size());
        for (const auto& [key, count] : m_limits) out.lockedSubjects += count.lockedUntil > now ? 1 : 0;
        return out;
    }

    Status ping() override { return {}; }

private:
    /// The row with its failure count: the `otp-wrong` lines of its audit trail (as in SQL).
    DeviceRow withFailures(DeviceRow row) const {
        row.failures = std::ranges::count_if(m_audit, [&](const AuditEntry& e) {
            return e.devId == row.devId && e.event == "otp-wrong";
        });
        return row;
    }

    void append(std::optional<std::uint32_t> devId, std::string_view event, std::string_view client,
                std::string_view detail, std::int64_t now) {
        m_audit.push_back(AuditEntry{static_cast<std::int64_t>(m_audit.size() + 1), now, devId, std::string(event),
                                     std::string(client), std::string(detail)});
    }

    std::mutex m_mutex;
    std::map<std::uint32_t, DeviceRow> m_devices;
    std::map<std::string, LotQuota> m_lots;
    std::map<std::uint32_t, BoxRow> m_boxes;
    std::vector<StationRow> m_stations;
    std::vector<AuditEntry> m_audit;
    std::map<std::string, FailureCount> m_limits;
};

}  // namespace

std::unique_ptr<Registry> makeMemoryRegistry() { return std::make_unique<MemoryRegistry>(); }

}  // namespace tte::mothership
