// One libcoap context's I/O, for a context with thousands of DTLS sessions.
//
// libcoap's own loop (coap_io_process) walks every session of the context before each wait
// (retransmissions, DTLS timers, expiry) and reads one datagram per wait. CoapLoop uses
// libcoap's epoll interface instead and makes its own walks at most every 5 ms; a timer is
// served at most 5 ms late. libcoap 4.3.1 also walks at the end of every coap_io_do_epoll()
// call, and reads one datagram per event handed to it: given the endpoint's socket, CoapLoop
// hands libcoap that socket's event once for every datagram queued on it (up to 64), so that
// a burst of datagrams costs one walk, not one each (measured in docs/MOTHERSHIP.md).
//
// With a DtlsGate (dtls_gate.h), CoapLoop first shows the gate every queued datagram, peeking
// past the head with SO_PEEK_OFF: the datagrams the gate keeps from libcoap are taken off the
// queue (and answered) while they are at its head; libcoap is handed the run of datagrams up to
// the next one the gate keeps, which waits at the head for the next round. So what reaches
// libcoap costs one extra peek each, and a batch is still one walk.
//
// Other threads wake the loop through an eventfd (`wakeFd`, added to libcoap's epoll set):
// `onWake` then runs on the loop's thread; it may send (coap_send), which needs no walk.
#pragma once

#include <coap3/coap.h>

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace tte::server {

class DtlsGate;

class CoapLoop {
public:
    /// `ctx` must outlive the loop, and so must `wakeFd` (-1: none). `endpointFd`: the UDP
    /// socket of the context's one endpoint (-1: unknown, one datagram per walk), for a server
    /// context with that endpoint only (no client sessions, whose sockets would be taken for
    /// it). Falls back to coap_io_process() when libcoap was built without epoll (then
    /// `onWake` runs after every wait, at most `maxWaitMs` late). `gate` (with `endpointFd`, whose
    /// SO_PEEK_OFF the caller has enabled): screens every datagram before libcoap reads it; it
    /// must outlive the loop.
    CoapLoop(coap_context_t* ctx, int wakeFd = -1, std::function<void()> onWake = {}, int endpointFd = -1,
             DtlsGate* gate = nullptr);
    ~CoapLoop();
    CoapLoop(const CoapLoop&) = delete;
    CoapLoop& operator=(const CoapLoop&) = delete;

    /// Waits at most `maxWaitMs` (less when a timer is due) and handles what arrived.
    void runOnce(unsigned maxWaitMs);

private:
    void walk(coap_tick_t now);
    void woken();
    /// The gate's round over the endpoint's queue: how many datagrams libcoap may read now.
    std::size_t screenQueue();

    coap_context_t* m_ctx;
    int m_fd;
    int m_wakeFd;
    int m_endpointFd;
    std::function<void()> m_onWake;
    DtlsGate* m_gate;
    std::vector<std::uint8_t> m_datagram;  ///< a peeked datagram (gate only)
    std::vector<epoll_event> m_forLibcoap;  ///< the events of one wait handed to libcoap
    coap_tick_t m_nextWalk = 0;
    unsigned m_nextTimerMs = 0;  ///< from the last walk; 0: none pending
    bool m_handledSinceWalk = false;
};

}  // namespace tte::server
