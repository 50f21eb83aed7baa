// Private helpers: fixed-width integers to and from bytes in either byte order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tte::protocol::detail {

inline std::uint64_t loadBe(std::span<const std::uint8_t> p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

inline void storeBe(std::span<std::uint8_t> p, std::size_t n, std::uint64_t v) {
    for (std::size_t i = n; i-- > 0;) {
        p[i] = static_cast<std::uint8_t>(v & 0xFFU);
        v >>= 8;
    }
}

inline std::uint64_t loadLe(std::span<const std::uint8_t> p, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

inline void storeLe(std::span<std::uint8_t> p, std::size_t n, std::uint64_t v) {
    for (std::size_t i = 0; i < n; ++i) {
        p[i] = static_cast<std::uint8_t>(v & 0xFFU);
        v >>= 8;
    }
}

/// True when every byte of `p` equals `value`.
inline bool allEqual(std::span<const std::uint8_t> p, std::uint8_t value) {
    for (std::uint8_t b : p) {
        if (b != value) return false;
    }
    return true;
}

/// A NUL-terminated, NUL-padded text field: 1..size-1 printable ASCII (0x21..0x7E) characters,
/// then only NULs. Returns the text length, or 0 when the field breaks a rule.
inline std::size_t textFieldLength(std::span<const char> field) {
    std::size_t n = 0;
    while (n < field.size() && field[n] != '\0') {
        const auto c = static_cast<unsigned char>(field[n]);
        if (c < 0x21 || c > 0x7E) return 0;
        ++n;
    }
    if (n == 0 || n == field.size()) return 0;
    for (std::size_t i = n; i < field.size(); ++i) {
        if (field[i] != '\0') return 0;
    }
    return n;
}

}  // namespace tte::protocol::detail
