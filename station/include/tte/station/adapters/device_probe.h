// RegistrationProbe over the device's own host client (tte::device_host): the CoAP-over-DTLS
// GET /.well-known/tte?urn=… that a device makes (draft message 9, PROTOCOL.md §7), with the
// block's key and certificate, pinning the block's MotherShip fingerprint. One request, no
// retries, nothing written to the unit.
#pragma once

#include <chrono>
#include <memory>

#include "tte/station/verify.h"

namespace tte::station {

/// `timeout`: for the whole request, handshake included.
std::unique_ptr<RegistrationProbe> makeDeviceRegistrationProbe(std::chrono::milliseconds timeout);

}  // namespace tte::station
