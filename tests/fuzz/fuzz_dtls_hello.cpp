// Fuzz target: the DTLS ClientHello reader of the MotherShip's cookie gate, and the
// HelloVerifyRequest written for what it read, which must read back as no ClientHello.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "tte/protocol/dtls_hello.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> datagram(data, size);
    const auto r = tte::protocol::parseDtlsClientHello(datagram);
    if (r.kind != tte::protocol::DtlsHelloKind::clientHello) return 0;
    // The cookie lies inside the datagram.
    if (!r.hello.cookie.empty() && (r.hello.cookie.data() < data || r.hello.cookie.data() + r.hello.cookie.size() > data + size))
        std::abort();
    const auto answer = tte::protocol::dtlsHelloVerifyRequest(r.hello, r.hello.cookie);
    if (tte::protocol::parseDtlsClientHello(answer).kind != tte::protocol::DtlsHelloKind::other) std::abort();
    return 0;
}
