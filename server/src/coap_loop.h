// One libcoap context's I/O, for a context with thousands of DTLS sessions.
//
// libcoap's own loop (coap_io_process) walks every session of the context before each wait
// (retransmissions, DTLS timers, expiry) and reads one datagram per wait, so with thousands
// of sessions most of the time goes to those walks. CoapLoop uses libcoap's epoll interface
// instead and walks the sessions at most every 5 ms, handling every datagram in between;
// a timer is served at most 5 ms late.
//
// Other threads wake the loop through an eventfd (`wakeFd`, added to libcoap's epoll set):
// `onWake` then runs on the loop's thread, and when it returns true (it triggered separate
// responses with coap_async_trigger) the loop walks at once. libcoap 4.3 fires a triggered
// async only in a walk (coap_check_async, from coap_io_prepare_epoll); walking right after the
// trigger leaves no datagram a chance to be read between the two.
#pragma once

#include <coap3/coap.h>

#include <functional>

namespace tte::server {

class CoapLoop {
public:
    /// `ctx` must outlive the loop, and so must `wakeFd` (-1: none). Falls back to
    /// coap_io_process() when libcoap was built without epoll (then `onWake` runs after every
    /// wait, at most `maxWaitMs` late).
    CoapLoop(coap_context_t* ctx, int wakeFd = -1, std::function<bool()> onWake = {});
    ~CoapLoop();
    CoapLoop(const CoapLoop&) = delete;
    CoapLoop& operator=(const CoapLoop&) = delete;

    /// Waits at most `maxWaitMs` (less when a timer is due) and handles what arrived.
    void runOnce(unsigned maxWaitMs);

private:
    void walk(coap_tick_t now);
    bool woken();

    coap_context_t* m_ctx;
    int m_fd;
    int m_wakeFd;
    std::function<bool()> m_onWake;
    coap_tick_t m_nextWalk = 0;
    unsigned m_nextTimerMs = 0;  ///< from the last walk; 0: none pending
    bool m_handledSinceWalk = false;
};

}  // namespace tte::server
