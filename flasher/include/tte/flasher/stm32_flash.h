// The flash memory of a simulated STM32F405: 1 MiB at 0x08000000 in 12 sectors (4 x 16 KiB,
// 1 x 64 KiB, 7 x 128 KiB), bits that programming can only clear (1 -> 0), sector erase,
// write protection per sector (nWRP) and read protection (RDP), with the erase and program
// times of the STM32F405 datasheet (DS8626, table "Flash memory programming", x32 parallelism).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "tte/base/error.h"
#include "tte/flasher/memory_layout.h"

namespace tte::flasher {

/// Which datasheet column the simulated timings use.
enum class FlashTiming { typical, maximum };

class Stm32Flash {
public:
    static constexpr std::uint32_t kBase = 0x08000000;
    static constexpr std::uint32_t kSize = 1024 * 1024;
    static constexpr int kSectors = 12;

    Stm32Flash();

    [[nodiscard]] const MemoryLayout& layout() const { return m_layout; }
    [[nodiscard]] std::span<const std::uint8_t> bytes() const { return m_bytes; }
    /// Bytes at [address, address + n) clipped to the flash; empty when outside.
    [[nodiscard]] std::span<const std::uint8_t> read(std::uint32_t address, std::size_t n) const;
    [[nodiscard]] bool contains(std::uint32_t address, std::size_t n) const;

    /// Erases one sector to 0xFF. A write-protected sector keeps its data, and the call still
    /// reports success: that is what the ROM bootloader tells the host on real parts.
    void eraseSector(int sector);
    void massErase();
    /// Programs `data` at `address` (inside the flash): each bit can only go 1 -> 0, as NOR
    /// flash does without an erase. Returns false, programming nothing, when a byte falls in a
    /// write-protected sector.
    bool program(std::uint32_t address, std::span<const std::uint8_t> data);

    /// Sector index holding `address`, or -1.
    [[nodiscard]] int sectorOf(std::uint32_t address) const;

    void setWriteProtected(int sector, bool on);
    [[nodiscard]] bool writeProtected(int sector) const { return (m_wrpMask >> sector) & 1U; }
    [[nodiscard]] std::uint16_t writeProtectMask() const { return m_wrpMask; }
    void setWriteProtectMask(std::uint16_t mask) { m_wrpMask = mask & 0x0FFF; }
    /// RDP level 0 (open) or 1 (flash not readable nor writable from the bootloader).
    void setReadProtection(int level) { m_rdpLevel = level; }
    [[nodiscard]] int readProtection() const { return m_rdpLevel; }

    /// Datasheet durations: sector erase 16 KiB 250/500 ms, 64 KiB 550/1100 ms, 128 KiB
    /// 1/2 s; mass erase 8/16 s; word (32-bit) program 16/100 us.
    [[nodiscard]] static std::chrono::nanoseconds eraseTime(std::uint32_t sectorSize, FlashTiming timing);
    [[nodiscard]] static std::chrono::nanoseconds massEraseTime(FlashTiming timing);
    [[nodiscard]] static std::chrono::nanoseconds programTime(std::size_t bytes, FlashTiming timing);

    /// Saves / loads the whole flash as a raw 1 MiB image (what QEMU and tte-device use).
    /// Errors: io with the path and errno text; invalidArgument when the file is not 1 MiB.
    Status saveImage(const std::filesystem::path& path) const;
    Status loadImage(const std::filesystem::path& path);

private:
    MemoryLayout m_layout;
    std::vector<std::uint8_t> m_bytes;
    std::uint16_t m_wrpMask = 0;
    int m_rdpLevel = 0;
};

}  // namespace tte::flasher
