// Station operations that tte-provision and tte-station share, so that the command line and
// the operator's window do exactly the same thing: open the lot against the MotherShip's
// quota, find the device at a port, rework a failed device, reprint a device's label.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/station/config.h"
#include "tte/station/journal.h"
#include "tte/station/pipeline.h"
#include "tte/station/ports.h"

namespace tte::station {

/// Opens the lot with the MotherShip's quota, or, when the MotherShip is unavailable or times
/// out, with the quota journalled at an earlier opening; then `notice` says so.
/// Errors: the MotherShip's other errors ("lot <id>: quota: …"), those of Pipeline::openLot().
Status openLotWithQuota(const StationConfig& config, Pipeline& pipeline, MotherShipClient& ms, std::string& notice);

/// The warning a lot's lock setting gives on every start: "" for rdp1 (the default), a
/// warning for "none" (boards stay readable) and for "rdp2" (permanent, no rework).
std::string lockWarning(const LotConfig& lot);

/// The device the journal last allocated at a port, with its entries.
struct DeviceAtPort {
    std::uint32_t devId = 0;
    std::vector<JournalEntry> entries;
    /// Latest state: the latest entry kind other than "delivered" ("committed", "live", "failed", …).
    std::string state;
};
/// Errors: notFound "the journal has no device at port <port>", the journal's.
Result<DeviceAtPort> deviceAtPort(Journal& journal, const std::string& port);

/// What reworkDevice() did.
struct ReworkResult {
    std::uint32_t devId = 0;
    bool alreadyReworked = false;  ///< nothing was done
    bool hadRecord = false;        ///< the device's record stays at the MotherShip: revoke it there
};
/// Makes the board at `port` blank for a new Dev ID and journals `reworked` {port, seat,
/// mcu_uid, erased}: a read-protected board is regressed to level 0 first, which mass-erases
/// it (docs/FLASHER.md); an open one has its provisioning block and NVM sector erased (with
/// them its OTP and key). The device is found by the board's unique ID (its USB serial while
/// locked), else as the last one allocated at the port. The old Dev ID stays burned; a device
/// with a record keeps it at the MotherShip (hadRecord: revoke it there).
/// Errors: those of deviceAtPort(); conflict when the device is still in the pipeline; the
/// flasher's; the journal's.
Result<ReworkResult> reworkDevice(Journal& journal, DeviceFlasher& flasher, const BlockEncoder& encoder,
                                  const std::string& port, const std::string& seat = {});

/// Prints the label of the device at `port` again, from the label the station kept (scanned
/// back, so the same Enrollment URL and OTP), checks the new print by scan-back, and journals
/// `reprinted` {devid, port, job, artefact, reason} (without a Dev ID column, so the device's
/// pipeline state is unchanged).
/// Errors: invalidArgument "reprint needs a reason"; those of deviceAtPort(); conflict when
/// the device has no committed record; corrupt when the kept label is not this device's; the
/// printer's; the journal's.
Result<PrintedLabel> reprintLabel(Journal& journal, LabelPrinter& printer, const std::string& port,
                                  std::string_view reason);

}  // namespace tte::station
