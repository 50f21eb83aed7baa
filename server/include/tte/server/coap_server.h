// The CoAP-over-DTLS server of the MotherShip (message 9/10) and the Controller (message
// 11/12): libcoap 4.3 with its OpenSSL backend, certificate mode, in its own thread with its
// own context, driven by CoapLoop (libcoap's epoll interface: the sessions walked once per batch
// of queued datagrams and at most every 5 ms otherwise, not once per datagram – measured in
// docs/MOTHERSHIP.md).
//
// Authentication: the DTLS handshake requires a client certificate and accepts any
// self-signed one (whose key is to be expected is known only once the request arrives); each
// request carries the SHA-256 of the client's SPKI, taken from the session's peer certificate,
// for the application to compare. The server's certificate and key are parsed once and shared
// by every session (libcoap 4.3 would read and decode key files again for each new session).
//
// A stateless cookie gate stands in front of libcoap (server/src/dtls_gate.h, docs/SECURITY.md
// threat 7): a ClientHello without the gate's cookie is answered with a HelloVerifyRequest
// before libcoap sees it, and only ClientHellos with a valid cookie reach libcoap – at most
// `handshakesPerAddressPerSecond` per second from one IP address – whose cookie check is the
// gate's. So spoofed ClientHellos leave no session behind and cannot fill
// `maxHandshakeSessions`. The exchange is the one cookie round of RFC 6347, as before.
//
// A handler may answer later (CoapDeferred: a separate response, RFC 7252 §5.2.2), e.g. once a
// database commit is durable, without holding up the CoAP thread meanwhile. libcoap is not
// thread-safe: the reply is handed over through a mailbox whose eventfd wakes the CoAP thread,
// which alone touches libcoap.
//
// DTLS-PSK (PROTOCOL §11, draft 5.3), when CoapServerOptions::pskLookup is set: the same
// endpoint also takes PSK handshakes; libcoap asks the lookup for the key of the PSK identity
// the client sent (coap_context_set_psk2's validate_id_call_back), and each request of such a
// session carries that identity – the handshake has proved the client holds its key.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/server/tls.h"

namespace tte::server {

struct CoapRequest {
    std::string_view query;                  ///< the Uri-Query options joined by '&'
    std::span<const std::uint8_t> payload;
    std::optional<unsigned> accept;          ///< the Accept option, if given
    std::optional<std::string> peerFingerprint;  ///< SPKI SHA-256 of the client's certificate, 64 hex
    std::optional<std::string> pskIdentity;      ///< the PSK identity of a DTLS-PSK session (§11)
    std::string client;                      ///< the peer's IP address
};

struct CoapReply {
    int code = 205;                          ///< class*100+detail: 205 is 2.05, 404 is 4.04
    std::optional<unsigned> contentFormat;
    std::vector<std::uint8_t> payload;
};

/// Sends the reply of a deferred request (CoapDeferred). Copies share one request: the first
/// call counts, later ones are ignored, and so is a call after the server stopped or after the
/// client's session went away. Thread-safe: any thread may call it, at any time.
class CoapResponder {
public:
    /// Hands `reply` to the CoAP thread, which sends it as the separate response.
    void operator()(CoapReply reply) const;

    struct Mailbox;  ///< where replies wait for the CoAP thread (coap_server.cpp)
    CoapResponder(std::shared_ptr<Mailbox> mailbox, std::uint64_t id) : m_mailbox(std::move(mailbox)), m_id(id) {}

private:
    std::shared_ptr<Mailbox> m_mailbox;
    std::uint64_t m_id;
};

/// An answer that comes later: a separate response (RFC 7252 §5.2.2). The server acknowledges
/// the request at once (an empty ACK for a confirmable request, which stops the client's
/// retransmissions), then calls `start` on the CoAP thread with the responder; the reply it is
/// given later goes out as a confirmable response. A client retransmission meanwhile is
/// acknowledged again, not handed to the handler. When the client's session closed before the
/// reply is ready, the reply is dropped (the client asks again).
struct CoapDeferred {
    std::function<void(CoapResponder)> start;
};

/// What a handler gives: the reply now (piggybacked on the ACK), or a reply later.
using CoapAnswer = std::variant<CoapReply, CoapDeferred>;

/// Answers one request on the CoAP thread. Must not throw.
using CoapHandler = std::function<CoapAnswer(const CoapRequest&)>;

enum class CoapMethod { get, post };

enum class LogLevel { debug, info, warning, error };
/// Where libcoap's own messages go (libcoap's log is one per process: the last server created
/// writes it). Without a sink they are dropped.
using LogSink = std::function<void(LogLevel, std::string_view)>;

/// What the DTLS cookie gate did with the datagrams it screened (docs/SECURITY.md threat 7).
struct CoapGateCounts {
    /// ClientHellos without a valid gate cookie, answered by the gate with a HelloVerifyRequest
    /// and taken off the queue: nothing kept for their source, libcoap never saw them.
    std::uint64_t helloVerifyRequests = 0;
    /// ClientHellos returning a valid gate cookie, handed to libcoap: handshakes started.
    std::uint64_t admitted = 0;
    /// ClientHellos returning a valid cookie, dropped because their source IP address had
    /// started its `handshakesPerAddressPerSecond` already (the client retransmits).
    std::uint64_t rateLimited = 0;
    /// Datagrams libcoap would take for a ClientHello that are none (fragment, other epoch,
    /// lengths that do not add up), from peers without a session: dropped.
    std::uint64_t malformedDropped = 0;

