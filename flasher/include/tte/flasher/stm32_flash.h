// The non-volatile memories of a simulated STM32F405: the main flash (1 MiB at 0x08000000 in
// 12 sectors: 4 x 16 KiB, 1 x 64 KiB, 7 x 128 KiB; bits that programming can only clear,
// sector and mass erase), the option bytes (write protection per sector, read protection),
// the OTP area and the factory signature (unique ID, flash size), with the erase and program
// times of the STM32F405 datasheet (DS8626, table "Flash memory programming", x32 parallelism).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "tte/base/error.h"
#include "tte/flasher/memory_layout.h"
#include "tte/flasher/stm32_device.h"

namespace tte::flasher {

/// Which datasheet column the simulated timings use.
enum class FlashTiming { typical, maximum };

class Stm32Flash {
public:
    static constexpr std::uint32_t kBase = 0x08000000;
    static constexpr std::uint32_t kSize = 1024 * 1024;
    static constexpr int kSectors = 12;
    /// End of the system-memory page modelled from the OTP area on (OTP, lock, signature).
    static constexpr std::uint32_t kSystemPageEnd = 0x1FFF7C00;

    Stm32Flash();

    [[nodiscard]] const MemoryLayout& layout() const { return m_layout; }
    [[nodiscard]] std::span<const std::uint8_t> bytes() const { return m_bytes; }
    /// Bytes at [address, address + n) clipped to the flash; empty when outside.
    [[nodiscard]] std::span<const std::uint8_t> read(std::uint32_t address, std::size_t n) const;
    [[nodiscard]] bool contains(std::uint32_t address, std::size_t n) const;

    /// Erases one sector to 0xFF. A write-protected sector keeps its data, and the call still
    /// reports success: that is what the ROM bootloader tells the host on real parts.
    void eraseSector(int sector);
    /// DfuSe mass erase: every sector that is not write-protected.
    void massErase();
    /// The erase that regressing RDP from level 1 to 0 performs: the whole main flash,
    /// write-protected sectors included; the option bytes stay (RM0090 §3.7.3).
    void eraseForRdpRegression();
    /// Programs `data` at `address` (inside the flash): each bit can only go 1 -> 0, as NOR
    /// flash does without an erase. Returns false, programming nothing, when a byte falls in a
    /// write-protected sector.
    bool program(std::uint32_t address, std::span<const std::uint8_t> data);

    /// Sector index holding `address`, or -1.
    [[nodiscard]] int sectorOf(std::uint32_t address) const;

    void setWriteProtected(int sector, bool on);
    [[nodiscard]] bool writeProtected(int sector) const { return (writeProtectMask() >> sector) & 1U; }
    [[nodiscard]] std::uint16_t writeProtectMask() const { return m_options.writeProtectMask(); }
    void setWriteProtectMask(std::uint16_t mask) { m_options.setWriteProtectMask(mask & 0x0FFF); }
    /// The option bytes as stored (they take effect at the next reset, which the ROM
    /// bootloader performs right after writing them).
    [[nodiscard]] const OptionBytes& options() const { return m_options; }
    void setOptions(const OptionBytes& options) { m_options = options; }
    /// RDP level as the option bytes encode it.
    [[nodiscard]] RdpLevel readProtection() const { return m_options.rdp(); }
    void setReadProtection(RdpLevel level) { m_options.setRdp(level); }

    [[nodiscard]] const McuUid& uid() const { return m_uid; }
    void setUid(const McuUid& uid) { m_uid = uid; }
    /// The bytes a CPU read of [address, address + n) returns in the memories modelled here:
    /// the main flash, the system-memory page from the OTP area on (OTP data and lock bytes,
    /// erased; unique ID; flash size 1024 KiB; reserved bytes 0xFF) up to 0x1FFF7BFF, and
    /// the 16 option bytes. Clipped to the end of the memory `address` lies in; empty when
    /// `address` is in none of them.
    [[nodiscard]] std::vector<std::uint8_t> readMapped(std::uint32_t address, std::size_t n) const;

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
    OptionBytes m_options = OptionBytes::factoryDefault();
    McuUid m_uid;
};

}  // namespace tte::flasher
