// LED frame (draft 5.1) and its NRZI line code with bit stuffing (docs/PROTOCOL.md §5).
#include "tte/protocol/freestanding/led_frame.h"

#include "bytes.h"

namespace tte::protocol {

const char* ledFrameErrorName(LedFrameError error) {
    switch (error) {
    case LedFrameError::ok: return "ok";
    case LedFrameError::length: return "length";
    case LedFrameError::start: return "start";
    case LedFrameError::checksum: return "checksum";
    case LedFrameError::stuffing: return "stuffing";
    }
    return "unknown";
}

std::uint8_t ledFrameChecksum(std::span<const std::uint8_t> bytes) {
    std::uint8_t sum = 0;
    for (std::uint8_t b : bytes) sum = static_cast<std::uint8_t>(sum + b);
    return static_cast<std::uint8_t>(0x100U - sum);
}

std::array<std::uint8_t, kLedFrameSize> encodeLedFrame(std::uint32_t msId, std::uint32_t devId, std::uint64_t otp) {
    std::array<std::uint8_t, kLedFrameSize> f{};
    std::span<std::uint8_t> s(f);
    detail::storeBe(s.subspan(0, 2), 2, kLedFrameStart);
    detail::storeBe(s.subspan(2, 4), 4, msId);
    detail::storeBe(s.subspan(6, 4), 4, devId);
    detail::storeBe(s.subspan(10, 8), 8, otp);
    f[18] = ledFrameChecksum(s.first(18));
    return f;
}

LedFrameError decodeLedFrame(std::span<const std::uint8_t> bytes, LedFrameData& out) {
    if (bytes.size() != kLedFrameSize) return LedFrameError::length;
    if (detail::loadBe(bytes, 2) != kLedFrameStart) return LedFrameError::start;
    std::uint8_t sum = 0;
    for (std::uint8_t b : bytes) sum = static_cast<std::uint8_t>(sum + b);
    if (sum != 0) return LedFrameError::checksum;
    out.msId = static_cast<std::uint32_t>(detail::loadBe(bytes.subspan(2), 4));
    out.devId = static_cast<std::uint32_t>(detail::loadBe(bytes.subspan(6), 4));
    out.otp = detail::loadBe(bytes.subspan(10), 8);
    return LedFrameError::ok;
}

std::size_t ledLineLevels(std::span<const std::uint8_t, kLedFrameSize> frame, std::span<std::uint8_t> out) {
    std::size_t n = 0;
    auto put = [&](std::uint8_t level) {
        if (n < out.size()) out[n] = level;
        ++n;
    };
    for (std::size_t i = 0; i < kLedGapBits; ++i) put(0);
    std::uint8_t level = 0;
    std::size_t ones = 0;
    for (std::size_t i = 0; i < kLedFrameBits; ++i) {
        const bool bit = ((frame[i / 8] >> (7 - i % 8)) & 1U) != 0;
        if (bit) {
            put(level);  // a 1 holds the level
            ++ones;
        } else {
            level ^= 1U;  // a 0 toggles
            put(level);
            ones = 0;
        }
        if (ones == kLedStuffAfterOnes && i + 1 < kLedFrameBits) {
            level ^= 1U;  // stuffed 0: an edge at least every 7 bit times
            put(level);
            ones = 0;
        }
    }
    return n <= out.size() ? n : 0;
}

LedFrameError unstuffLedBits(std::span<const std::uint8_t> lineBits, std::array<std::uint8_t, kLedFrameSize>& frame,
                             std::size_t& consumed) {
    frame.fill(0);
    std::size_t data = 0;
    std::size_t ones = 0;
    std::size_t i = 0;
    while (data < kLedFrameBits) {
        if (i >= lineBits.size()) return LedFrameError::length;
        const std::uint8_t bit = lineBits[i++] != 0 ? 1 : 0;
        frame[data / 8] = static_cast<std::uint8_t>(frame[data / 8] | (bit << (7 - data % 8)));
        ++data;
        ones = bit != 0 ? ones + 1 : 0;
        if (ones == kLedStuffAfterOnes && data < kLedFrameBits) {
            if (i >= lineBits.size()) return LedFrameError::length;
            if (lineBits[i++] != 0) return LedFrameError::stuffing;
            ones = 0;
        }
    }
    consumed = i;
    return LedFrameError::ok;
}

}  // namespace tte::protocol
