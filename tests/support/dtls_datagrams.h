// Hand-made DTLS 1.2 first-flight datagrams for tests of the cookie gate on a real socket
// (server/src/dtls_gate.h): a minimal ClientHello with or without a cookie, and the cookie a
// HelloVerifyRequest carries. Header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tte::test {

/// A minimal DTLS 1.2 ClientHello (record sequence `seq`, random filled with `seq`, one cipher
/// suite, no extensions) carrying `cookie` (empty: none), in `epoch` (not 0: no ClientHello to
/// the gate, which takes it for a record of a session).
inline std::vector<std::uint8_t> clientHello(std::uint8_t seq, std::uint8_t epoch = 0, std::span<const std::uint8_t> cookie = {}) {
    std::vector<std::uint8_t> body = {254, 253};
    body.resize(2 + 32, seq);  // random
    body.push_back(0);         // no session_id
    body.push_back(static_cast<std::uint8_t>(cookie.size()));
    body.insert(body.end(), cookie.begin(), cookie.end());
    body.insert(body.end(), {0, 2, 0xc0, 0x2b, 1, 0});  // one suite, null compression
    const auto n = static_cast<std::uint8_t>(body.size());
    std::vector<std::uint8_t> d = {22, 254, 253, 0, epoch, 0, 0, 0, 0, 0, seq, 0, static_cast<std::uint8_t>(n + 12),
                                   1, 0, 0, n, 0, 0, 0, 0, 0, 0, 0, n};
    d.insert(d.end(), body.begin(), body.end());
    return d;
}

/// The cookie of a HelloVerifyRequest datagram (record 13 bytes, handshake header 12,
/// server_version 2, cookie length 1); empty when `hvr` is none.
inline std::vector<std::uint8_t> helloVerifyCookie(std::span<const std::uint8_t> hvr) {
    constexpr std::size_t at = 13 + 12 + 2;
    if (hvr.size() <= at || hvr[0] != 22 || hvr[13] != 3 || hvr.size() < at + 1 + hvr[at]) return {};
    return {hvr.begin() + at + 1, hvr.begin() + at + 1 + hvr[at]};
}

}  // namespace tte::test
