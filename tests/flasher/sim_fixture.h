// Shared helpers for the flasher tests: a simulated STM32F405 on a manual clock and images.
#pragma once

#include <cstdint>
#include <vector>

#include "tte/base/clock.h"
#include "tte/flasher/flasher.h"
#include "tte/flasher/stm32_sim.h"

namespace tte::flasher::testing {

inline UsbIdentity simIdentity(std::string port = "1-1.1", std::string serial = "3276384C3034") {
    return UsbIdentity{kStVendorId, kStDfuProductId, 0x2200, std::move(port), std::move(serial),
                       "STM32  BOOTLOADER"};
}

/// Deterministic pseudo-random bytes (a different stream per seed).
inline std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::uint8_t> out(n);
    std::uint32_t x = seed * 2654435761U + 1;
    for (auto& b : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<std::uint8_t>(x);
    }
    return out;
}

/// Firmware (3000 bytes at 0x08000000) plus a 2048-byte provisioning block at 0x08008000.
inline std::vector<Segment> smallImage(std::uint32_t seed = 1) {
    return {Segment{0x08000000, pattern(3000, seed)}, Segment{0x08008000, pattern(2048, seed + 100)}};
}


inline WriteOptions opts(bool verify, bool leave = false) {
    WriteOptions o;
    o.verify = verify;
    o.leave = leave;
    return o;
}

inline SimFaults unplugAt(std::size_t i) { SimFaults f; f.unplugAt = i; return f; }
inline SimFaults stallAt(std::size_t i) { SimFaults f; f.stallAt = i; return f; }
inline SimFaults timeoutAt(std::size_t i) { SimFaults f; f.timeoutAt = i; return f; }
inline SimFaults corruptUploadAt(std::size_t i) { SimFaults f; f.corruptUploadAt = i; return f; }
inline SimBehaviour behaviour(FlashTiming timing, bool wpError = false) {
    SimBehaviour b;
    b.timing = timing;
    b.writeProtectReportsError = wpError;
    return b;
}

}  // namespace tte::flasher::testing
