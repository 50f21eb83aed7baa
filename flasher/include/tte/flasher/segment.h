// A run of bytes for an address in device memory: the unit of writing and of .dfu elements.
#pragma once

#include <cstdint>
#include <vector>

namespace tte::flasher {

/// Bytes to place at an address (firmware at 0x08000000, provisioning block at 0x08008000).
struct Segment {
    std::uint32_t address = 0;
    std::vector<std::uint8_t> bytes;
};

}  // namespace tte::flasher
