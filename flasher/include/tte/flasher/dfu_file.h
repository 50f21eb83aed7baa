// DfuSe files (.dfu, ST UM0391): prefix "DfuSe", targets "Target" each with elements
// (address, size, bytes), and the DFU 1.1 suffix (bcdDevice, idProduct, idVendor,
// bcdDFU 0x011A, "UFD", length 16, CRC-32). Reading checks everything and says what is wrong.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "tte/base/error.h"
#include "tte/flasher/segment.h"
#include "tte/flasher/transport.h"

namespace tte::flasher {

struct DfuTarget {
    std::uint8_t altSetting = 0;  ///< 0 = Internal Flash on STM32
    std::string name;             ///< empty = unnamed
    std::vector<Segment> elements;
};

struct DfuFile {
    std::uint16_t vendorId = kStVendorId;
    std::uint16_t productId = kStDfuProductId;
    std::uint16_t bcdDevice = 0;
    std::vector<DfuTarget> targets;
};

/// Parses a DfuSe file. Errors (invalidArgument unless said, each naming the problem):
/// truncated file; no DFU suffix ("UFD"); bad suffix length; corrupt (CRC mismatch, with both
/// values); unsupported (bcdDFU other than 0x011A, i.e. not DfuSe; a TI/LMDFU prefix);
/// no "DfuSe" prefix; bad prefix version; image size disagreeing with the file; target
/// count disagreeing with the targets present; bad "Target" signature; element running
/// past its target; target size disagreeing with its elements; overlapping elements.
Result<DfuFile> parseDfuFile(std::span<const std::uint8_t> bytes);

/// Serializes `file` (checks as parseDfuFile would: at least one target, no overlapping or
/// empty elements, names under 255 bytes). Errors: invalidArgument.
Result<std::vector<std::uint8_t>> serializeDfuFile(const DfuFile& file);

/// A DfuSe file holding `image` at `address` as one element of target 0 ("ST...").
DfuFile dfuFileForImage(std::uint32_t address, std::vector<std::uint8_t> image);

/// The DFU suffix CRC: CRC-32 of everything before the CRC field, inverted (as dfu-util).
std::uint32_t dfuSuffixCrc(std::span<const std::uint8_t> bytes);

/// Reads / writes a whole file. Errors: io with the path and the reason.
Result<std::vector<std::uint8_t>> readFileBytes(const std::filesystem::path& path);
Status writeFileBytes(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

}  // namespace tte::flasher
