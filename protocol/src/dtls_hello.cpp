// DTLS ClientHello reader and HelloVerifyRequest writer (dtls_hello.h).
#include "tte/protocol/dtls_hello.h"

#include <algorithm>
#include <stdexcept>

namespace tte::protocol {
namespace {

constexpr std::uint8_t kHandshake = 22;
constexpr std::uint8_t kClientHello = 1;
constexpr std::uint8_t kHelloVerifyRequest = 3;
constexpr std::uint8_t kDtlsMajor = 254;  // DTLS versions are {254, 255} (1.0) and {254, 253} (1.2)
constexpr std::size_t kRandom = 32;
constexpr std::size_t kMaxSessionId = 32;

std::size_t be16(const std::uint8_t* p) { return static_cast<std::size_t>(p[0]) << 8 | p[1]; }
std::size_t be24(const std::uint8_t* p) { return static_cast<std::size_t>(p[0]) << 16 | be16(p + 1); }

void put16(std::vector<std::uint8_t>& out, std::size_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}
void put24(std::vector<std::uint8_t>& out, std::size_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    put16(out, v);
}

}  // namespace

DtlsHelloParse parseDtlsClientHello(std::span<const std::uint8_t> d) {
    DtlsHelloParse r;
    // libcoap 4.3.1's own test before it makes a session (coap_endpoint_get_session).
    if (d.size() < kDtlsRecordHeader + 1 || d[0] != kHandshake || d[kDtlsRecordHeader] != kClientHello) return r;
    r.kind = DtlsHelloKind::malformed;
    if (d[1] != kDtlsMajor || d[3] != 0 || d[4] != 0) return r;  // not DTLS, or not epoch 0
    const std::size_t recordLength = be16(&d[11]);
    if (recordLength > d.size() - kDtlsRecordHeader || recordLength < kDtlsHandshakeHeader) return r;
    const std::uint8_t* h = &d[kDtlsRecordHeader];
    const std::size_t length = be24(h + 1);
    const std::size_t fragmentOffset = be24(h + 6);
    const std::size_t fragmentLength = be24(h + 9);
    // One whole message filling the record, as OpenSSL's DTLSv1_listen wants it.
    if (fragmentOffset != 0 || fragmentLength != length || kDtlsHandshakeHeader + length != recordLength) return r;
    std::span<const std::uint8_t> body(h + kDtlsHandshakeHeader, length);
    // client_version(2) random(32) session_id<0..32> cookie<0..255>
    if (body.size() < 2 + kRandom + 1 || body[0] != kDtlsMajor) return r;
    std::size_t at = 2 + kRandom;
    const std::size_t sessionIdLength = body[at++];
    if (sessionIdLength > kMaxSessionId || sessionIdLength + 1 > body.size() - at) return r;
    at += sessionIdLength;
    const std::size_t cookieLength = body[at++];
    if (cookieLength > body.size() - at) return r;
    r.kind = DtlsHelloKind::clientHello;
    std::copy_n(&d[5], 6, r.hello.recordSequence.begin());
    r.hello.messageSequence = static_cast<std::uint16_t>(be16(h + 4));
    r.hello.cookie = body.subspan(at, cookieLength);
    return r;
}

std::vector<std::uint8_t> dtlsHelloVerifyRequest(const DtlsClientHello& hello, std::span<const std::uint8_t> cookie) {
    if (cookie.size() > kDtlsMaxCookie) throw std::invalid_argument("a DTLS cookie has at most 255 bytes");
    const std::size_t bodyLength = 2 + 1 + cookie.size();
    std::vector<std::uint8_t> out;
    out.reserve(kDtlsRecordHeader + kDtlsHandshakeHeader + bodyLength);
    out.insert(out.end(), {kHandshake, kDtlsMajor, 255, 0, 0});  // DTLS 1.0 record, epoch 0
    out.insert(out.end(), hello.recordSequence.begin(), hello.recordSequence.end());
    put16(out, kDtlsHandshakeHeader + bodyLength);
    out.push_back(kHelloVerifyRequest);
    put24(out, bodyLength);
    put16(out, hello.messageSequence);
    put24(out, 0);           // fragment_offset
    put24(out, bodyLength);  // fragment_length
    out.insert(out.end(), {kDtlsMajor, 255});  // server_version
    out.push_back(static_cast<std::uint8_t>(cookie.size()));
    out.insert(out.end(), cookie.begin(), cookie.end());
    return out;
}

}  // namespace tte::protocol
