// Time as an injected dependency: every component that waits, retries, expires or
// simulates timing takes a Clock, so tests run on a ManualClock, fast and exact.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace tte {

class Clock {
public:
    using Duration = std::chrono::nanoseconds;
    using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

    virtual ~Clock() = default;
    /// Monotonic time.
    [[nodiscard]] virtual TimePoint now() const = 0;
    /// Wall-clock time (for records, journals and certificates).
    [[nodiscard]] virtual std::chrono::system_clock::time_point wallNow() const = 0;
    /// Waits for `d` of this clock's time.
    virtual void sleepFor(Duration d) = 0;
};

/// The real clocks of the machine.
class SystemClock final : public Clock {
public:
    [[nodiscard]] TimePoint now() const override;
    [[nodiscard]] std::chrono::system_clock::time_point wallNow() const override;
    void sleepFor(Duration d) override;
};

/// Virtual time for tests and simulations. now() moves only by advance() or sleepFor();
/// sleepFor(d) advances the clock by d at once (a simulated wait costs no real time).
/// Thread-safe.
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::chrono::system_clock::time_point wallStart = std::chrono::system_clock::time_point{}
                                                                           + std::chrono::hours(24 * 365 * 56));
    [[nodiscard]] TimePoint now() const override;
    [[nodiscard]] std::chrono::system_clock::time_point wallNow() const override;
    void sleepFor(Duration d) override;
    void advance(Duration d);

private:
    mutable std::mutex m_mutex;
    Duration m_elapsed{0};
    std::chrono::system_clock::time_point m_wallStart;
};

/// `t` as RFC 3339 in UTC to the second, e.g. "2026-11-23T14:05:09Z" (journals, records).
std::string rfc3339(std::chrono::system_clock::time_point t);

}  // namespace tte
