// A stateless DTLS cookie gate in front of libcoap (RFC 6347 §4.2.1), against ClientHello
// floods from spoofed sources (docs/SECURITY.md, threat 7).
//
// libcoap 4.3.1 makes a session for every new source address whose datagram looks like a
// ClientHello, before any cookie is checked, counts it against max_handshake_sessions for 30 s
// and ignores every new peer while that count is over the limit: 501 spoofed datagrams every
// 30 s locked every device out. CoapLoop therefore shows each queued datagram to the gate
// before libcoap reads it (a peek), and the gate decides:
//   - a ClientHello without a valid gate cookie: answered here with a HelloVerifyRequest that
//     carries one, and taken off the queue – nothing is kept for its source;
//   - a ClientHello with a valid cookie: handed to libcoap, at most `burst` at once and `rate`
//     per second per source IP address (a token bucket), so that one host answering cookies
//     from many ports cannot fill the handshake limit alone;
//   - what looks like a ClientHello to libcoap but is none (fragment, other epoch, bad
//     lengths): handed on only from a peer libcoap already has a session with, else dropped;
//   - everything else: handed to libcoap unchanged.
// libcoap checks the cookie of what it is handed with the gate's own verdict (the gate installs
// its cookie callbacks on libcoap's DTLS SSL_CTX, dtls_gate_install.h): one cookie exchange, the
// gate's, as before the gate existed.
//
// The cookie is HMAC-SHA256(secret, address family, address, port, time bucket) with a secret
// drawn at start; a cookie is valid in the bucket it was made in and the next one
// (kCookieBucket, so 30–60 s). Compared in constant time.
#pragma once

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>
#include <vector>

#include "tte/base/secret.h"
#include "tte/server/coap_server.h"

namespace tte::server {

/// A datagram's source, as recvmsg gave it, and the interface it came in on (IP_PKTINFO).
struct DatagramSource {
    sockaddr_storage address{};
    socklen_t length = 0;
    int ifindex = 0;
};

struct DtlsGateOptions {
    /// New handshakes per second one source IP address may start (the bucket's refill).
    unsigned handshakesPerAddressPerSecond = 8;
    /// How many it may start at once (the bucket's size).
    unsigned handshakeBurstPerAddress = 64;
    /// Addresses whose bucket is kept; beyond it, full buckets are forgotten first, and an
    /// address that finds no room is not limited (the handshake limit still holds).
    std::size_t maxAddresses = 65536;
};

class DtlsGate {
public:
    using Clock = std::chrono::steady_clock;
    /// Whether libcoap has a session with this source (only asked for a malformed ClientHello).
    using HasSession = std::function<bool(const DatagramSource&)>;
    static constexpr std::chrono::seconds kCookieBucket{30};
    static constexpr std::size_t kCookieSize = 32;

    enum class Verdict {
        pass,    ///< for libcoap to read
        answer,  ///< take it off the queue and send answer() to the source
        drop,    ///< take it off the queue
    };

    /// Draws the cookie secret from OpenSSL's generator (std::runtime_error if it fails).
    DtlsGate(DtlsGateOptions options, HasSession hasSession);

    /// Decides about one queued datagram (`datagram`: its bytes, whole). A pass of a ClientHello
    /// with a valid cookie takes a token of its address, is counted as admitted and remembers the
    /// cookie for `admitted()` until the next beginBatch(). An `answer` or `drop` is counted only
    /// by taken(): the loop leaves such a datagram queued behind datagrams for libcoap and
    /// screens it again in a later round.
    Verdict screen(const DatagramSource& source, std::span<const std::uint8_t> datagram, Clock::time_point now);
    /// The datagram of the last `answer` or `drop` verdict was taken off the queue (and
    /// answered): counts it, once. Nothing for a `pass`.
    void taken();
    /// The HelloVerifyRequest of the last `answer` verdict.
    [[nodiscard]] std::span<const std::uint8_t> answer() const { return m_answer; }

    /// Forgets the cookies passed before: a new batch of datagrams is being screened.
    void beginBatch() { m_passedCookies.clear(); }
    /// Whether `cookie` is one the gate passed in the current batch: libcoap's cookie check.
    [[nodiscard]] bool admitted(std::span<const std::uint8_t> cookie) const;

    /// The gate's cookie for `source` at `now` (exposed for tests).
    [[nodiscard]] std::array<std::uint8_t, kCookieSize> cookie(const DatagramSource& source, Clock::time_point now) const;
    /// Whether `cookie` is the gate's for `source`, made in the bucket of `now` or the one before.
    [[nodiscard]] bool validCookie(const DatagramSource& source, std::span<const std::uint8_t> cookie, Clock::time_point now) const;

    /// What the gate did since it was made: datagrams, each counted once however often it was
    /// screened. Plain numbers of the loop's thread: the server hands their increase on
    /// (CoapObserver::gate).
    [[nodiscard]] const CoapGateCounts& counters() const { return m_counters; }
    [[nodiscard]] std::size_t trackedAddresses() const { return m_buckets.size(); }

private:
    using AddressKey = std::array<std::uint8_t, 16>;  ///< IPv6, or IPv4-mapped
    struct AddressHash {
        std::size_t operator()(const AddressKey& k) const noexcept;
    };
    struct Bucket {
        double tokens = 0;
        Clock::time_point updated;
    };
    bool takeToken(const DatagramSource& source, Clock::time_point now);
    void forgetFullBuckets(Clock::time_point now);
    std::array<std::uint8_t, kCookieSize> cookieAt(const DatagramSource& source, std::int64_t bucket) const;

    DtlsGateOptions m_options;
    HasSession m_hasSession;
    Secret m_secret;
    Clock::time_point m_epoch;  ///< time buckets count from here
    std::unordered_map<AddressKey, Bucket, AddressHash> m_buckets;
    std::vector<std::array<std::uint8_t, kCookieSize>> m_passedCookies;
    std::vector<std::uint8_t> m_answer;
    CoapGateCounts m_counters;
    std::uint64_t CoapGateCounts::*m_pending = nullptr;  ///< what taken() counts: the last answer's or drop's
};

}  // namespace tte::server
