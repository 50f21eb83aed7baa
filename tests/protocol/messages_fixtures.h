// What the protocol message tests build on: a URN, two fingerprints, a station record, and the
// message of a refused parse.
#pragma once

#include <string>

#include "tte/protocol/messages.h"

namespace tte::protocol::message_tests {

inline const std::string kUrn = "urn:dev:ops:32473-Sensor-00000000abcdef01";
inline const std::string kFp = std::string(62, 'a') + "01";
inline const std::string kFp2 = std::string(64, 'b');

/// The parse's error message, or "(accepted)".
template <class T>
std::string messageOf(const Result<T>& r) {
    return r ? std::string("(accepted)") : r.error().message;
}

inline StationRecord record() {
    StationRecord r;
    r.recordId = "st1-42";
    r.station = "st1";
    r.seq = 42;
    r.devId = DevId{0xabcdef01};
    r.urn = *parseDevUrn(kUrn);
    r.fingerprint = *parseFingerprint(kFp);
    r.otp = Otp(0x123456789abcdef0ULL);
    r.lot = "lot-2026-11";
    r.box = 7;
    r.firmwareSha256.fill(0x11);
    r.created = "2026-11-23T07:00:00Z";
    r.prev.fill(0x22);
    r.signature = "MEUCIQ==";
    return r;
}

}  // namespace tte::protocol::message_tests
