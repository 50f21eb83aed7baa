// Failure accounting with lockout: after `maxFailures` failed OTP attempts within `window`
// for one key (a Dev ID or a client address), the key is locked for `lockout`.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "tte/base/clock.h"

namespace tte::mothership {

struct LimiterOptions {
    int maxFailuresPerDevice = 5;
    int maxFailuresPerClient = 20;
    std::chrono::seconds window{900};
    std::chrono::seconds lockout{900};
};

class FailureLimiter {
public:
    FailureLimiter(Clock& clock, LimiterOptions options) : m_clock(clock), m_options(options) {}

    /// Seconds until the key may try again, or nothing when it is not locked.
    std::optional<std::chrono::seconds> lockedFor(const std::string& key);
    /// Counts a failure; `device` selects the per-device limit, else the per-client one.
    void recordFailure(const std::string& key, bool device);

private:
    struct Entry {
        int failures = 0;
        Clock::TimePoint windowStart{};
        Clock::TimePoint lockedUntil{};
    };
    void prune(Clock::TimePoint now);

    Clock& m_clock;
    LimiterOptions m_options;
    std::mutex m_mutex;
    std::unordered_map<std::string, Entry> m_entries;
};

}  // namespace tte::mothership
