// Fuzz target: the provisioning block parser (freestanding and hosted). A block that parses
// must serialize back to the very same 2048 bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "tte/protocol/block.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    auto block = tte::protocol::parseBlock(in);
    tte::protocol::ProvisioningBlock raw;
    const auto e = tte::protocol::decodeBlock(in, raw);
    if (block.has_value() != (e == tte::protocol::BlockError::ok)) std::abort();
    if (block) {
        auto bytes = tte::protocol::serializeBlock(*block);
        if (!bytes || bytes->size() != size || std::memcmp(bytes->data(), data, size) != 0) std::abort();
    }
    return 0;
}
