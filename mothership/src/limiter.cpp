// Failure counting and lockout for OTP attempts, kept in the registry (limiter.h).
#include "tte/mothership/limiter.h"

#include "tte/base/hex.h"

namespace tte::mothership {

namespace {
constexpr std::uint64_t kPruneEvery = 4096;  // bounded table under a flood of addresses and IDs

std::string deviceKey(std::uint32_t devId) { return "dev:" + toHex(devId, 8); }
std::string clientKey(const std::string& client) { return "ip:" + client; }
}  // namespace

std::int64_t FailureLimiter::nowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(m_clock.wallNow().time_since_epoch()).count();
}

FailurePolicy FailureLimiter::policy() const {
    return FailurePolicy{std::chrono::duration_cast<std::chrono::milliseconds>(m_options.window).count(),
                         std::chrono::duration_cast<std::chrono::milliseconds>(m_options.lockout).count()};
}

Result<std::optional<std::chrono::seconds>> FailureLimiter::lockedFor(std::uint32_t devId, const std::string& client) {
    const std::int64_t now = nowMs();
    auto until = m_registry.lockedUntil({deviceKey(devId), clientKey(client)}, now);
    if (!until) return std::unexpected(until.error());
    if (*until <= now) return std::optional<std::chrono::seconds>{};
    const std::int64_t seconds = (*until - now + 999) / 1000;
    return std::optional{std::chrono::seconds(std::max<std::int64_t>(seconds, 1))};
}

Status FailureLimiter::recordFailure(std::uint32_t devId, const std::string& client, std::string_view event,
                                     std::string_view detail) {
    const std::int64_t now = nowMs();
    const auto p = policy();
    auto counted = m_registry.countFailure({FailureSubject{deviceKey(devId), m_options.maxFailuresPerDevice},
                                            FailureSubject{clientKey(client), m_options.maxFailuresPerClient}},
                                           p, devId, event, client, detail, now);
    if (!counted) return counted;
    if (++m_counted % kPruneEvery == 0) return m_registry.pruneFailures(p, now);
    return {};
}

}  // namespace tte::mothership
