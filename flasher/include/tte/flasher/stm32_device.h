// What an STM32F405 tells about itself and how it is protected, as plain data: the 96-bit
// unique device ID (RM0090 §39.1, at 0x1FFF7A10), the USB serial number its ROM DfuSe
// bootloader derives from that ID, the option bytes at 0x1FFFC000 (RM0090 §3.7) and the
// read-out protection levels they encode. Shared by the host side (board_control.h) and the
// simulated bootloader (stm32_sim.h). docs/FLASHER.md explains each choice.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tte/base/error.h"

namespace tte::flasher {

/// RM0090 §39.1: three 32-bit words, factory-programmed.
inline constexpr std::uint32_t kUidAddress = 0x1FFF7A10;
/// RM0090 §39.2: flash size in KiB, 16 bits.
inline constexpr std::uint32_t kFlashSizeAddress = 0x1FFF7A22;
/// RM0090 §3.8: 16 OTP blocks of 32 bytes, then 16 lock bytes at 0x1FFF7A00.
inline constexpr std::uint32_t kOtpAddress = 0x1FFF7800;
inline constexpr std::uint32_t kOtpLockAddress = 0x1FFF7A00;
/// RM0090 §3.7.1 table 15; the ROM bootloader's "Option Bytes" memory is these 16 bytes.
inline constexpr std::uint32_t kOptionBytesAddress = 0x1FFFC000;
inline constexpr std::size_t kOptionBytesSize = 16;

/// The factory-programmed 96-bit unique device ID: the words at 0x1FFF7A10, 0x1FFF7A14 and
/// 0x1FFF7A18 (word 0: wafer X/Y coordinates, word 1: wafer number and lot, word 2: lot).
struct McuUid {
    std::array<std::uint32_t, 3> words{};

    /// 24 lower-case hex digits: word 0, 1, 2, each most significant digit first, as a
    /// debugger shows the three words ("002d00303334510b32313533"). This is `mcu_uid`.
    [[nodiscard]] std::string hex() const;
    /// The 12 bytes as they lie in memory from 0x1FFF7A10 (little-endian words).
    [[nodiscard]] std::array<std::uint8_t, 12> bytes() const;
    [[nodiscard]] static McuUid fromBytes(std::span<const std::uint8_t, 12> bytes);
    /// Parses hex() (either case). Errors: invalidArgument naming what is wrong.
    [[nodiscard]] static Result<McuUid> parse(std::string_view hex);

    friend bool operator==(const McuUid&, const McuUid&) = default;
};

/// The iSerialNumber string of the STM32F2/F4 ROM DfuSe bootloader: 8 upper-case hex digits
/// of (word 0 + word 2) mod 2^32, then the upper 16 bits of word 1 as 4 hex digits.
/// UID 002d0030 3334510b 32313533 gives "325E35633334".
[[nodiscard]] std::string dfuSerialOf(const McuUid& uid);

/// The serial some STM32F4 ROM bootloaders report whatever the part: the derivation applied
/// to an all-ones UID. It says nothing about the chip, so it is never checked against one.
inline constexpr std::string_view kAllOnesUidSerial = "FFFFFFFEFFFF";

/// Read-out protection level, RM0090 §3.7.3.
enum class RdpLevel { level0, level1, level2 };

/// "level 0", "level 1", "level 2".
[[nodiscard]] std::string_view rdpLevelName(RdpLevel level);
/// RM0090 table 16: 0xAA is level 0, 0xCC level 2, every other value level 1.
[[nodiscard]] RdpLevel rdpLevelOf(std::uint8_t rdpByte);
/// The RDP byte written for a level: 0xAA, 0x55 (what ST's HAL writes for level 1), 0xCC.
[[nodiscard]] std::uint8_t rdpByteFor(RdpLevel level);

/// The 16 bytes of the STM32F405's "Option Bytes" memory from 0x1FFFC000 (RM0090 table 15):
/// byte 0 USER (nRST_STDBY, nRST_STOP, WDG_SW, BOR_LEV), byte 1 RDP, bytes 8-9 nWRP (bit i
/// = 0: sector i write-protected; bits 15:12 unused). The other bytes are reserved and kept
/// as read.
struct OptionBytes {
    std::array<std::uint8_t, kOptionBytesSize> raw{};

    /// A part as it leaves the factory: RDP 0xAA, USER 0xFF (software watchdog, no reset on
    /// stop/standby, BOR off), no sector write-protected; reserved bytes 0xFF.
    [[nodiscard]] static OptionBytes factoryDefault();

    [[nodiscard]] std::uint8_t user() const { return raw[0]; }
    [[nodiscard]] std::uint8_t rdpByte() const { return raw[1]; }
    [[nodiscard]] RdpLevel rdp() const { return rdpLevelOf(raw[1]); }
    void setRdp(RdpLevel level) { raw[1] = rdpByteFor(level); }
    void setRdpByte(std::uint8_t value) { raw[1] = value; }
    /// Bit i set: sector i (0-11) is write-protected (the inverse of nWRP).
    [[nodiscard]] std::uint16_t writeProtectMask() const;
    void setWriteProtectMask(std::uint16_t mask);
    /// "RDP 0xaa (level 0), USER 0xff (WDG_SW=1 nRST_STOP=1 nRST_STDBY=1 BOR off), no sector write-protected".
    [[nodiscard]] std::string describe() const;

    friend bool operator==(const OptionBytes&, const OptionBytes&) = default;
};

}  // namespace tte::flasher
