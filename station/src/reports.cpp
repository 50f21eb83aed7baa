// status, journal export and reconcile (see reports.h).
#include "tte/station/reports.h"

#include <map>

#include "tte/base/hex.h"
#include "tte/protocol/crypto.h"

namespace tte::station {
namespace {

/// Latest pipeline state per Dev ID of the lot ("live" once the record is acknowledged).
std::map<std::uint32_t, std::string> latestStates(const StationConfig& config, const std::vector<JournalEntry>& all) {
    std::map<std::uint32_t, std::string> state;
    for (const auto& e : all) {
        if (!e.devId || *e.devId < config.lot.firstDevId || *e.devId > config.lot.lastDevId) continue;
        if (e.kind == "delivered" || (e.kind == "rejected" && e.body.value("kind", "") != "record")) continue;
        state[*e.devId] = e.kind;
    }
    return state;
}

}  // namespace

Result<StationStatus> stationStatus(const StationConfig& config, Journal& journal, Uploader& uploader) {
    auto all = journal.entries();
    if (!all) return std::unexpected(all.error());
    StationStatus s;
    s.entries = static_cast<std::int64_t>(all->size());
    for (const auto& [devId, kind] : latestStates(config, *all)) {
        ++s.allocated;
        if (kind == "live") ++s.live;
        else if (kind == "committed") ++s.committed;
        else if (kind == "failed" || kind == "rejected") ++s.failed;
        else if (kind == "reworked") ++s.reworked;
        else ++s.inProgress;
    }
    for (const auto& e : *all) {
        if (e.kind == "held") {
            if (!s.held) ++s.holds;
            s.held = e.body;
        } else if (e.kind == "resumed") {
            s.held.reset();
        }
    }
    auto last = journal.lastAllocated(config.lot.firstDevId, config.lot.lastDevId);
    if (!last) return std::unexpected(last.error());
    if (!*last) s.nextDevId = config.lot.firstDevId;
    else if (**last < config.lot.lastDevId) s.nextDevId = **last + 1;
    auto b = uploader.backlog();
    if (!b) return std::unexpected(b.error());
    s.backlog = *b;
    return s;
}

std::string formatStatus(const StationConfig& config, const StationStatus& s) {
    const LotConfig& lot = config.lot;
    std::string out = "station " + config.stationId + ", lot " + lot.id + " (Dev IDs " + toHex(lot.firstDevId, 8) +
                      ".." + toHex(lot.lastDevId, 8) + ")\n";
    out += "  devices: " + std::to_string(s.allocated) + " allocated, " + std::to_string(s.live) + " live, " +
           std::to_string(s.committed) + " awaiting upload, " + std::to_string(s.inProgress) + " in progress, " +
           std::to_string(s.failed) + " failed (rework), " + std::to_string(s.reworked) + " reworked\n";
    if (s.held) {
        out += "  line: HELD since " + s.held->value("at", std::string("?")) + " (" + s.held->value("reason", std::string("?")) +
               "): " + s.held->value("problem", std::string()) + " \u2013 " + s.held->value("action", std::string()) + "\n";
    } else {
        out += "  line: running";
        if (s.holds > 0) out += " (held " + std::to_string(s.holds) + " time" + (s.holds == 1 ? "" : "s") + " so far)";
        out += "\n";
    }
    out += "  next Dev ID: " + (s.nextDevId ? toHex(*s.nextDevId, 8) : std::string("none (quota used up)")) + "\n";
    out += "  upload backlog: " + std::to_string(s.backlog.pending) + " pending, " + std::to_string(s.backlog.done) +
           " done, " + std::to_string(s.backlog.rejected) + " rejected";
    if (!s.backlog.lastError.empty()) out += "; last error: " + s.backlog.lastError;
    out += "\n  journal: " + std::to_string(s.entries) + " entries\n";
    return out;
}

Result<std::string> exportJournal(const StationConfig& config, Journal& journal, StationKeys& keys) {
    auto key = keys.stationPublicKey();
    if (!key) return std::unexpected(key.error());
    auto all = journal.entries();
    if (!all) return std::unexpected(all.error());
    nlohmann::json head = {{"station", config.stationId}, {"public_key", protocol::base64Encode(*key)},
                           {"head", all->empty() ? std::string(64, '0') : all->back().hash},
                           {"entries", all->size()}};
    std::string out = head.dump() + "\n";
    for (const auto& e : *all) {
        nlohmann::json j = {{"seq", e.seq}, {"kind", e.kind}, {"body", e.body}, {"prev", e.prev},
                            {"hash", e.hash}, {"signature", e.signature}};
        j["devid"] = e.devId ? nlohmann::json(*e.devId) : nlohmann::json(nullptr);
        out += j.dump() + "\n";
    }
    return out;
}

Result<std::vector<Discrepancy>> reconcile(const StationConfig& config, Journal& journal, MotherShipClient& ms) {
    auto all = journal.entries();
    if (!all) return std::unexpected(all.error());
    auto states = latestStates(config, *all);
    std::map<std::uint32_t, std::string> recordIds;
    for (const auto& e : *all)
        if (e.kind == "committed" && e.devId) recordIds[*e.devId] = e.body["record"].value("record_id", "");
    std::vector<Discrepancy> out;
    for (const auto& [devId, kind] : states) {
        auto remote = ms.device(devId);
        const bool atMs = remote.has_value();
        if (!remote && remote.error().code != Errc::notFound) return std::unexpected(remote.error());
        const bool shouldBe = kind == "live" || kind == "committed";
        if (kind == "live" && !atMs) out.push_back({devId, "live in the journal, unknown at the MotherShip"});
        else if (kind == "committed" && !atMs) out.push_back({devId, "committed, not uploaded yet"});
        else if (!shouldBe && atMs) out.push_back({devId, "at the MotherShip, but the journal says " + kind});
        else if (atMs && !remote->recordId.empty() && remote->recordId != recordIds[devId])
            out.push_back({devId, "the MotherShip holds record " + remote->recordId + ", the journal " + recordIds[devId]});
    }
    // Dev IDs past the journal's highest that the MotherShip knows (a truncated journal).
    const std::uint32_t next = states.empty() ? config.lot.firstDevId : states.rbegin()->first + 1;
    for (std::uint32_t d = next; d <= config.lot.lastDevId && d < next + 16 && d >= next; ++d) {
        auto remote = ms.device(d);
        if (remote) out.push_back({d, "at the MotherShip, not in the journal"});
        else if (remote.error().code != Errc::notFound) return std::unexpected(remote.error());
    }
    return out;
}

}  // namespace tte::station
