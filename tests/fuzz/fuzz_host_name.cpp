// Fuzz target: parseMsHostName(), parseDevId(), parseOtp(), parseFingerprint(),
// parseHostPort(), base64Decode(); what parses must print back to text that parses to the same
// value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tte/protocol/address.h"
#include "tte/protocol/crypto.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/ids.h"

using namespace tte::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto ms = parseMsHostName(text, MsIdUse::example)) {
        auto again = parseMsHostName(msHostName(*ms), MsIdUse::example);
        if (!again || *again != *ms) std::abort();
    }
    if (auto id = parseDevId(text); id && parseDevId(id->hex())->value != id->value) std::abort();
    if (auto otp = parseOtp(text); otp && !(*parseOtp(otp->hex()) == *otp)) std::abort();
    if (auto fp = parseFingerprint(text); fp && !(*parseFingerprint(fp->hex()) == *fp)) std::abort();
    if (auto hp = parseHostPort(text, "fuzz", PortZero::allowed)) {
        auto again = parseHostPort(formatHostPort(hp->host, hp->port), "fuzz", PortZero::allowed);
        if (!again || !(*again == *hp)) std::abort();
    }
    if (auto bytes = base64Decode(text); bytes && base64Encode(*bytes) != text) std::abort();
    return 0;
}
