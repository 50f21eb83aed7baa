// The system clock and the manual (virtual) clock.
#include "tte/base/clock.h"

#include <ctime>
#include <thread>

namespace tte {

Clock::TimePoint SystemClock::now() const {
    return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

std::chrono::system_clock::time_point SystemClock::wallNow() const { return std::chrono::system_clock::now(); }

void SystemClock::sleepFor(Duration d) { std::this_thread::sleep_for(d); }

ManualClock::ManualClock(std::chrono::system_clock::time_point wallStart) : m_wallStart(wallStart) {}

Clock::TimePoint ManualClock::now() const {
    std::lock_guard lock(m_mutex);
    return TimePoint(m_elapsed);
}

std::chrono::system_clock::time_point ManualClock::wallNow() const {
    std::lock_guard lock(m_mutex);
    return m_wallStart + std::chrono::duration_cast<std::chrono::system_clock::duration>(m_elapsed);
}

void ManualClock::sleepFor(Duration d) { advance(d); }

void ManualClock::advance(Duration d) {
    std::lock_guard lock(m_mutex);
    if (d > Duration::zero()) m_elapsed += d;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace tte
