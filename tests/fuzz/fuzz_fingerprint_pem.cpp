// Fuzz target: fingerprints from PEM text and DER bytes (OpenSSL's decoders behind ours).
#include <cstdint>
#include <span>
#include <string_view>

#include "tte/protocol/fingerprint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)tte::protocol::fingerprintFromPem(std::string_view(reinterpret_cast<const char*>(data), size));
    (void)tte::protocol::fingerprintFromDer(std::span<const std::uint8_t>(data, size));
    return 0;
}
