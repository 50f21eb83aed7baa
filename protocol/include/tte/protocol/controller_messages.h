// The documents of the Controller (docs/PROTOCOL.md §8): the Introduction it takes (message 6,
// HTTPS JSON), the device's Checkin (message 11, CoAP CBOR or JSON), and the devices it lists
// (the 201 answer to message 6, GET /tte/v1/devices).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/ids.h"
#include "tte/protocol/mothership_messages.h"

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
    /// §11: the device–Controller PSK of a DTLS-PSK device (`"psk": "<64 hex>"`, only when
    /// set; the Controller then takes the device's DTLS-PSK check-in with PSK identity = URN).
    /// Secret. Errors: "Introduction: field 'psk': psk: expected 64 hex digits, got N",
    /// "…: psk: all zero".
    std::optional<Psk> psk = std::nullopt;
    [[nodiscard]] std::string toJson() const;
    static Result<Introduction> fromJson(std::string_view text);
    /// As toJson() without `otp` and `psk`, for a store that keeps secrets apart (the station's queue).
    [[nodiscard]] std::string toJsonWithoutOtp() const;
    /// Reads toJsonWithoutOtp()'s text with the OTP given; the rules and errors of fromJson().
    static Result<Introduction> fromJsonWithoutOtp(std::string_view text, const Otp& otp);
};

/// Message 11: {"urn"}, CBOR on CoAP (and JSON). Errors start "Checkin: ".
struct Checkin {
    DevUrn urn;
    [[nodiscard]] std::string toJson() const;
    [[nodiscard]] std::vector<std::uint8_t> toCbor() const;
    static Result<Checkin> fromJson(std::string_view text);
    static Result<Checkin> fromCbor(std::span<const std::uint8_t> bytes);
};

/// A device's state at the Controller: introduced (pending), expired (its TTL passed before it
/// checked in), registered (checked in).
enum class ControllerDeviceState { introduced, expired, registered };
/// "introduced", "expired", "registered".
std::string_view controllerDeviceStateName(ControllerDeviceState state);
/// Errors: invalidArgument "unknown state '<text>'".
Result<ControllerDeviceState> parseControllerDeviceState(std::string_view text);

/// One device as the Controller lists it: {"urn", "devid", "fingerprint", "description",
/// "state", "ms_state", "ms", "introduced", "expires_at", "last_seen"}. A device accepted
/// without an introduction (draft 2, last paragraph) has "" for devid and ms and introduced
/// false; ms_state is "unknown" until the MotherShip answered (message 8); last_seen is null
/// until the device checked in; times are Unix seconds. Never carries the OTP.
struct ControllerDevice {
    DevUrn urn;
    std::optional<DevId> devId;
    Fingerprint fingerprint;
    std::string description;
    ControllerDeviceState state = ControllerDeviceState::introduced;
    std::optional<EnrollmentState> msState;  ///< nullopt: "unknown"
    std::optional<MsId> ms;
    bool introduced = true;
    std::int64_t expiresAt = 0;
    std::optional<std::int64_t> lastSeen;
    [[nodiscard]] std::string toJson() const;
    /// Also "ControllerDevice: devid <hex> does not match the URN's <hex>".
    static Result<ControllerDevice> fromJson(std::string_view text);
};

/// GET /tte/v1/devices: {"devices": [ControllerDevice, …]}.
struct DeviceList {
    std::vector<ControllerDevice> devices;
    [[nodiscard]] std::string toJson() const;
    /// Also "DeviceList: devices[i]: <ControllerDevice error>".
    static Result<DeviceList> fromJson(std::string_view text);
};

}  // namespace tte::protocol
