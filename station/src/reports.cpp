// status, journal export and reconcile (see reports.h).
#include "tte/station/reports.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include "tte/base/hex.h"
#include "tte/protocol/crypto.h"

namespace tte::station {
std::string yieldText(std::optional<double> yield) {
    if (!yield) return "-";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f %%", *yield * 100);
    return buf;
}

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

/// An entry's `at` (RFC 3339 UTC, whole seconds as the journal writes it), if it has one.
std::optional<std::chrono::system_clock::time_point> entryTime(const JournalEntry& e) {
    if (!e.body.is_object() || !e.body.contains("at") || !e.body["at"].is_string()) return std::nullopt;
    const std::string t = e.body["at"];
    std::tm tm{};
    if (t.size() < 20 || strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return std::nullopt;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string counterLine(const std::string& name, const LineCounters& c) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-34s %6d done, %4d failed, %4d reworked, yield %7s, %6.1f devices/hour\n",
                  name.c_str(), c.done, c.failed, c.reworked, yieldText(c.yield()).c_str(), c.perHour);
    return buf;
}

}  // namespace

std::chrono::system_clock::time_point shiftStartOf(std::chrono::system_clock::time_point now,
                                                   const std::vector<int>& startsMinutes) {
    using namespace std::chrono;
    const auto day = floor<days>(now);
    const int minute = static_cast<int>(duration_cast<minutes>(now - day).count());
    int start = -1;
    for (int m : startsMinutes)
        if (m <= minute) start = m;
    if (start < 0) return day - days(1) + minutes(startsMinutes.empty() ? 0 : startsMinutes.back());
    return day + minutes(start);
}

LineCounters countLine(const StationConfig& config, const std::vector<JournalEntry>& entries,
                       std::optional<std::chrono::system_clock::time_point> from) {
    LineCounters c;
    std::optional<std::chrono::system_clock::time_point> first, last;
    for (const auto& e : entries) {
        if (!e.devId || *e.devId < config.lot.firstDevId || *e.devId > config.lot.lastDevId) continue;
        const auto at = entryTime(e);
        if (from && (!at || *at < *from)) continue;
        if (e.kind == "allocated" && at && (!first || *at < *first)) first = at;
        if (e.kind == "committed") {
            ++c.done;
            if (at) last = at;
        } else if (e.kind == "failed") {
            ++c.failed;
        } else if (e.kind == "reworked") {
            ++c.reworked;
        }
    }
    if (c.done > 0 && first && last) {
        // At least a minute: the journal's times are whole seconds.
        const double seconds = std::max(60.0, std::chrono::duration<double>(*last - *first).count());
        c.perHour = c.done * 3600.0 / seconds;
    }
    return c;
}

Result<StationStatus> stationStatus(const StationConfig& config, Journal& journal, Uploader& uploader,
                                    std::chrono::system_clock::time_point now) {
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
    const auto shift = shiftStartOf(now, config.shiftStarts);
    s.shiftStart = rfc3339(shift);
    s.lotCounters = countLine(config, *all, std::nullopt);
    s.shiftCounters = countLine(config, *all, shift);
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
    out += counterLine("lot " + lot.id + ":", s.lotCounters);
    out += counterLine("shift since " + s.shiftStart + ":", s.shiftCounters);
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
    std::map<std::uint32_t, nlohmann::json> seatOf;  // a device's seat, from its allocation
    for (const auto& e : *all) {
        nlohmann::json j = {{"seq", e.seq}, {"kind", e.kind}, {"body", e.body}, {"prev", e.prev},
                            {"hash", e.hash}, {"signature", e.signature}};
        j["devid"] = e.devId ? nlohmann::json(*e.devId) : nlohmann::json(nullptr);
        // Who and where, for every entry: the operator signed in when it was written, and the
        // fixture seat of the board (null for entries of the line, not of a board).
        nlohmann::json seat = e.body.is_object() && e.body.contains("seat") ? e.body["seat"] : nlohmann::json(nullptr);
        if (e.devId && e.kind == "allocated") seatOf[*e.devId] = seat;
        if (seat.is_null() && e.devId && seatOf.contains(*e.devId)) seat = seatOf[*e.devId];
        j["seat"] = seat;
        j["operator"] = e.body.is_object() && e.body.contains("operator") ? e.body["operator"] : nlohmann::json(nullptr);
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
