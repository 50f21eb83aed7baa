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
#include "tte/station/uploader.h"

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
};
/// Makes the board at `port` blank for a new Dev ID and journals `reworked` {port, seat,
/// mcu_uid, erased}: a read-protected board is regressed to level 0 first, which mass-erases
/// it (docs/FLASHER.md); an open one has its provisioning block and NVM sector erased (with
/// them its OTP and key). For a device that never went live (failed, rejected) or a reworked
/// board still locked. The device is found by the board's unique ID (its USB serial while
/// locked), else as the last one allocated at the port. The Dev ID stays burned and the next
/// run gives the board a new one.
/// Errors: those of deviceAtPort(); conflict when the device has a record ("… rework it with
/// `tte-provision rework --devid D`, which revokes it at the MotherShip first") or is still in
/// the pipeline; the flasher's; the journal's.
Result<ReworkResult> reworkDevice(Journal& journal, DeviceFlasher& flasher, const BlockEncoder& encoder,
                                  const std::string& port, const std::string& seat = {});

/// What the rework of a device needs: the lot open in `pipeline` (openLotWithQuota()).
struct ReworkParts {
    Journal& journal;
    DeviceFlasher& flasher;
    const BlockEncoder& encoder;
    MotherShipClient& ms;
    Uploader& uploader;
    Pipeline& pipeline;
};

/// What reworkById() did.
struct ReworkOutcome {
    std::uint32_t devId = 0;                ///< the device reworked (its old identity)
    std::string port;
    bool alreadyReworked = false;           ///< nothing was done
    bool erased = false;                    ///< a device that never went live: erased, as reworkDevice()
    bool revoked = false;                   ///< revoked at the MotherShip first
    std::optional<std::uint32_t> newDevId;  ///< the board's new identity (after a revocation)
    std::string uploadNotice;               ///< why the new record is still queued, if it is
};

/// `tte-provision rework --devid D` (docs/STATION.md "Rework"). A device that never went live
/// (`failed`) is erased as by reworkDevice(). A device with a record is first made live (its
/// queued record uploaded), then revoked at the MotherShip (`reason`), journalled `revoked` and
/// `reworked` (its board made blank, a locked one regressed, as reworkDevice()), and only then
/// its board – in the port the journal holds it in – is provisioned
/// as a new device (new Dev ID, OTP, key, label) whose `allocated` entry and record name the
/// old Dev ID (`reworked_from`); the new record is uploaded at once when the MotherShip answers.
/// If the MotherShip cannot revoke, nothing is written to the board or the journal.
/// Errors: notFound (no such device in the journal); conflict (the device is still in the
/// pipeline, or another device sits in its port now); unavailable/timeout ("… its record is not
/// at the MotherShip yet …", "… the revocation at the MotherShip failed: …"); the MotherShip's
/// answer (permissionDenied: another station's device); those of Pipeline::provision() for the
/// new identity ("… revoked; its board's new identity failed: …"); the journal's.
Result<ReworkOutcome> reworkById(const ReworkParts& parts, std::uint32_t devId, std::string_view reason);

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
