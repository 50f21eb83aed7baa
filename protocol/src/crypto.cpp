// SHA-256 and HMAC-SHA256 through OpenSSL's one-shot functions.
#include "crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace tte::protocol::detail {

Digest sha256(std::span<const std::uint8_t> data) {
    Digest out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size()) {
        throw std::runtime_error("OpenSSL SHA-256 failed");  // only on out-of-memory
    }
    return out;
}

Digest hmacSha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
    static constexpr std::uint8_t kEmpty = 0;
    Digest out{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
             data.empty() ? &kEmpty : data.data(), data.size(), out.data(), &len) == nullptr ||
        len != out.size()) {
        throw std::runtime_error("OpenSSL HMAC-SHA256 failed");  // only on out-of-memory
    }
    return out;
}

}  // namespace tte::protocol::detail
