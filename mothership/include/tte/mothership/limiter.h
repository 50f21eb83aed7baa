// Failure accounting with lockout: after `maxFailures` failed OTP attempts within `window`
// for one Dev ID or one client address, that Dev ID or client is locked for `lockout`.
// The counts live in the registry (Registry::countFailure), so a restart forgets nothing and
// every MotherShip on the same database shares them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tte/base/clock.h"
#include "tte/base/error.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {

struct LimiterOptions {
    int maxFailuresPerDevice = 5;
    int maxFailuresPerClient = 20;
    std::chrono::seconds window{900};
    std::chrono::seconds lockout{900};
};

class FailureLimiter {
public:
    /// `registry` and `clock` must outlive the limiter; times are the clock's wall time.
    FailureLimiter(Registry& registry, Clock& clock, LimiterOptions options)
        : m_registry(registry), m_clock(clock), m_options(options) {}

    /// Seconds until the Dev ID or the client may try again (the later of the two lockouts),
    /// or nothing when neither is locked. One registry read. Errors: those of the registry.
    Result<std::optional<std::chrono::seconds>> lockedFor(std::uint32_t devId, const std::string& client);

    /// Counts a failed attempt against the Dev ID and the client and audits it (`event`,
    /// `detail`) in one registry transaction. Every 4096th call also forgets idle counts.
    /// Errors: those of the registry.
    Status recordFailure(std::uint32_t devId, const std::string& client, std::string_view event,
                         std::string_view detail);

private:
    [[nodiscard]] std::int64_t nowMs() const;
    [[nodiscard]] FailurePolicy policy() const;

    Registry& m_registry;
    Clock& m_clock;
    LimiterOptions m_options;
    std::atomic<std::uint64_t> m_counted{0};
};

}  // namespace tte::mothership
