// The controller record log in the NVM (docs/PROTOCOL.md §9), through the Nvm seam: find the
// newest valid record, append a new one. The record's CRC is its last 4 bytes and the Nvm
// programs in ascending order, so a power cut at any byte leaves the old record in force or
// the new one complete.
#pragma once

#include "tte/device/enrollment.h"

namespace tte::device {

/// The valid record with the highest sequence; false when the log holds none.
bool loadController(const Nvm& nvm, protocol::ControllerRecord& out);

enum class StoreStatus : std::uint8_t {
    ok,
    full,     ///< no erased slot left (§9: the station must rework the device)
    invalid,  ///< the record breaks a field rule (port, address, fingerprint)
    failed,   ///< programming failed or the new record is not the newest on read-back
};

/// Appends `record` with the next sequence number (written into `record.sequence`) at the
/// first free slot.
StoreStatus appendController(Nvm& nvm, protocol::ControllerRecord& record);

}  // namespace tte::device
