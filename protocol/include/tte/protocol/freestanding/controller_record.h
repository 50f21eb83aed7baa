// The controller record log in flash sector 3 (docs/PROTOCOL.md §9): 128-byte records that
// the device appends after it learned its Controller (draft message 10). The newest valid
// record wins, so a torn write leaves the previous Controller in force. Freestanding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tte::protocol {

inline constexpr std::size_t kControllerRecordSize = 128;
inline constexpr std::size_t kMaxControllerRecords = 128;  ///< kNvmSize / kControllerRecordSize

inline constexpr std::uint16_t kControllerFlagPsk = 0x0001;  ///< `psk` holds the device–Controller PSK (§11)

/// Where the device finds its Controller. `address` is an IP literal or DNS name,
/// NUL-terminated and NUL-padded. With kControllerFlagPsk (a DTLS-PSK device, §11) `psk` is
/// the device–Controller PSK the introducer chose (secret: wipe it when done).
struct ControllerRecord {
    std::uint32_t sequence = 0;
    std::uint16_t port = 0;
    std::uint16_t flags = 0;
    char address[48] = {};
    std::uint8_t fingerprint[32] = {};
    std::uint8_t psk[32] = {};
};

enum class RecordError {
    ok,
    erased,  ///< all 0xFF: a free slot
    magic,   ///< not "TTEC"
    crc,     ///< the CRC-32 of bytes 0..123 differs (e.g. a torn write)
    field,   ///< a field breaks its rule; the field name says which
    size,    ///< the input is not exactly 128 bytes
};

/// "ok", "erased", "magic", "crc", "field" or "size".
const char* recordErrorName(RecordError error);

/// Checks the fields: port non-zero, only known flags, address 1-47 printable characters then
/// NULs, fingerprint not all zero, PSK not all zero with kControllerFlagPsk and all zero
/// without. Returns the bad field's name (port, flags, address, fingerprint, psk) or nullptr.
const char* checkControllerRecordFields(const ControllerRecord& record);

/// Writes the 128-byte record. Errors: field (`field` names it); `out` is written only on ok.
RecordError encodeControllerRecord(const ControllerRecord& record, std::span<std::uint8_t, kControllerRecordSize> out,
                                   const char*& field);

/// Parses one 128-byte slot. Errors in order: size, erased, magic, crc, field (`field` names
/// it: port, flags, address, fingerprint, psk, reserved).
RecordError decodeControllerRecord(std::span<const std::uint8_t> slot, ControllerRecord& out, const char*& field);

/// Scans a sector of 128-byte slots and returns true with the valid record of the highest
/// sequence (the later slot on a tie) in `out`. `nextFreeOffset` is the offset of the slot
/// after the last non-erased one (a torn slot is never reused, flash cannot be rewritten
/// without an erase); it equals sector.size() when the log is full. Only whole slots count.
bool findNewestControllerRecord(std::span<const std::uint8_t> sector, ControllerRecord& out,
                                std::size_t& nextFreeOffset);

}  // namespace tte::protocol
