// Bulk enrollment from a box code (draft 5.2, docs/PROTOCOL.md §3-§4): every Dev ID of the
// box gets its OTP derived from the box secret and is mapped through the ordinary POST.
// Progress is kept in a state file (replaced atomically after every device), so a run that
// was stopped half way resumes where it stopped and skips what is done.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tte/base/error.h"
#include "tte/introducer/enroll.h"
#include "tte/protocol/box.h"

namespace tte::introducer {

/// What happened to one device of the box.
struct BoxDeviceResult {
    std::string devid;
    std::string outcome;  ///< mapped | already-used | not-found | revoked | failed
    std::string urn;
    std::string fingerprint;
    std::string message;
    bool skipped = false;  ///< done by an earlier run
    bool introductionQueued = false;  ///< message 6 is in the queue, not at the Controller yet
    bool introductionLost = false;    ///< message 6 could be neither sent nor queued (`message` says why)
};

struct BoxOptions {
    ControllerTarget controller;
    std::filesystem::path stateFile;
    IntroducePlan introductions;  ///< message 6 for each mapped device: now, queued, or not at all
};

/// Called after every device: (position 1..total, total, result).
using BoxProgress = std::function<void(std::size_t, std::size_t, const BoxDeviceResult&)>;

/// Enrolls every device of the box. Devices with a final outcome in the state file are
/// skipped; "failed" ones are tried again. Errors: conflict (the state file belongs to
/// another box), corrupt (the state file is not one), io.
Result<std::vector<BoxDeviceResult>> enrollBox(const protocol::BoxUrl& box, const BoxOptions& options, MotherShipApi& ms,
                                               IntroductionSender& sender, const BoxProgress& progress = {});

}  // namespace tte::introducer
