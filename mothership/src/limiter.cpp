// Failure counting and lockout for OTP attempts (limiter.h).
#include "tte/mothership/limiter.h"

namespace tte::mothership {

namespace {
constexpr std::size_t kPruneAbove = 100000;  // bounded memory under a flood of addresses
}

std::optional<std::chrono::seconds> FailureLimiter::lockedFor(const std::string& key) {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(key);
    if (it == m_entries.end()) return std::nullopt;
    const auto now = m_clock.now();
    if (it->second.lockedUntil <= now) return std::nullopt;
    auto left = std::chrono::ceil<std::chrono::seconds>(it->second.lockedUntil - now);
    return std::max(left, std::chrono::seconds(1));
}

void FailureLimiter::recordFailure(const std::string& key, bool device) {
    std::lock_guard lock(m_mutex);
    const auto now = m_clock.now();
    if (m_entries.size() > kPruneAbove) prune(now);
    Entry& e = m_entries[key];
    if (e.failures == 0 || now - e.windowStart > m_options.window) {
        e.failures = 0;
        e.windowStart = now;
    }
    ++e.failures;
    const int limit = device ? m_options.maxFailuresPerDevice : m_options.maxFailuresPerClient;
    if (e.failures >= limit) {
        e.lockedUntil = now + m_options.lockout;
        e.failures = 0;  // a new window starts after the lockout
    }
}

void FailureLimiter::prune(Clock::TimePoint now) {
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        const bool idle = it->second.lockedUntil <= now && now - it->second.windowStart > m_options.window;
        it = idle ? m_entries.erase(it) : std::next(it);
    }
}

}  // namespace tte::mothership
