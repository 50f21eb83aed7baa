// CoapLoop (coap_loop.h).
#include "coap_loop.h"

#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "dtls_gate.h"

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
/// At most this many datagrams looked at in one round of the gate (a flood it answers alone
/// must not keep the loop from its walks and its wake-ups).
constexpr std::size_t kMaxScreened = 256;
/// The largest UDP payload.
constexpr std::size_t kMaxDatagram = 65536;

/// Datagrams certainly queued on `fd` (at least 1: it was reported readable).
std::size_t queuedDatagrams(int fd) {
    std::uint32_t meminfo[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof meminfo;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len) != 0 || len < sizeof(std::uint32_t) * (SK_MEMINFO_RMEM_ALLOC + 1))
        return 1;
    return std::clamp<std::size_t>(meminfo[SK_MEMINFO_RMEM_ALLOC] / kMaxDatagramTruesize, 1, kMaxBatch);
}
}  // namespace

CoapLoop::CoapLoop(coap_context_t* ctx, int wakeFd, std::function<void()> onWake, int endpointFd, DtlsGate* gate)
    : m_ctx(ctx), m_fd(coap_context_get_coap_fd(ctx)), m_wakeFd(wakeFd), m_endpointFd(endpointFd), m_onWake(std::move(onWake)),
      m_gate(endpointFd >= 0 ? gate : nullptr) {
    if (m_gate != nullptr) m_datagram.resize(kMaxDatagram);
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

namespace {

/// Where a peeked datagram came from and the local address it was sent to (for the answer).
struct Peeked {
    DatagramSource source;
    bool v4 = false, v6 = false;
    in_pktinfo info4{};
    in6_pktinfo info6{};
};

/// The packet information libcoap reads too (coap_network_read): its session's ifindex is the
/// first one's, or the socket when there is none.
void readPacketInfo(int fd, msghdr& msg, Peeked& p) {
    p.source.ifindex = fd;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr && !p.v4 && !p.v6; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
            std::memcpy(&p.info4, CMSG_DATA(c), sizeof p.info4);
            p.v4 = true;
            p.source.ifindex = p.info4.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                   c->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
            std::memcpy(&p.info6, CMSG_DATA(c), sizeof p.info6);
            p.v6 = true;
            p.source.ifindex = static_cast<int>(p.info6.ipi6_ifindex);
        }
    }
}

/// Makes `info` the one packet-information message (`level`, `type`) of `msg`, kept in
/// `control` (at least CMSG_SPACE(sizeof info) bytes, aligned for cmsghdr).
template <class Info>
void attachPacketInfo(msghdr& msg, char* control, int level, int type, const Info& info) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof info);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
}

/// A pending error of the socket (sk_err: an ICMP error about an earlier datagram, such as
/// ECONNREFUSED for an answer to a client port that had closed) fails the first call on the
/// socket that finds it, which clears it and does nothing else: no datagram read, none sent.
/// Linux keeps such an error on an unconnected UDP socket only with IP_RECVERR, which libcoap
/// 4.3.1 does not set (docs/OPERATIONS.md, "Troubleshooting"), so these are guards: each call
/// the gate makes is made once more after an error other than EAGAIN, and an error that comes
/// back is the socket's own.
bool mayBePendingError(int e) { return e != EAGAIN && e != EWOULDBLOCK; }

/// Makes `call` (a send or read on the socket, < 0 on failure) once more when it failed with
/// what may have been a pending error (mayBePendingError).
template <class Call>
void onceMoreAfterPendingError(Call call) {
    if (call() < 0 && mayBePendingError(errno)) (void)call();
}

/// Sends `answer` to the datagram's source from the address it was sent to, as libcoap answers.
void sendAnswer(int fd, const Peeked& p, std::span<const std::uint8_t> answer) {
    iovec iov{const_cast<std::uint8_t*>(answer.data()), answer.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    msghdr msg{};
    msg.msg_name = const_cast<sockaddr_storage*>(&p.source.address);
    msg.msg_namelen = p.source.length;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (p.v6 && p.source.address.ss_family == AF_INET6) {
        attachPacketInfo(msg, control, IPPROTO_IPV6, IPV6_PKTINFO, p.info6);
    } else if (p.v4) {
        in_pktinfo info{};
        info.ipi_spec_dst = p.info4.ipi_addr;  // from the address the ClientHello was sent to
        attachPacketInfo(msg, control, IPPROTO_IP, IP_PKTINFO, info);
    }
    // Like any UDP answer, it may be lost; the client sends its ClientHello again.
    onceMoreAfterPendingError([&] { return sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL); });
}

/// Takes the datagram at the head of the queue off (a read of none of its bytes).
void takeHead(int fd, std::uint8_t* buffer) {
    onceMoreAfterPendingError([&] { return recv(fd, buffer, 0, MSG_DONTWAIT); });
}

}  // namespace

std::size_t CoapLoop::screenQueue() {
    // Everything peeked in the last round was read by libcoap or taken off by the gate since.
    const int zero = 0;
    (void)setsockopt(m_endpointFd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero);
    m_gate->beginBatch();
    const auto now = DtlsGate::Clock::now();
    std::size_t pass = 0;
    bool failedBefore = false;  // the last peek failed
    for (std::size_t looked = 0; looked < kMaxScreened && pass < kMaxBatch; ++looked) {
        Peeked p;
        iovec iov{m_datagram.data(), m_datagram.size()};
        alignas(cmsghdr) char control[256];
        msghdr msg{};
        msg.msg_name = &p.source.address;
        msg.msg_namelen = sizeof p.source.address;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        // With a peek offset set, each peek moves it past the datagram it copied (the buffer
        // holds any datagram whole), so the next peek sees the next datagram (socket(7),
        // SO_PEEK_OFF). A read moves it back only by the bytes it returned: the offset is set
        // again after the gate's own reads, and at the start of each round after libcoap's.
        const ssize_t n = recvmsg(m_endpointFd, &msg, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            // EAGAIN: nothing more queued. A pending error was cleared by this peek, which read
            // nothing: look again (handing libcoap a read here would hand it the next datagram
            // unscreened). An error right after an error is the socket's own: libcoap's to read
            // and report.
            if (!mayBePendingError(errno)) break;
            if (!std::exchange(failedBefore, true)) continue;
            if (pass == 0) pass = 1;
            break;
        }
        failedBefore = false;
        p.source.length = msg.msg_namelen;
        readPacketInfo(m_endpointFd, msg, p);
        const auto verdict =
            m_gate->screen(p.source, std::span<const std::uint8_t>(m_datagram.data(), static_cast<std::size_t>(n)), now);
        if (verdict == DtlsGate::Verdict::pass) {
            ++pass;
            continue;
        }
        // Behind datagrams for libcoap it stays queued: looked at again once they are read.
        if (pass > 0) break;
        // The head is this datagram. A read moves the peek offset back by the bytes it returned
        // (none here, measured), so the offset is set to the new head again.
        takeHead(m_endpointFd, m_datagram.data());
        (void)setsockopt(m_endpointFd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero);
        m_gate->taken();
        if (verdict == DtlsGate::Verdict::answer) sendAnswer(m_endpointFd, p, m_gate->answer());
    }
    return pass;
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
            m_forLibcoap.insert(m_forLibcoap.end(), m_gate != nullptr ? screenQueue() : queuedDatagrams(m_endpointFd), e);
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
