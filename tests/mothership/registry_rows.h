// Registry rows for the registry tests: a station record as the registry stores it, rows read
// back as one line of text each (two registries' rows compare in one line), the outcome of a
// write as a Status, and a fresh store of each backend the parameterised suites run on.
#pragma once

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/mothership.h"
#include "support/postgres.h"
#include "support/temp_dir.h"
#include "tte/base/hex.h"
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

/// The outcome of a write as a Status (g++ 12's std::expected has no transform()).
template <class T>
Status statusOf(const Result<T>& r) {
    if (r) return {};
    return std::unexpected(r.error());
}

/// The URL of a fresh registry on `backend` ("memory", "sqlite", "postgresql"): the in-memory
/// store, a file in `dir`, or a new database of `pg` (the suite's server, started on first use).
inline std::string freshRegistryUrl(const std::string& backend, const test::TempDir& dir,
                                    std::unique_ptr<test::Postgres>& pg) {
    if (backend == "sqlite") return "sqlite://" + dir.file("r.db");
    if (backend != "postgresql") return "memory:";
    if (!pg) pg = std::make_unique<test::Postgres>();
    return pg->newDatabase();
}

/// Every field of a device, as text.
inline std::string describe(const DeviceRow& d) {
    std::ostringstream s;
    s << toHex(d.devId, 8) << '|' << d.urn << '|' << d.fingerprint << '|' << toHex(d.otpHash) << '|' << d.lot << '|'
      << (d.box ? toHex(*d.box, 8) : "-") << '|' << d.station << '|' << d.recordId << '|' << d.recordDigest << '|'
      << d.signature << '|' << d.firmwareSha256 << '|' << d.created << '|' << stateName(d.state) << '|';
    if (d.controller)
        s << d.controller->ip << ':' << d.controller->port << ' ' << d.controller->fingerprint << ' '
          << d.controller->pskWrapped.value_or("-");
    s << '|' << d.description << '|' << d.insertedAt << '|' << d.updatedAt << '|' << d.failures << '|'
      << d.mcuUid.value_or("-") << '|' << (d.reworkedFrom ? toHex(*d.reworkedFrom, 8) : "-") << '|' << d.revokedAt
      << '|' << d.revokedBy << '|' << d.revokeReason << '|' << d.pskWrapped.value_or("-") << '|' << d.preEnrolledBy;
    return s.str();
}

/// An audit trail, a line per entry.
inline std::string describe(const std::vector<AuditEntry>& trail) {
    std::ostringstream s;
    for (const auto& e : trail)
        s << e.id << ' ' << e.at << ' ' << (e.devId ? toHex(*e.devId, 8) : "-") << ' ' << e.event << ' ' << e.client
          << ' ' << e.detail << '\n';
    return s.str();
}

}  // namespace tte::mothership::test_rows
