// Fuzz target: the CBOR documents of CoAP (ControllerInfo, message 10; Checkin, message 11),
// first byte picks one. What parses must encode to CBOR that parses to the same document.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "tte/protocol/messages.h"

using namespace tte::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::span<const std::uint8_t> bytes(data + 1, size - 1);
    if (data[0] % 2 == 0) {
        if (auto c = ControllerInfo::fromCbor(bytes)) {
            auto again = ControllerInfo::fromCbor(c->toCbor());
            if (!again || again->cip != c->cip || again->cport != c->cport || !(again->cfingerprint == c->cfingerprint)) {
                std::abort();
            }
        }
    } else if (auto c = Checkin::fromCbor(bytes)) {
        auto again = Checkin::fromCbor(c->toCbor());
        if (!again || !(again->urn == c->urn)) std::abort();
    }
    return 0;
}
