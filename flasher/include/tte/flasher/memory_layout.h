// DfuSe memory layout strings (UM0424, ST's "DFU on STM32" extension): the name of each
// alternate setting of the DFU interface describes one memory, e.g.
//   @Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg
// = name, start address, then runs of COUNT*SIZE[unit]TYPE (unit ' ', 'K', 'M'; type a–g is
// a bit set: 1 readable, 2 erasable, 4 writable).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"

namespace tte::flasher {

/// One erasable unit (a flash sector or page).
struct MemorySector {
    std::uint32_t address = 0;
    std::uint32_t size = 0;
    std::uint8_t type = 0;  ///< bit 0 readable, bit 1 erasable, bit 2 writable
    int index = 0;          ///< position in the memory (STM32 sector number for Internal Flash)

    [[nodiscard]] bool readable() const { return (type & 1) != 0; }
    [[nodiscard]] bool erasable() const { return (type & 2) != 0; }
    [[nodiscard]] bool writable() const { return (type & 4) != 0; }
    [[nodiscard]] std::uint64_t end() const { return std::uint64_t{address} + size; }
};

/// The memory of one alternate setting.
struct MemoryLayout {
    std::string name;  ///< "Internal Flash" (trailing spaces removed)
    std::vector<MemorySector> sectors;

    /// The sector holding `address`, if any.
    [[nodiscard]] const MemorySector* sectorAt(std::uint32_t address) const;
    /// The sectors that [address, address + length) touches, in address order. Errors:
    /// outOfRange naming the first byte outside the layout (or a gap in it), and
    /// permissionDenied for a sector that is not writable.
    [[nodiscard]] Result<std::vector<MemorySector>> sectorsFor(std::uint32_t address, std::uint64_t length) const;
};

/// Parses a DfuSe layout string. Errors: invalidArgument naming what is wrong and where
/// (missing '@', bad address, bad COUNT*SIZE run, unknown unit or type letter, overflow).
Result<MemoryLayout> parseMemoryLayout(std::string_view text);

/// The layout string the STM32F405's ROM bootloader reports for its internal flash.
inline constexpr std::string_view kStm32F405FlashLayout =
    "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg";

}  // namespace tte::flasher
