// CoapLoop (coap_loop.h).
#include "coap_loop.h"

#include <linux/sock_diag.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace tte::server {
namespace {
constexpr coap_tick_t kWalkEvery = COAP_TICKS_PER_SECOND / 200;  // 5 ms
constexpr unsigned kWalkEveryMs = 5;
/// The most receive memory one queued datagram takes (skb truesize, measured for UDP over
/// loopback on Debian 12's kernel: 832 bytes for 60 bytes of payload, 2304 for 700–1400). A
/// CoAP/DTLS datagram is at most about 1.3 KiB (libcoap's default path MTU), so queued memory
/// / 2304 does not count more datagrams than are queued there. A network driver may give a
/// datagram more memory (then fewer are counted: harmless) or, with larger datagrams, count
/// more than are queued: libcoap's read of an empty socket then fails with EAGAIN and
/// changes nothing (its two warnings are dropped, coap_server.cpp).
constexpr std::uint32_t kMaxDatagramTruesize = 2304;
/// At most this many datagrams read between two of libcoap's walks.
constexpr std::size_t kMaxBatch = 64;

/// Datagrams certainly queued on `fd` (at least 1: it was reported readable).
std::size_t queuedDatagrams(int fd) {
    std::uint32_t meminfo[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof meminfo;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len) != 0 || len < sizeof(std::uint32_t) * (SK_MEMINFO_RMEM_ALLOC + 1))
        return 1;
    return std::clamp<std::size_t>(meminfo[SK_MEMINFO_RMEM_ALLOC] / kMaxDatagramTruesize, 1, kMaxBatch);
}
}  // namespace

CoapLoop::CoapLoop(coap_context_t* ctx, int wakeFd, std::function<void()> onWake, int endpointFd)
    : m_ctx(ctx), m_fd(coap_context_get_coap_fd(ctx)), m_wakeFd(wakeFd), m_endpointFd(endpointFd), m_onWake(std::move(onWake)) {
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

void CoapLoop::woken() {
    if (m_wakeFd >= 0) {
        std::uint64_t count = 0;
        (void)!read(m_wakeFd, &count, sizeof count);  // non-blocking; resets the counter
    }
    if (m_onWake) m_onWake();
}

void CoapLoop::runOnce(unsigned maxWaitMs) {
    if (m_fd < 0) {
        coap_io_process(m_ctx, maxWaitMs);
        if (m_onWake) m_onWake();
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
    std::array<epoll_event, 16> events{};
    const int n = epoll_wait(m_fd, events.data(), static_cast<int>(events.size()), static_cast<int>(waitMs));
    bool wake = m_wakeFd < 0 && m_onWake;  // no eventfd in the set: look after every wait
    // libcoap reads one datagram per event of its endpoint socket and walks every session at
    // the end of each coap_io_do_epoll() call: the endpoint's event goes in once for every
    // datagram certainly queued, so that one walk serves them all.
    m_forLibcoap.clear();
    for (int i = 0; i < n; ++i) {
        const epoll_event& e = events[static_cast<std::size_t>(i)];
        if (e.data.ptr == this) {
            wake = true;
        } else if (e.data.ptr != nullptr && m_endpointFd >= 0 && (e.events & EPOLLIN) != 0) {
            m_forLibcoap.insert(m_forLibcoap.end(), queuedDatagrams(m_endpointFd), e);
        } else {
            m_forLibcoap.push_back(e);
        }
    }
    if (!m_forLibcoap.empty()) {
        coap_io_do_epoll(m_ctx, m_forLibcoap.data(), m_forLibcoap.size());
        m_handledSinceWalk = true;
    }
    if (wake) woken();
}

}  // namespace tte::server