    friend bool operator==(const CoapGateCounts&, const CoapGateCounts&) = default;
    /// What was counted between an earlier reading `b` and this one `a`.
    friend CoapGateCounts operator-(const CoapGateCounts& a, const CoapGateCounts& b) {
        return {a.helloVerifyRequests - b.helloVerifyRequests, a.admitted - b.admitted, a.rateLimited - b.rateLimited,
                a.malformedDropped - b.malformedDropped};
    }
};

/// What the server reports besides the answers (optional, called on the CoAP thread).
struct CoapObserver {
    std::function<void(bool opened)> session;  ///< a server session was created (true) or freed
    std::function<void(int code)> replied;     ///< a request was answered with this code
    /// A deferred reply was dropped: the client's session had closed before it was ready.
    std::function<void()> replyDropped;
    /// What the cookie gate counted since the last call (only called when it counted
    /// something): after each wait of the CoAP loop, so once per batch of datagrams, not once
    /// per datagram. The gate's own handshake at start is not counted.
    std::function<void(const CoapGateCounts& added)> gate;
};

/// The PSK of a DTLS-PSK client's identity, or nullopt to refuse the handshake. Called on the
/// CoAP thread during a handshake; must not throw. The identity is the client's, unchecked.
using PskLookup = std::function<std::optional<Secret>(std::string_view identity)>;

struct CoapServerOptions {
    std::string address = "127.0.0.1";  ///< IPv4 or IPv6 literal
    std::uint16_t port = 0;             ///< 0: any free port, see CoapServer::port()
    unsigned maxIdleSessions = 0;       ///< 0: libcoap's default (unlimited)
    unsigned maxHandshakeSessions = 0;  ///< 0: libcoap's default (100)
    unsigned sessionTimeoutSeconds = 0; ///< 0: libcoap's default (300 s)
    PskLookup pskLookup = {};           ///< set: DTLS-PSK handshakes too (§11)
    /// New DTLS handshakes per second one source IP address may start, at most
    /// kHandshakeBurstSeconds times that at once (the cookie gate, docs/SECURITY.md threat 7).
    /// 0: the default, 8.
    unsigned handshakesPerAddressPerSecond = 0;
};

/// A source address may start this many seconds' worth of handshakes at once.
inline constexpr unsigned kHandshakeBurstSeconds = 8;

class CoapServer {
public:
    /// Binds the DTLS endpoint with `identity` (owned by the server from now on) and installs
    /// the cookie gate (one DTLS handshake with itself at start). Errors: invalidArgument
    /// (address), unsupported (libcoap without DTLS; a kernel that refuses SO_PEEK_OFF),
    /// internal (libcoap refused the set-up, or the gate could not be installed), io (cannot
    /// bind).
    static Result<std::unique_ptr<CoapServer>> create(const CoapServerOptions& options, CertifiedKey identity,
                                                      LogSink log = {}, CoapObserver observer = {});
    virtual ~CoapServer() = default;
    /// Serves `path` (no leading '/', e.g. ".well-known/tte") for `method`; before start().
    virtual void addResource(std::string_view path, CoapMethod method, CoapHandler handler) = 0;
    [[nodiscard]] virtual std::uint16_t port() const = 0;
    /// Starts the CoAP thread.
    virtual void start() = 0;
    /// Stops and joins the thread. Idempotent.
    virtual void stop() = 0;
};

}  // namespace tte::server
