// Strict hexadecimal conversions.
#include "tte/base/hex.h"

namespace tte {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string badChar(std::string_view what, std::string_view text, std::size_t i) {
    return std::string(what) + ": '" + std::string(1, text[i]) + "' at position " + std::to_string(i + 1) +
           " is not a hex digit";
}

}  // namespace

std::string toHex(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0xf]);
    }
    return out;
}

std::string toHex(std::uint64_t value, int digits) {
    std::string out(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = kDigits[value & 0xf];
        value >>= 4;
    }
    return out;
}

Result<std::vector<std::uint8_t>> fromHex(std::string_view text, std::string_view what) {
    if (text.size() % 2 != 0) {
        return fail(Errc::invalidArgument,
                    std::string(what) + ": odd number of hex digits (" + std::to_string(text.size()) + ")");
    }
    std::vector<std::uint8_t> out(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); ++i) {
        int v = nibble(text[i]);
        if (v < 0) return fail(Errc::invalidArgument, badChar(what, text, i));
        out[i / 2] = static_cast<std::uint8_t>((out[i / 2] << 4) | v);
    }
    return out;
}

Result<std::uint64_t> parseHexInt(std::string_view text, int digits, std::string_view what) {
    if (text.size() != static_cast<std::size_t>(digits)) {
        return fail(Errc::invalidArgument, std::string(what) + ": expected " + std::to_string(digits) +
                                               " hex digits, got " + std::to_string(text.size()));
    }
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        int v = nibble(text[i]);
        if (v < 0) return fail(Errc::invalidArgument, badChar(what, text, i));
        value = (value << 4) | static_cast<std::uint64_t>(v);
    }
    return value;
}

}  // namespace tte
