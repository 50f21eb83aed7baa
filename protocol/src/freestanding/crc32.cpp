// Table-driven CRC-32; the 1 KiB table is built at compile time and lives in flash.
#include "tte/protocol/freestanding/crc32.h"

#include <array>

namespace tte::protocol {
namespace {

constexpr std::array<std::uint32_t, 256> makeTable() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}

constexpr std::array<std::uint32_t, 256> kTable = makeTable();

}  // namespace

std::uint32_t crc32Update(std::uint32_t crc, std::span<const std::uint8_t> data) {
    std::uint32_t c = crc ^ 0xFFFFFFFFU;
    for (std::uint8_t b : data) c = kTable[(c ^ b) & 0xFFU] ^ (c >> 8);
    return c ^ 0xFFFFFFFFU;
}

std::uint32_t crc32(std::span<const std::uint8_t> data) { return crc32Update(0, data); }

}  // namespace tte::protocol
