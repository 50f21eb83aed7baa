// One libcoap context's I/O, for a context with thousands of DTLS sessions.
//
// libcoap's own loop (coap_io_process) walks every session of the context before each wait
// (retransmissions, DTLS timers, expiry) and reads one datagram per wait, so with thousands
// of sessions most of the time goes to those walks. CoapLoop uses libcoap's epoll interface
// instead and walks the sessions at most every 5 ms, handling every datagram in between;
// a timer is served at most 5 ms late.
#pragma once

#include <coap3/coap.h>

namespace tte::server {

class CoapLoop {
public:
    /// `ctx` must outlive the loop. Falls back to coap_io_process() when libcoap was built
    /// without epoll.
    explicit CoapLoop(coap_context_t* ctx);
    /// Waits at most `maxWaitMs` (less when a timer is due) and handles what arrived.
    void runOnce(unsigned maxWaitMs);

private:
    coap_context_t* m_ctx;
    int m_fd;
    coap_tick_t m_nextWalk = 0;
    unsigned m_nextTimerMs = 0;  ///< from the last walk; 0: none pending
    bool m_handledSinceWalk = false;
};

}  // namespace tte::server
