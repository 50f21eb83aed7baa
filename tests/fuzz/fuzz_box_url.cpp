// Fuzz target: parseBoxUrl(); a URL that parses must build back to one that parses equally.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tte/protocol/box.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto box = tte::protocol::parseBoxUrl(text, tte::protocol::MsIdUse::example);
    if (!box) return 0;
    auto built = tte::protocol::buildBoxUrl(*box);
    if (!built) std::abort();
    auto again = tte::protocol::parseBoxUrl(*built, tte::protocol::MsIdUse::example);
    if (!again || again->first != box->first || again->last != box->last ||
        !std::ranges::equal(again->secret.bytes(), box->secret.bytes())) {
        std::abort();
    }
    return 0;
}
