// What tte-provision shows and writes besides the run: status, journal export, reconcile.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tte/base/error.h"
#include "tte/station/config.h"
#include "tte/station/journal.h"
#include "tte/station/ports.h"
#include "tte/station/uploader.h"

namespace tte::station {

/// Boards of the lot over a period, from the journal's entries and their `at` times
/// (docs/STATION.md "Counters"): what a supervisor reads.
struct LineCounters {
    int done = 0;      ///< `committed` entries (a board provisioned, labelled and its record made)
    int failed = 0;    ///< `failed` entries (a board that needs rework)
    int reworked = 0;  ///< `reworked` entries
    double perHour = 0;  ///< done per hour, from the first board started to the last one done
    /// First-pass yield, done / (done + failed); nullopt before any board ended.
    [[nodiscard]] std::optional<double> yield() const {
        if (done + failed == 0) return std::nullopt;
        return static_cast<double>(done) / (done + failed);
    }
};

/// A yield as `tte-provision status` and the GUI show it: "97.5 %", or "-" before any board ended.
std::string yieldText(std::optional<double> yield);

/// Counts of the lot's devices by their latest state, and the upload backlog.
struct StationStatus {
    std::int64_t entries = 0;
    int allocated = 0;   ///< Dev IDs ever handed out in the lot
    int inProgress = 0;  ///< allocated, keyed, flashed or labelled (a running or crashed pipeline)
    int committed = 0;   ///< committed and not yet acknowledged
    int live = 0;
    int failed = 0;      ///< failed, awaiting rework
    int reworked = 0;
    std::optional<std::uint32_t> nextDevId;
    Backlog backlog;
    /// The line as the journal last said: the newest `held` entry's body when no `resumed`
    /// followed it (a station stopped while held says so until its next run resumes).
    std::optional<nlohmann::json> held;
    int holds = 0;  ///< how often the line held, over the journal
    LineCounters lotCounters;    ///< the whole lot
    LineCounters shiftCounters;  ///< since shiftStart
    std::string shiftStart;      ///< RFC 3339: the start of the shift `now` is in (station.shifts)
};
/// The status at wall time `now` (the current shift is the one `now` falls in).
Result<StationStatus> stationStatus(const StationConfig& config, Journal& journal, Uploader& uploader,
                                    std::chrono::system_clock::time_point now);
/// The start of the shift that `now` falls in: the latest of `startsMinutes` (minutes after
/// midnight UTC, ascending) at or before `now`, on `now`'s day or the day before.
std::chrono::system_clock::time_point shiftStartOf(std::chrono::system_clock::time_point now,
                                                   const std::vector<int>& startsMinutes);
/// Counts the lot's boards whose entries are at or after `from` (all of them when nullopt;
/// entries without `at` count only then).
LineCounters countLine(const StationConfig& config, const std::vector<JournalEntry>& entries,
                       std::optional<std::chrono::system_clock::time_point> from);
std::string formatStatus(const StationConfig& config, const StationStatus& s);

/// The journal as JSON lines: first {"station", "public_key": base64 SPKI, "head"}, then
/// every entry {"seq","kind","devid","body","prev","hash","signature"}; no OTP, no key.
Result<std::string> exportJournal(const StationConfig& config, Journal& journal, StationKeys& keys);

/// One finding of reconcile.
struct Discrepancy {
    std::uint32_t devId = 0;
    std::string problem;  ///< e.g. "committed at the station, unknown at the MotherShip"
};
/// Compares every Dev ID the journal allocated in the lot (and the rest of the lot's range
/// up to the MotherShip's `used` count) with the MotherShip. Errors: the MotherShip's.
Result<std::vector<Discrepancy>> reconcile(const StationConfig& config, Journal& journal, MotherShipClient& ms);

}  // namespace tte::station
