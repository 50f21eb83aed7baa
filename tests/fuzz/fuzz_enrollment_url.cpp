// Fuzz target: parseEnrollmentUrl(); a URL that parses must build back to one that parses
// to the same values.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tte/protocol/enrollment_url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (auto use : {tte::protocol::MsIdUse::operational, tte::protocol::MsIdUse::example}) {
        auto url = tte::protocol::parseEnrollmentUrl(text, use);
        if (!url) {
            if (url.error().message.empty()) std::abort();
            continue;
        }
        auto again = tte::protocol::parseEnrollmentUrl(tte::protocol::buildEnrollmentUrl(*url), use);
        if (!again || again->ms != url->ms || again->devId != url->devId || !(again->otp == url->otp)) std::abort();
    }
    return 0;
}
