// What tte-provision shows and writes besides the run: status, journal export, reconcile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tte/base/error.h"
#include "tte/station/config.h"
#include "tte/station/journal.h"
#include "tte/station/ports.h"
#include "tte/station/uploader.h"

namespace tte::station {

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
};
Result<StationStatus> stationStatus(const StationConfig& config, Journal& journal, Uploader& uploader);
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
