// The STM32F405 port: clocks, the USART1 console, the user LED, the SysTick millisecond
// timer and the flash interface. The only code of the firmware that touches hardware
// (firmware/core/ stays portable and runs on the host too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace tte::port {

/// What configureClocks() achieved. On silicon the core runs from the PLL at 168 MHz
/// (25 MHz HSE on the Netduino Plus 2); when the HSE does not start it stays on the 16 MHz
/// HSI. `rccModelled` is false when the RCC does not hold what was written to it (QEMU
/// leaves the RCC unimplemented and clocks the core at the board's fixed 168 MHz).
struct ClockReport {
    std::uint32_t sysclkHz = 0;
    std::uint32_t pclk2Hz = 0;
    bool hseReady = false;
    bool pllReady = false;
    bool switched = false;
    bool rccModelled = true;
};

/// Brings the system clock to 168 MHz from the HSE through the PLL, with flash wait states
/// and bus prescalers set first. Every wait on a ready bit is bounded.
ClockReport configureClocks();

/// USART1 on PA9 (AF7), 115200 8N1, transmit only.
class Console {
public:
    /// Enables the clocks, the pin and the USART for `pclk2Hz`.
    explicit Console(std::uint32_t pclk2Hz);
    /// Writes `text`; a character whose TXE wait times out is dropped (never hangs).
    void write(std::string_view text);

private:
    void put(char c);
};

/// The user LED on PA10 (the Netduino Plus 2's blue LED), push-pull, active high.
class Led {
public:
    Led();
    void set(bool on);
};

/// A 1 kHz SysTick; the time base of the LED line code (15 bps) and of every timeout.
class Tick {
public:
    /// Starts SysTick from the core clock `sysclkHz` (must give an integral 1 kHz reload).
    explicit Tick(std::uint32_t sysclkHz);
    /// Milliseconds since the constructor ran.
    [[nodiscard]] std::uint64_t nowMs() const;
    /// Sleeps (WFI) until nowMs() >= `deadlineMs`.
    void sleepUntil(std::uint64_t deadlineMs) const;
};

/// Result of a flash operation of the NVM sector.
enum class FlashStatus : std::uint8_t {
    ok,
    outOfRange,     ///< the range is not inside the NVM sector
    locked,         ///< FLASH_CR stayed locked after the key sequence
    busyTimeout,    ///< BSY did not clear in time
    programError,   ///< FLASH_SR reported PGSERR/PGPERR/PGAERR/WRPERR/OPERR
    verifyFailed,   ///< a programmed byte does not read back (e.g. no flash write path)
};

/// Flash sector 3 (0x0800C000, 16 KiB), the controller record log of docs/PROTOCOL.md §9.
class NvmFlash {
public:
    static constexpr std::uintptr_t kBase = 0x0800C000;
    static constexpr std::size_t kSize = 16 * 1024;

    /// Copies `out.size()` bytes at `offset` from the memory-mapped sector.
    FlashStatus read(std::size_t offset, std::span<std::uint8_t> out) const;
    /// Programs bytes (PSIZE x8, the only size valid at any supply voltage), unlocking
    /// FLASH_CR first and locking it again after; never erases.
    FlashStatus program(std::size_t offset, std::span<const std::uint8_t> data);
};

/// The provisioning block at 0x08008000 (2048 bytes), as mapped in flash.
std::span<const std::uint8_t> provisioningBlock();

}  // namespace tte::port
