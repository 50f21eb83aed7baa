// DtlsGate (dtls_gate.h).
#include "dtls_gate.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "tte/protocol/dtls_hello.h"

namespace tte::server {
namespace {

/// The bytes of `source` a cookie covers: family, address, port.
std::size_t sourceBytes(const DatagramSource& s, std::uint8_t (&out)[1 + 16 + 2]) {
    if (s.address.ss_family == AF_INET) {
        const auto& a = reinterpret_cast<const sockaddr_in&>(s.address);
        out[0] = 4;
        std::memcpy(out + 1, &a.sin_addr, 4);
        std::memcpy(out + 5, &a.sin_port, 2);
        return 7;
    }
    if (s.address.ss_family == AF_INET6) {
        const auto& a = reinterpret_cast<const sockaddr_in6&>(s.address);
        out[0] = 6;
        std::memcpy(out + 1, &a.sin6_addr, 16);
        std::memcpy(out + 17, &a.sin6_port, 2);
        return 19;
    }
    out[0] = 0;
    return 1;
}

}  // namespace

std::size_t DtlsGate::AddressHash::operator()(const AddressKey& k) const noexcept {
    std::uint64_t a = 0, b = 0;
    std::memcpy(&a, k.data(), 8);
    std::memcpy(&b, k.data() + 8, 8);
    // Not keyed: a host chooses only its own address, and the table is bounded.
    return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ULL) ^ (b + 0x632BE59BD9B4E019ULL + (a >> 29)));
}

DtlsGate::DtlsGate(DtlsGateOptions options, HasSession hasSession)
    : m_options(options), m_hasSession(std::move(hasSession)), m_secret(std::size_t{32}), m_epoch(Clock::now()) {
    if (RAND_bytes(m_secret.mutableBytes().data(), static_cast<int>(m_secret.size())) != 1)
        throw std::runtime_error("OpenSSL's random generator gave no secret for the DTLS cookies");
    m_passedCookies.reserve(64);
}

std::array<std::uint8_t, DtlsGate::kCookieSize> DtlsGate::cookieAt(const DatagramSource& source, std::int64_t bucket) const {
    std::uint8_t src[1 + 16 + 2];
    std::size_t n = sourceBytes(source, src);
    std::uint8_t data[sizeof src + 8];
    std::memcpy(data, src, n);
    for (int i = 7; i >= 0; --i) data[n++] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(bucket) >> (8 * i));
    std::array<std::uint8_t, kCookieSize> out{};
    unsigned length = 0;
    if (HMAC(EVP_sha256(), m_secret.bytes().data(), static_cast<int>(m_secret.size()), data, n, out.data(), &length) == nullptr ||
        length != kCookieSize)
        throw std::runtime_error("OpenSSL could not compute HMAC-SHA256 for a DTLS cookie");
    return out;
}

std::array<std::uint8_t, DtlsGate::kCookieSize> DtlsGate::cookie(const DatagramSource& source, Clock::time_point now) const {
    return cookieAt(source, (now - m_epoch) / kCookieBucket);
}

bool DtlsGate::validCookie(const DatagramSource& source, std::span<const std::uint8_t> cookie, Clock::time_point now) const {
    if (cookie.size() != kCookieSize) return false;
    const std::int64_t bucket = (now - m_epoch) / kCookieBucket;
    for (std::int64_t b : {bucket, bucket - 1}) {
        const auto expected = cookieAt(source, b);
        if (CRYPTO_memcmp(expected.data(), cookie.data(), kCookieSize) == 0) return true;
    }
    return false;
}

bool DtlsGate::admitted(std::span<const std::uint8_t> cookie) const {
    if (cookie.size() != kCookieSize) return false;
    return std::any_of(m_passedCookies.begin(), m_passedCookies.end(),
                       [&](const auto& c) { return CRYPTO_memcmp(c.data(), cookie.data(), kCookieSize) == 0; });
}

void DtlsGate::forgetFullBuckets(Clock::time_point now) {
    const double rate = m_options.handshakesPerAddressPerSecond;
    const double burst = m_options.handshakeBurstPerAddress;
    std::erase_if(m_buckets, [&](const auto& entry) {
        const double idle = std::chrono::duration<double>(now - entry.second.updated).count();
        return entry.second.tokens + idle * rate >= burst;
    });
}

bool DtlsGate::takeToken(const DatagramSource& source, Clock::time_point now) {
    AddressKey key{};
    if (source.address.ss_family == AF_INET) {
        key[10] = key[11] = 0xff;  // ::ffff:a.b.c.d, as a dual-stack socket shows it
        std::memcpy(&key[12], &reinterpret_cast<const sockaddr_in&>(source.address).sin_addr, 4);
    } else if (source.address.ss_family == AF_INET6) {
        std::memcpy(key.data(), &reinterpret_cast<const sockaddr_in6&>(source.address).sin6_addr, 16);
    }
    const double rate = m_options.handshakesPerAddressPerSecond;
    const double burst = m_options.handshakeBurstPerAddress;
    auto it = m_buckets.find(key);
    if (it == m_buckets.end()) {
        if (m_buckets.size() >= m_options.maxAddresses) {
            forgetFullBuckets(now);
            if (m_buckets.size() >= m_options.maxAddresses) return true;  // no room: not limited
        }
        it = m_buckets.emplace(key, Bucket{burst, now}).first;
    }
    Bucket& b = it->second;
    b.tokens = std::min(burst, b.tokens + std::chrono::duration<double>(now - b.updated).count() * rate);
    b.updated = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
}

void DtlsGate::taken() {
    if (m_pending != nullptr) ++(m_counters.*m_pending);
    m_pending = nullptr;
}

DtlsGate::Verdict DtlsGate::screen(const DatagramSource& source, std::span<const std::uint8_t> datagram, Clock::time_point now) {
    m_pending = nullptr;
    const auto parsed = protocol::parseDtlsClientHello(datagram);
    switch (parsed.kind) {
    case protocol::DtlsHelloKind::other:
        return Verdict::pass;
    case protocol::DtlsHelloKind::malformed:
        // An encrypted handshake record of a session may have 1 where a ClientHello has its type.
        if (m_hasSession && m_hasSession(source)) return Verdict::pass;
        m_pending = &CoapGateCounts::malformedDropped;
        return Verdict::drop;
    case protocol::DtlsHelloKind::clientHello:
        break;
    }
    if (!validCookie(source, parsed.hello.cookie, now)) {
        const auto c = cookie(source, now);
        m_answer = protocol::dtlsHelloVerifyRequest(parsed.hello, c);
        m_pending = &CoapGateCounts::helloVerifyRequests;
        return Verdict::answer;
    }
    if (!takeToken(source, now)) {
        m_pending = &CoapGateCounts::rateLimited;
        return Verdict::drop;
    }
    std::array<std::uint8_t, kCookieSize> c{};
    std::copy(parsed.hello.cookie.begin(), parsed.hello.cookie.end(), c.begin());
    m_passedCookies.push_back(c);
    ++m_counters.admitted;
    return Verdict::pass;
}

}  // namespace tte::server
