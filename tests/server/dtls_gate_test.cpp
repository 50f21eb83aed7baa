// The DTLS cookie gate (server/src/dtls_gate.h) on its own: a real OpenSSL DTLS client's
// ClientHello answered, its second ClientHello (with the gate's cookie) handed on, cookies
// bound to the source and to time, the per-address token bucket, malformed ClientHellos.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "dtls_gate.h"
#include "tte/protocol/dtls_hello.h"

namespace tte::server {
namespace {

using namespace std::chrono_literals;

DatagramSource source(const char* ip, std::uint16_t port) {
    DatagramSource s;
    auto& a = reinterpret_cast<sockaddr_in&>(s.address);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    s.length = sizeof a;
    s.ifindex = 1;
    return s;
}

/// An OpenSSL DTLS 1.2 client over memory BIOs: what it sends, and what it makes of an answer.
class OpensslClient {
public:
    OpensslClient() : m_ctx(SSL_CTX_new(DTLS_client_method())), m_ssl(SSL_new(m_ctx)) {
        SSL_CTX_set_min_proto_version(m_ctx, DTLS1_2_VERSION);
        m_in = BIO_new(BIO_s_mem());
        m_out = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(m_in, -1);
        SSL_set_bio(m_ssl, m_in, m_out);
        SSL_set_options(m_ssl, SSL_OP_NO_QUERY_MTU);
        SSL_set_mtu(m_ssl, 1200);
    }
    ~OpensslClient() {
        SSL_free(m_ssl);
        SSL_CTX_free(m_ctx);
    }
    /// Runs the handshake on what it was given; returns the datagram it sent (empty: none).
    std::vector<std::uint8_t> step(std::span<const std::uint8_t> received = {}) {
        if (!received.empty()) BIO_write(m_in, received.data(), static_cast<int>(received.size()));
        (void)SSL_connect(m_ssl);
        char* data = nullptr;
        const long n = BIO_get_mem_data(m_out, &data);
        std::vector<std::uint8_t> sent(data, data + n);
        (void)BIO_reset(m_out);
        return sent;
    }

private:
    SSL_CTX* m_ctx;
    SSL* m_ssl;
    BIO* m_in = nullptr;
    BIO* m_out = nullptr;
};

DtlsGateOptions options(unsigned rate = 8, unsigned burst = 64) {
    DtlsGateOptions o;
    o.handshakesPerAddressPerSecond = rate;
    o.handshakeBurstPerAddress = burst;
    return o;
}

TEST(DtlsGate, AnOpensslClientAnswersTheGatesCookieAndIsHandedOn) {
    DtlsGate gate(options(), {});
    const auto from = source("192.0.2.7", 40000);
    const auto now = DtlsGate::Clock::now();
    OpensslClient client;
    const auto first = client.step();
    ASSERT_EQ(protocol::parseDtlsClientHello(first).kind, protocol::DtlsHelloKind::clientHello);
    ASSERT_EQ(gate.screen(from, first, now), DtlsGate::Verdict::answer);
    gate.taken();  // as the loop does once it took the datagram off the queue
    const std::vector<std::uint8_t> hvr(gate.answer().begin(), gate.answer().end());

    const auto second = client.step(hvr);  // OpenSSL takes the gate's HelloVerifyRequest
    const auto parsed = protocol::parseDtlsClientHello(second);
    ASSERT_EQ(parsed.kind, protocol::DtlsHelloKind::clientHello);
    EXPECT_EQ(parsed.hello.messageSequence, 1);
    const auto expected = gate.cookie(from, now);
    EXPECT_TRUE(std::equal(parsed.hello.cookie.begin(), parsed.hello.cookie.end(), expected.begin(), expected.end()));
    gate.beginBatch();
    EXPECT_FALSE(gate.admitted(parsed.hello.cookie));
    EXPECT_EQ(gate.screen(from, second, now + 1s), DtlsGate::Verdict::pass);
    EXPECT_TRUE(gate.admitted(parsed.hello.cookie));  // libcoap's cookie check, in this batch
    gate.beginBatch();
    EXPECT_FALSE(gate.admitted(parsed.hello.cookie));
    EXPECT_EQ(gate.counters().helloVerifyRequests, 1u);
    EXPECT_EQ(gate.counters().admitted, 1u);
}

TEST(DtlsGate, TheCookieIsBoundToTheSourceAndExpires) {
    DtlsGate gate(options(), {});
    const auto now = DtlsGate::Clock::now();
    const auto from = source("192.0.2.7", 40000);
    OpensslClient client;
    (void)gate.screen(from, client.step(), now);
    const std::vector<std::uint8_t> hvr(gate.answer().begin(), gate.answer().end());
    const auto second = client.step(hvr);
    EXPECT_EQ(gate.screen(source("192.0.2.7", 40001), second, now), DtlsGate::Verdict::answer);  // another port
    EXPECT_EQ(gate.screen(source("192.0.2.8", 40000), second, now), DtlsGate::Verdict::answer);  // another address
    EXPECT_EQ(gate.screen(from, second, now + 29s), DtlsGate::Verdict::pass);   // at most one bucket later
    EXPECT_EQ(gate.screen(from, second, now + 61s), DtlsGate::Verdict::answer);  // two buckets later: expired
    // The answer to a ClientHello with a stale cookie echoes its message_seq (1), which is what
    // an OpenSSL client that already took one HelloVerifyRequest accepts.
    const auto again = protocol::parseDtlsClientHello(client.step(std::vector<std::uint8_t>(gate.answer().begin(), gate.answer().end())));
    ASSERT_EQ(again.kind, protocol::DtlsHelloKind::clientHello);
    EXPECT_EQ(again.hello.messageSequence, 2);
    EXPECT_TRUE(gate.validCookie(from, again.hello.cookie, now + 61s));
    // Wrong lengths never match.
    EXPECT_FALSE(gate.validCookie(from, std::vector<std::uint8_t>(31, 0), now));
    EXPECT_FALSE(gate.validCookie(from, {}, now));
    // Another gate (another start of the server) has another secret.
    DtlsGate other(options(), {});
    EXPECT_FALSE(other.validCookie(from, gate.cookie(from, now), now));
}

/// A ClientHello from `from` carrying the gate's cookie for it.
std::vector<std::uint8_t> withCookie(DtlsGate& gate, const DatagramSource& from, DtlsGate::Clock::time_point now) {
    OpensslClient client;
    (void)gate.screen(from, client.step(), now);
    gate.taken();
    return client.step(std::vector<std::uint8_t>(gate.answer().begin(), gate.answer().end()));
}

/// Screens `datagram` as the loop does when it is at the head of the queue: what is not for
/// libcoap is taken off (and counted).
DtlsGate::Verdict screenAtHead(DtlsGate& gate, const DatagramSource& from, std::span<const std::uint8_t> datagram,
                               DtlsGate::Clock::time_point now) {
    const auto verdict = gate.screen(from, datagram, now);
    if (verdict != DtlsGate::Verdict::pass) gate.taken();
    return verdict;
}

TEST(DtlsGate, EachAddressHasABucketOfNewHandshakes) {
    DtlsGate gate(options(2, 4), {});
    const auto t0 = DtlsGate::Clock::now();
    int passed = 0;
    for (std::uint16_t port = 1000; port < 1010; ++port) {
        const auto from = source("198.51.100.1", port);
        passed += screenAtHead(gate, from, withCookie(gate, from, t0), t0) == DtlsGate::Verdict::pass;
    }
    EXPECT_EQ(passed, 4);  // the burst, then nothing
    EXPECT_EQ(gate.counters().rateLimited, 6u);
    EXPECT_EQ(gate.counters().admitted, 4u);
    EXPECT_EQ(gate.counters().helloVerifyRequests, 10u);
    const auto other = source("198.51.100.2", 1000);
    EXPECT_EQ(gate.screen(other, withCookie(gate, other, t0), t0), DtlsGate::Verdict::pass);  // its own bucket
    passed = 0;
    const auto t1 = t0 + 1s;  // two tokens later
    for (std::uint16_t port = 2000; port < 2005; ++port) {
        const auto from = source("198.51.100.1", port);
        passed += gate.screen(from, withCookie(gate, from, t1), t1) == DtlsGate::Verdict::pass;
    }
    EXPECT_EQ(passed, 2);
}

TEST(DtlsGate, TheAddressTableIsBounded) {
    DtlsGateOptions o = options(1, 2);
    o.maxAddresses = 2;
    DtlsGate gate(o, {});
    const auto t0 = DtlsGate::Clock::now();
    for (const char* ip : {"203.0.113.1", "203.0.113.2", "203.0.113.3"}) {
        const auto from = source(ip, 5000);
        EXPECT_EQ(gate.screen(from, withCookie(gate, from, t0), t0), DtlsGate::Verdict::pass) << ip;
    }
    EXPECT_EQ(gate.trackedAddresses(), 2u);  // the third found no room and was not limited
    const auto t1 = t0 + 3s;                 // both buckets full again: forgotten for a new address
    const auto fourth = source("203.0.113.4", 5000);
    EXPECT_EQ(gate.screen(fourth, withCookie(gate, fourth, t1), t1), DtlsGate::Verdict::pass);
    EXPECT_EQ(gate.trackedAddresses(), 1u);
}

TEST(DtlsGate, MalformedClientHellosPassOnlyFromPeersWithASession) {
    bool session = false;
    DtlsGate gate(options(), [&](const DatagramSource&) { return session; });
    const auto from = source("192.0.2.9", 7000);
    const auto now = DtlsGate::Clock::now();
    OpensslClient client;
    auto hello = client.step();
    hello[4] = 1;  // epoch 1: to libcoap still a ClientHello
    EXPECT_EQ(screenAtHead(gate, from, hello, now), DtlsGate::Verdict::drop);
    session = true;
    EXPECT_EQ(gate.screen(from, hello, now), DtlsGate::Verdict::pass);
    EXPECT_EQ(gate.counters().malformedDropped, 1u);
    // Anything libcoap makes no session for passes unchanged (libcoap's to judge).
    const std::vector<std::uint8_t> appData = {23, 254, 253, 0, 1, 0, 0, 0, 0, 0, 9, 0, 1, 0xff};
    session = false;
    EXPECT_EQ(gate.screen(from, appData, now), DtlsGate::Verdict::pass);
    EXPECT_EQ(gate.screen(from, std::span<const std::uint8_t>(), now), DtlsGate::Verdict::pass);
}

// CoapLoop leaves a datagram the gate keeps from libcoap queued when datagrams for libcoap are
// ahead of it, and screens it again in the next round: counted once, when it is taken off.
// (Counted at each screening, 12 cookie answers beyond a bucket of 8 once showed 5 limited.)
TEST(DtlsGate, ADatagramScreenedAgainIsCountedOnceWhenTakenOff) {
    DtlsGate gate(options(1, 1), [](const DatagramSource&) { return false; });
    const auto now = DtlsGate::Clock::now();
    const auto from = source("192.0.2.20", 6000);
    OpensslClient client;
    const auto bare = client.step();
    EXPECT_EQ(gate.screen(from, bare, now), DtlsGate::Verdict::answer);  // behind others: stays queued
    EXPECT_EQ(gate.screen(from, bare, now), DtlsGate::Verdict::answer);  // next round, at the head
    gate.taken();
    gate.taken();  // a second call counts nothing more
    EXPECT_EQ(gate.counters().helloVerifyRequests, 1u);
    const auto second = client.step(std::vector<std::uint8_t>(gate.answer().begin(), gate.answer().end()));
    EXPECT_EQ(screenAtHead(gate, from, second, now), DtlsGate::Verdict::pass);  // the one token
    EXPECT_EQ(gate.screen(from, second, now), DtlsGate::Verdict::drop);          // a retransmission: limited
    EXPECT_EQ(gate.screen(from, second, now), DtlsGate::Verdict::drop);
    gate.taken();
    auto malformed = bare;
    malformed[4] = 1;
    EXPECT_EQ(gate.screen(from, malformed, now), DtlsGate::Verdict::drop);
    EXPECT_EQ(gate.screen(from, bare, now), DtlsGate::Verdict::answer);  // the malformed one is not taken
    gate.taken();
    EXPECT_EQ(gate.counters().helloVerifyRequests, 2u);
    EXPECT_EQ(gate.counters().admitted, 1u);
    EXPECT_EQ(gate.counters().rateLimited, 1u);
    EXPECT_EQ(gate.counters().malformedDropped, 0u);
}

}  // namespace
}  // namespace tte::server
