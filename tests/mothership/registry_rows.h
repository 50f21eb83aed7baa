// Registry rows for the registry tests: a station record as the registry stores it.
#pragma once

#include <cstdint>
#include <string>

#include "support/mothership.h"
#include "tte/mothership/registry.h"
#include "tte/protocol/crypto.h"

namespace tte::mothership::test_rows {

/// Device `devId` of lot-1 from station-1, stored under record id `recordId`.
inline DeviceRow row(std::uint32_t devId, const std::string& recordId) {
    DeviceRow d;
    d.devId = devId;
    d.urn = test::devUrn(devId);
    d.fingerprint = std::string(64, 'd');
    d.otpHash.assign(32, 0x42);
    d.lot = "lot-1";
    d.station = "station-1";
    d.recordId = recordId;
    d.recordDigest = protocol::sha256Hex("record " + recordId);  // 64 hex, as a station record's
    d.signature = "sig";
    d.firmwareSha256 = std::string(64, 'f');
    d.created = "2026-11-23T07:00:00Z";
    return d;
}

}  // namespace tte::mothership::test_rows
