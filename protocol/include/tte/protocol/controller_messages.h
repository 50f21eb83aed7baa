// The documents the Controller takes (docs/PROTOCOL.md §8): the Introduction (message 6,
// HTTPS JSON) and the device's Checkin (message 11, CoAP CBOR or JSON).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/ids.h"

namespace tte::protocol {

/// Message 6: {"urn", "fingerprint", "otp", "devid", "ms", "description"}. `description` is
/// optional on input (absent means empty) and always written. fromJson() errors: those listed
/// in mothership_messages.h, starting "Introduction: ", and "Introduction: devid <hex> does
/// not match the URN's <hex>"; `ms` must be an operational MotherShip host name;
/// `description` at most 200 bytes of UTF-8 without control characters. Carries the OTP:
/// the JSON text is secret.
struct Introduction {
    DevUrn urn;
    Fingerprint fingerprint;
    Otp otp;
    DevId devId;
    MsId ms;
    std::string description;
    [[nodiscard]] std::string toJson() const;
    static Result<Introduction> fromJson(std::string_view text);
};

/// Message 11: {"urn"}, CBOR on CoAP (and JSON). Errors start "Checkin: ".
struct Checkin {
    DevUrn urn;
    [[nodiscard]] std::string toJson() const;
    [[nodiscard]] std::vector<std::uint8_t> toCbor() const;
    static Result<Checkin> fromJson(std::string_view text);
    static Result<Checkin> fromCbor(std::span<const std::uint8_t> bytes);
};

}  // namespace tte::protocol
