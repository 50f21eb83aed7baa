// The LED enrollment frame of draft 5.1 and its NRZI line code (docs/PROTOCOL.md §5).
// Freestanding: the firmware blinks ledLineLevels(); the introducer decodes (tte/protocol/led.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tte::protocol {

inline constexpr std::size_t kLedFrameSize = 19;        ///< 00 01 ‖ MS ID ‖ Dev ID ‖ OTP ‖ checksum
inline constexpr std::uint16_t kLedFrameStart = 0x0001;  ///< draft 5.1 start-of-message constant
inline constexpr unsigned kLedBitRate = 15;             ///< bit/s (draft 5.1)
inline constexpr std::size_t kLedGapBits = 16;          ///< LED off before each frame
inline constexpr std::size_t kLedFrameBits = kLedFrameSize * 8;
/// Gap + data bits + the most stuffed bits (one after each six 1s, never after the last bit).
inline constexpr std::size_t kLedMaxLineBits = kLedGapBits + kLedFrameBits + (kLedFrameBits - 1) / 6;
inline constexpr std::size_t kLedStuffAfterOnes = 6;

/// The content of an LED frame.
struct LedFrameData {
    std::uint32_t msId = 0;
    std::uint32_t devId = 0;
    std::uint64_t otp = 0;
};

enum class LedFrameError {
    ok,
    length,    ///< not exactly 19 bytes
    start,     ///< the first two bytes are not 00 01
    checksum,  ///< the 19 bytes do not sum to 0 mod 256
    stuffing,  ///< a bit after six 1s is not the stuffed 0 (line code, §5)
};

/// "ok", "length", "start", "checksum" or "stuffing".
const char* ledFrameErrorName(LedFrameError error);

/// The checksum byte: two's complement of the 8-bit sum of `bytes` (draft 5.1).
std::uint8_t ledFrameChecksum(std::span<const std::uint8_t> bytes);

/// Builds the 19-byte frame, big-endian (draft 5.1). Never fails.
std::array<std::uint8_t, kLedFrameSize> encodeLedFrame(std::uint32_t msId, std::uint32_t devId, std::uint64_t otp);

/// Parses a frame. Errors, checked in this order: length, start, checksum. `out` is written
/// only on ok.
LedFrameError decodeLedFrame(std::span<const std::uint8_t> bytes, LedFrameData& out);

/// The LED level (0 off, 1 on) for each bit time of one transmission: kLedGapBits of off,
/// then the frame, MSB first, NRZI (a 0 toggles, a 1 holds; the level before the first bit is
/// off), with a 0 stuffed after six consecutive 1s unless the frame ends there. Repeat the
/// returned levels to repeat the frame. Returns the number of levels written, or 0 when `out`
/// holds fewer than needed (kLedMaxLineBits always suffices).
std::size_t ledLineLevels(std::span<const std::uint8_t, kLedFrameSize> frame, std::span<std::uint8_t> out);

/// Turns the data bits of a frame back into bytes, the receiver's half of ledLineLevels():
/// `lineBits` are NRZI-decoded bits (1 = no edge) starting at the frame's first bit. Removes
/// stuffed bits; `consumed` is the number of line bits used. Errors: stuffing (a stuffed bit is
/// not 0), length (too few bits).
LedFrameError unstuffLedBits(std::span<const std::uint8_t> lineBits, std::array<std::uint8_t, kLedFrameSize>& frame,
                             std::size_t& consumed);

}  // namespace tte::protocol
