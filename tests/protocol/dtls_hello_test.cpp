// The DTLS ClientHello reader and HelloVerifyRequest writer (protocol/dtls_hello.h): a real
// shape, then every way the lengths can lie.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "tte/protocol/dtls_hello.h"

namespace tte::protocol {
namespace {

/// A DTLS 1.2 ClientHello in one record: record seq 0x0102030405 06, message_seq `messageSeq`,
/// a 2-byte session_id, `cookie`, then cipher suites and compression as a client writes them.
std::vector<std::uint8_t> clientHello(std::vector<std::uint8_t> cookie = {}, std::uint16_t messageSeq = 0) {
    std::vector<std::uint8_t> body = {254, 253};
    for (int i = 0; i < 32; ++i) body.push_back(static_cast<std::uint8_t>(i));  // random
    body.insert(body.end(), {2, 0xaa, 0xbb});                                   // session_id
    body.push_back(static_cast<std::uint8_t>(cookie.size()));
    body.insert(body.end(), cookie.begin(), cookie.end());
    body.insert(body.end(), {0, 2, 0xc0, 0x2b, 1, 0});  // one suite, null compression
    const std::size_t n = body.size();
    std::vector<std::uint8_t> d = {22, 254, 253, 0, 0, 1, 2, 3, 4, 5, 6,
                                   static_cast<std::uint8_t>((n + 12) >> 8), static_cast<std::uint8_t>(n + 12),
                                   1, 0, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n),
                                   static_cast<std::uint8_t>(messageSeq >> 8), static_cast<std::uint8_t>(messageSeq),
                                   0, 0, 0, 0, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    d.insert(d.end(), body.begin(), body.end());
    return d;
}

TEST(DtlsHello, ReadsAClientHelloWithoutAndWithACookie) {
    auto r = parseDtlsClientHello(clientHello());
    ASSERT_EQ(r.kind, DtlsHelloKind::clientHello);
    EXPECT_EQ(r.hello.recordSequence, (std::array<std::uint8_t, 6>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(r.hello.messageSequence, 0);
    EXPECT_TRUE(r.hello.cookie.empty());

    const std::vector<std::uint8_t> cookie(32, 0x5c);
    const auto d = clientHello(cookie, 1);
    r = parseDtlsClientHello(d);
    ASSERT_EQ(r.kind, DtlsHelloKind::clientHello);
    EXPECT_EQ(r.hello.messageSequence, 1);
    EXPECT_EQ(std::vector<std::uint8_t>(r.hello.cookie.begin(), r.hello.cookie.end()), cookie);

    // A second record after the first is not the gate's business (OpenSSL ignores it too).
    auto two = clientHello();
    two.insert(two.end(), {21, 254, 253, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0});
    EXPECT_EQ(parseDtlsClientHello(two).kind, DtlsHelloKind::clientHello);
    // The largest cookie.
    EXPECT_EQ(parseDtlsClientHello(clientHello(std::vector<std::uint8_t>(255, 1))).hello.cookie.size(), 255u);
}

TEST(DtlsHello, WhatLibcoapWouldNotTakeForAClientHelloIsOther) {
    EXPECT_EQ(parseDtlsClientHello({}).kind, DtlsHelloKind::other);
    auto d = clientHello();
    EXPECT_EQ(parseDtlsClientHello(std::span(d).first(13)).kind, DtlsHelloKind::other);  // no handshake type byte
    d[0] = 23;  // application data
    EXPECT_EQ(parseDtlsClientHello(d).kind, DtlsHelloKind::other);
    d = clientHello();
    d[13] = 11;  // a Certificate
    EXPECT_EQ(parseDtlsClientHello(d).kind, DtlsHelloKind::other);
    const std::vector<std::uint8_t> coap = {0x40, 0x01, 0x12, 0x34, 0xb4, 't', 'e', 's', 't'};
    EXPECT_EQ(parseDtlsClientHello(coap).kind, DtlsHelloKind::other);
}

TEST(DtlsHello, EveryLieInTheLengthsIsMalformed) {
    const auto good = clientHello(std::vector<std::uint8_t>(32, 7));
    // Cut anywhere after byte 13: never read past the end, never a ClientHello.
    for (std::size_t n = 14; n < good.size(); ++n)
        EXPECT_EQ(parseDtlsClientHello(std::span(good).first(n)).kind, DtlsHelloKind::malformed) << "cut at " << n;
    auto bad = [&](auto change) {
        auto d = good;
        change(d);
        return parseDtlsClientHello(d).kind;
    };
    EXPECT_EQ(bad([](auto& d) { d[1] = 3; }), DtlsHelloKind::malformed);       // TLS, not DTLS
    EXPECT_EQ(bad([](auto& d) { d[4] = 1; }), DtlsHelloKind::malformed);       // epoch 1: a session's encrypted record
    EXPECT_EQ(bad([](auto& d) { d[11] = 0xff; }), DtlsHelloKind::malformed);   // record longer than the datagram
    EXPECT_EQ(bad([](auto& d) { d[11] = 0; d[12] = 11; }), DtlsHelloKind::malformed);  // record shorter than a handshake header
    EXPECT_EQ(bad([](auto& d) { d[21] = 1; }), DtlsHelloKind::malformed);      // fragment_offset 1
    EXPECT_EQ(bad([](auto& d) { d[24] -= 1; }), DtlsHelloKind::malformed);     // fragment_length < length: fragmented
    EXPECT_EQ(bad([](auto& d) { d[16] -= 1; d[24] -= 1; }), DtlsHelloKind::malformed);  // message shorter than its record
    EXPECT_EQ(bad([](auto& d) { d[25] = 3; }), DtlsHelloKind::malformed);      // client_version not DTLS
    EXPECT_EQ(bad([](auto& d) { d[59] = 33; }), DtlsHelloKind::malformed);     // session_id longer than 32
    EXPECT_EQ(bad([](auto& d) { d[62] = 200; }), DtlsHelloKind::malformed);    // cookie beyond the message
    // A ClientHello body too short to hold client_version, random and the session_id length.
    std::vector<std::uint8_t> tiny = {22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 14, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 254, 253};
    EXPECT_EQ(parseDtlsClientHello(tiny).kind, DtlsHelloKind::malformed);
}

TEST(DtlsHello, WritesTheHelloVerifyRequestOfRfc6347) {
    const auto d = clientHello({}, 1);
    const auto hello = parseDtlsClientHello(d).hello;
    const std::vector<std::uint8_t> cookie = {0xc0, 0x0c, 0x1e};
    const std::vector<std::uint8_t> expected = {22, 254, 255, 0, 0, 1, 2, 3, 4, 5, 6, 0, 18,  // record: DTLS 1.0, its sequence
                                                3, 0, 0, 6, 0, 1, 0, 0, 0, 0, 0, 6,           // HelloVerifyRequest, message_seq 1
                                                254, 255, 3, 0xc0, 0x0c, 0x1e};
    EXPECT_EQ(dtlsHelloVerifyRequest(hello, cookie), expected);
    EXPECT_EQ(parseDtlsClientHello(expected).kind, DtlsHelloKind::other);  // not a ClientHello
    EXPECT_EQ(dtlsHelloVerifyRequest(hello, std::vector<std::uint8_t>(255, 0)).size(), 13u + 12 + 3 + 255);
    EXPECT_THROW((void)dtlsHelloVerifyRequest(hello, std::vector<std::uint8_t>(256, 0)), std::invalid_argument);
}

}  // namespace
}  // namespace tte::protocol
