// Capped exponential backoff with full jitter (docs/PROTOCOL.md §7, draft 2 TODO decided):
// before retry n wait a uniform delay in [0, min(cap, base·2^n)].
#pragma once

#include <cstdint>

#include "tte/device/enrollment.h"

namespace tte::device {

/// min(cap, base·2^n), without overflow for any n.
std::uint64_t backoffBoundMs(const RetryPolicy& policy, std::uint32_t n);

/// A delay uniform in [0, backoffBoundMs(policy, n)] drawn from the 32-bit `random`.
std::uint64_t backoffDelayMs(const RetryPolicy& policy, std::uint32_t n, std::uint32_t random);

}  // namespace tte::device
