// The machine-readable console lines of the firmware (docs/FIRMWARE.md): the boot line, the
// stored controller and the LED mirror. Portable so the host tests check the exact text.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tte/protocol/freestanding/block.h"
#include "tte/protocol/freestanding/controller_record.h"

namespace tte::device {

/// A fixed-capacity line; appends past the capacity are cut (the line stays valid text).
class Line {
public:
    static constexpr std::size_t kCapacity = 256;

    Line& text(std::string_view s);
    Line& decimal(std::uint64_t value);
    /// `digits` lower-case hex digits of `value`, zero-padded.
    Line& hex(std::uint64_t value, unsigned digits);
    Line& hexBytes(std::span<const std::uint8_t> bytes);
    [[nodiscard]] std::string_view view() const { return {m_data.data(), m_size}; }

private:
    std::array<char, kCapacity> m_data{};
    std::size_t m_size = 0;
};

/// `TTE BOOT OK ms=tte-000001.net devid=abcdef01 urn=<urn> msfp=<64 hex>`
Line bootOkLine(const protocol::ProvisioningBlock& block);
/// `TTE BOOT FAIL reason=<blank|magic|version|size|crc|field>` (+ ` field=<name>` for field)
Line bootFailLine(protocol::BlockError error, const protocol::BlockFault& fault);
/// `TTE CONTROLLER ip=<address> port=<n> fp=<64 hex> seq=<n>`
Line controllerLine(const protocol::ControllerRecord& record);
/// `LED <0|1> t=<ms>`
Line ledEdgeLine(bool on, std::uint64_t atMs);
/// `LED GAP t=<ms>`
Line ledGapLine(std::uint64_t atMs);

}  // namespace tte::device
