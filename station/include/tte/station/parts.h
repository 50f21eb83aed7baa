// The parts of a running station, as the programs that drive it see them: tte-provision and
// tte-station get them from Wiring (the real adapters), the GUI tests from in-memory fakes.
// Parts are made on first use; each getter that can fail reports why (wrong PIN, no printer).
#pragma once

#include "tte/base/clock.h"
#include "tte/station/config.h"
#include "tte/station/journal.h"
#include "tte/station/pipeline.h"
#include "tte/station/ports.h"
#include "tte/station/uploader.h"

namespace tte::station {

class StationParts {
public:
    virtual ~StationParts() = default;
    [[nodiscard]] virtual const StationConfig& config() const = 0;
    virtual Clock& clock() = 0;
    /// Errors: the token's (login with the PIN file, missing keys), with the token's name.
    virtual Result<StationKeys*> keys() = 0;
    /// Errors: those of keys() and Journal::open().
    virtual Result<Journal*> journal() = 0;
    /// Errors: unsupported (no flasher wired), the flasher's.
    virtual Result<DeviceFlasher*> flasher() = 0;
    /// Errors: invalidArgument (lot.label_template / lot.printer_queue unset), the printer's
    /// (template file, queue unreachable or unknown), with the queue's name.
    virtual Result<LabelPrinter*> printer() = 0;
    virtual BlockEncoder& encoder() = 0;
    virtual MotherShipClient& mothership() = 0;
    /// Errors: the first of keys(), journal(), flasher(), printer().
    virtual Result<Pipeline*> pipeline() = 0;
    /// Errors: those of keys() and journal().
    virtual Result<Uploader*> uploader() = 0;
    /// True while the token needs a PIN nobody gave yet: no hsm.pin_file, and the token says
    /// it needs a login (CKF_LOGIN_REQUIRED). The operator types it when signing in.
    virtual bool needsPin() { return false; }
    /// Logs in to the token with the PIN the operator typed; nothing else happens.
    /// Errors: unauthenticated / permissionDenied with what the token said (wrong PIN, tries
    /// left, locked), the token's.
    virtual Status signIn(const Secret& pin) {
        (void)pin;
        return {};
    }
};

}  // namespace tte::station
