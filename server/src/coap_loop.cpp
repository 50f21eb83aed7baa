// CoapLoop (coap_loop.h).
#include "coap_loop.h"

#include <sys/epoll.h>

#include <algorithm>
#include <array>

namespace tte::server {
namespace {
constexpr coap_tick_t kWalkEvery = COAP_TICKS_PER_SECOND / 200;  // 5 ms
constexpr unsigned kWalkEveryMs = 5;
}  // namespace

CoapLoop::CoapLoop(coap_context_t* ctx) : m_ctx(ctx), m_fd(coap_context_get_coap_fd(ctx)) {}

void CoapLoop::runOnce(unsigned maxWaitMs) {
    if (m_fd < 0) {
        coap_io_process(m_ctx, maxWaitMs);
        return;
    }
    coap_tick_t now = 0;
    coap_ticks(&now);
    if (now >= m_nextWalk) {
        m_nextTimerMs = coap_io_prepare_epoll(m_ctx, now);  // ms to the next timer, 0: none
        m_nextWalk = now + kWalkEvery;
        m_handledSinceWalk = false;
    }
    // A timer due sooner than the next walk waits for that walk; what was handled since the
    // last walk may have set a timer the walk has not seen yet.
    unsigned waitMs = maxWaitMs;
    if (m_nextTimerMs != 0) waitMs = std::min(waitMs, std::max(m_nextTimerMs, kWalkEveryMs));
    if (m_handledSinceWalk) waitMs = std::min(waitMs, kWalkEveryMs);
    std::array<epoll_event, 64> events{};
    const int n = epoll_wait(m_fd, events.data(), static_cast<int>(events.size()), static_cast<int>(waitMs));
    if (n > 0) {
        coap_io_do_epoll(m_ctx, events.data(), static_cast<std::size_t>(n));
        m_handledSinceWalk = true;
    }
}

}  // namespace tte::server
