// Zeroizing and constant-time helpers for secrets.
#include "tte/base/secret.h"

#include <cstring>

namespace tte {

void secureZero(void* data, std::size_t size) {
    // explicit_bzero is glibc's primitive for exactly this: a memset the compiler keeps.
    explicit_bzero(data, size);
}

bool constantTimeEqual(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
    if (a.size() != b.size()) return false;
    volatile std::uint8_t diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff = static_cast<std::uint8_t>(diff | (a[i] ^ b[i]));
    return diff == 0;
}

}  // namespace tte
