// CoapLoop (coap_loop.h).
#include "coap_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace tte::server {
namespace {
constexpr coap_tick_t kWalkEvery = COAP_TICKS_PER_SECOND / 200;  // 5 ms
constexpr unsigned kWalkEveryMs = 5;
}  // namespace

CoapLoop::CoapLoop(coap_context_t* ctx, int wakeFd, std::function<bool()> onWake)
    : m_ctx(ctx), m_fd(coap_context_get_coap_fd(ctx)), m_wakeFd(wakeFd), m_onWake(std::move(onWake)) {
    if (m_fd >= 0 && m_wakeFd >= 0) {
        // libcoap takes each event's data.ptr for one of its sockets (NULL: its timer); this
        // one is told apart by its address and never handed to libcoap.
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = this;
        if (epoll_ctl(m_fd, EPOLL_CTL_ADD, m_wakeFd, &ev) != 0) m_wakeFd = -1;  // then looked at after each wait
    }
}

CoapLoop::~CoapLoop() {
    if (m_fd >= 0 && m_wakeFd >= 0) epoll_ctl(m_fd, EPOLL_CTL_DEL, m_wakeFd, nullptr);
}

void CoapLoop::walk(coap_tick_t now) {
    m_nextTimerMs = coap_io_prepare_epoll(m_ctx, now);  // ms to the next timer, 0: none
    m_nextWalk = now + kWalkEvery;
    m_handledSinceWalk = false;
}

bool CoapLoop::woken() {
    if (m_wakeFd >= 0) {
        std::uint64_t count = 0;
        (void)!read(m_wakeFd, &count, sizeof count);  // non-blocking; resets the counter
    }
    return m_onWake && m_onWake();
}

void CoapLoop::runOnce(unsigned maxWaitMs) {
    if (m_fd < 0) {
        coap_io_process(m_ctx, maxWaitMs);
        if (m_onWake && m_onWake()) coap_io_process(m_ctx, COAP_IO_NO_WAIT);  // fires the triggered asyncs
        return;
    }
    coap_tick_t now = 0;
    coap_ticks(&now);
    if (now >= m_nextWalk) walk(now);
    // A timer due sooner than the next walk waits for that walk; what was handled since the
    // last walk may have set a timer the walk has not seen yet.
    unsigned waitMs = maxWaitMs;
    if (m_nextTimerMs != 0) waitMs = std::min(waitMs, std::max(m_nextTimerMs, kWalkEveryMs));
    if (m_handledSinceWalk) waitMs = std::min(waitMs, kWalkEveryMs);
    std::array<epoll_event, 64> events{};
    const int n = epoll_wait(m_fd, events.data(), static_cast<int>(events.size()), static_cast<int>(waitMs));
    bool wake = m_wakeFd < 0 && m_onWake;  // no eventfd in the set: look after every wait
    std::size_t forLibcoap = 0;
    for (int i = 0; i < n; ++i) {
        const epoll_event& e = events[static_cast<std::size_t>(i)];
        if (e.data.ptr == this) wake = true;
        else events[forLibcoap++] = e;
    }
    if (forLibcoap > 0) {
        coap_io_do_epoll(m_ctx, events.data(), forLibcoap);
        m_handledSinceWalk = true;
    }
    if (wake && woken()) {
        coap_ticks(&now);
        walk(now);  // fires what onWake triggered before any other datagram is read
    }
}

}  // namespace tte::server
