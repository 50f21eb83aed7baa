// The identifiers of draft 2 and 3.4 (docs/PROTOCOL.md §1): MS ID and its host name, Dev ID,
// Dev URN (RFC 9039 "ops") and the OTP.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "tte/base/error.h"

namespace tte::protocol {

/// A MotherShip ID (draft 3.4). Only the low 24 bits are used; see makeMsId().
struct MsId {
    std::uint32_t value = 0;
    friend bool operator==(MsId, MsId) = default;
};

/// Whether MS ID 0 (reserved for the draft's examples) is acceptable.
enum class MsIdUse { operational, example };

/// Checks an MS ID. Errors: outOfRange "MS ID 0x01000000: the high byte must be 0 (draft 3.4)";
/// invalidArgument "MS ID 0 is reserved for examples" (operational use).
Result<MsId> makeMsId(std::uint32_t value, MsIdUse use);

/// `tte-` + the low 24 bits as 6 upper-case hex digits + `.net` (MS ID 10 → tte-00000A.net).
std::string msHostName(MsId id);

/// Parses a MotherShip host name, either case. Errors: invalidArgument
/// "MotherShip host name: expected tte-<6 hex digits>.net, got '<text>'", or makeMsId()'s.
Result<MsId> parseMsHostName(std::string_view host, MsIdUse use);

/// A device ID, unique per MotherShip (draft 2): the low 32 bits of the Dev URN's serial.
struct DevId {
    std::uint32_t value = 0;
    /// 8 lower-case hex digits.
    [[nodiscard]] std::string hex() const;
    friend bool operator==(DevId, DevId) = default;
};

/// Parses exactly 8 hex digits (either case). Errors: invalidArgument "devid: expected 8 hex
/// digits, got N" or "devid: 'x' at position P is not a hex digit".
Result<DevId> parseDevId(std::string_view hex);

/// A one-time password (64 bits). Zeroized on destruction; streams as `***`.
class Otp {
public:
    Otp() = default;
    explicit Otp(std::uint64_t value) : m_value(value) {}
    /// The OTP of 8 big-endian bytes, as a token hands it out; nullopt for another length.
    static std::optional<Otp> fromBytes(std::span<const std::uint8_t> bytes);
    Otp(const Otp&) = default;
    Otp& operator=(const Otp&) = default;
    ~Otp();

    [[nodiscard]] std::uint64_t value() const { return m_value; }
    /// 16 lower-case hex digits. The result is secret: do not log it.
    [[nodiscard]] std::string hex() const;
    friend bool operator==(const Otp& a, const Otp& b) { return ((a.m_value ^ b.m_value) == 0); }
    friend std::ostream& operator<<(std::ostream& os, const Otp&) { return os << "***"; }

private:
    std::uint64_t m_value = 0;
};

/// Parses exactly 16 hex digits (either case). Errors: invalidArgument "otp: expected 16 hex
/// digits, got N" or "otp: 'x' at position P is not a hex digit".
Result<Otp> parseOtp(std::string_view hex);

/// A DTLS pre-shared key of §11 (draft 5.3): 32 bytes, never all zero. Zeroized on
/// destruction; streams as `***`. Copyable like Otp: every copy wipes itself.
class Psk {
public:
    static constexpr std::size_t kSize = 32;
    Psk() = default;
    /// The PSK of exactly 32 bytes that are not all zero; nullopt otherwise.
    static std::optional<Psk> fromBytes(std::span<const std::uint8_t> bytes);
    Psk(const Psk&) = default;
    Psk& operator=(const Psk&) = default;
    ~Psk();

    [[nodiscard]] std::span<const std::uint8_t, kSize> bytes() const { return m_bytes; }
    /// 64 lower-case hex digits. The result is secret: do not log it.
    [[nodiscard]] std::string hex() const;
    friend bool operator==(const Psk& a, const Psk& b);
    friend std::ostream& operator<<(std::ostream& os, const Psk&) { return os << "***"; }

private:
    std::array<std::uint8_t, kSize> m_bytes{};
};

/// Parses exactly 64 hex digits (either case) of a PSK that is not all zero. Errors:
/// invalidArgument "<what>: expected 64 hex digits, got N", "<what>: 'x' at position P is not a
/// hex digit", "<what>: all zero".
Result<Psk> parsePsk(std::string_view hex, std::string_view what = "psk");

/// A Dev URN, RFC 9039 `urn:dev:ops:<PEN>-<product>-<serial>` (§1). `text` is canonical
/// (serial in lower case).
struct DevUrn {
    std::uint32_t pen = 0;
    std::string product;
    std::uint64_t serial = 0;
    std::string text;
    /// The low 32 bits of the serial.
    [[nodiscard]] DevId devId() const { return DevId{static_cast<std::uint32_t>(serial)}; }
    friend bool operator==(const DevUrn&, const DevUrn&) = default;
};

/// Parses a Dev URN. Serial of 8-16 hex digits in either case. Errors (invalidArgument), each
/// starting "Dev URN: ": "longer than 127 bytes", "expected prefix urn:dev:ops:",
/// "PEN must be decimal without a leading zero", "PEN exceeds 32 bits", "product must be 1-32 of
/// [A-Za-z0-9._]", "missing '-' after the product", "serial must be 8-16 hex digits".
Result<DevUrn> parseDevUrn(std::string_view text);

/// Builds the one URN form every program writes (docs/PROTOCOL.md §1):
/// `urn:dev:ops:<pen>-<product>-<Dev ID as 8 lower-case hex digits>`, the serial being the Dev
/// ID itself. parseDevUrn() still reads serials of 9-16 digits (whose low 32 bits are the Dev
/// ID). Errors: invalidArgument "Dev URN: PEN 0 is not assigned" or the product rule of
/// parseDevUrn().
Result<DevUrn> makeDevUrn(std::uint32_t pen, std::string_view product, DevId devId);

/// `text` quoted for an error message: at most 64 bytes, other than printable ASCII as \xNN.
std::string quoteForError(std::string_view text);

}  // namespace tte::protocol
