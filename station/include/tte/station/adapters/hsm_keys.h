// StationKeys over tte::hsm's KeyStore (a PKCS#11 token): OTPs, bulk OTPs, box secrets,
// device keys and queue masks in the token. The station identity key (the key of the
// certificate the MotherShip registered, used for mutual TLS and record signatures) is the
// token's signing key `identityKeyUri`, or a PEM key file (docs/STATION.md, "Keys").
#pragma once

#include <memory>
#include <string>

#include "tte/base/clock.h"
#include "tte/station/ports.h"

namespace tte::hsm {
class KeyStore;
}

namespace tte::station {

struct HsmKeyNames {
    std::string lotKeyUri;       ///< HMAC key of the lot (PROTOCOL.md §4)
    std::string queueKeyUri;     ///< HMAC key for the queue masks
    std::string identityKeyUri;  ///< signing key in the token ("" = use identityKeyFile)
    std::string identityKeyFile; ///< PEM private key file of the station identity
};

/// Errors of make: io (key file unreadable), invalidArgument (not a P-256 PEM key).
Result<std::unique_ptr<StationKeys>> makeHsmStationKeys(hsm::KeyStore& store, HsmKeyNames names, Clock& clock);

}  // namespace tte::station
