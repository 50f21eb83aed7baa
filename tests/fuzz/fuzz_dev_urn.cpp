// Fuzz target: parseDevUrn() must agree with the firmware's checkDevUrn(), and a parsed URN's
// canonical text must parse to the same URN.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "tte/protocol/freestanding/block.h"
#include "tte/protocol/ids.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto urn = tte::protocol::parseDevUrn(text);
    std::uint64_t serial = 0;
    const bool firmwareOk = tte::protocol::checkDevUrn(std::span<const char>(text.data(), text.size()), serial);
    if (urn.has_value() != firmwareOk) std::abort();
    if (urn) {
        if (urn->serial != serial) std::abort();
        auto again = tte::protocol::parseDevUrn(urn->text);
        if (!again || !(*again == *urn)) std::abort();
    }
    return 0;
}
