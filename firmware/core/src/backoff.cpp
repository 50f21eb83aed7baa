// Capped exponential backoff with full jitter (docs/PROTOCOL.md §7).
#include "tte/device/backoff.h"

namespace tte::device {

std::uint64_t backoffBoundMs(const RetryPolicy& policy, std::uint32_t n) {
    const std::uint64_t cap = policy.capMs;
    std::uint64_t bound = policy.baseMs;
    for (std::uint32_t i = 0; i < n && bound < cap; ++i) {
        bound *= 2;  // stops at the cap, so it never overflows
    }
    return bound < cap ? bound : cap;
}

std::uint64_t backoffDelayMs(const RetryPolicy& policy, std::uint32_t n, std::uint32_t random) {
    // Scale a 32-bit draw onto [0, bound] without the bias of a modulo.
    const std::uint64_t span = backoffBoundMs(policy, n) + 1;
    return (static_cast<std::uint64_t>(random) * span) >> 32;
}

}  // namespace tte::device
