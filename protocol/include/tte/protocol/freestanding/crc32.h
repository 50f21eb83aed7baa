// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib and Ethernet) for the
// provisioning block and the controller record (docs/PROTOCOL.md §9). Freestanding: builds
// for the STM32 with -ffreestanding -fno-exceptions, no heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tte::protocol {

/// CRC-32 of `data` (crc32("123456789") == 0xCBF43926). Never fails.
std::uint32_t crc32(std::span<const std::uint8_t> data);

/// Continues a CRC-32: crc32Update(crc32(a), b) == crc32(a ‖ b). Start with crc = 0.
std::uint32_t crc32Update(std::uint32_t crc, std::span<const std::uint8_t> data);

}  // namespace tte::protocol
