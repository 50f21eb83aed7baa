// System clock set-up of the STM32F405 (RM0090 6.2, 7.3): HSE 25 MHz -> PLL -> 168 MHz.
#include "board.h"
#include "stm32f405.h"

namespace tte::port {
namespace {

// Bounded waits before SysTick runs: a loop count well above the HSE start-up time
// (about 2 ms) at the 16 MHz reset clock, so a dead crystal cannot hang the boot.
constexpr std::uint32_t kReadySpins = 200000;

bool waitFor(std::uintptr_t address, std::uint32_t mask, std::uint32_t value) {
    for (std::uint32_t i = 0; i < kReadySpins; ++i) {
        if ((reg::at(address) & mask) == value) {
            return true;
        }
    }
    return false;
}

constexpr std::uint32_t kHsiHz = 16000000;
constexpr std::uint32_t kSysclkHz = 168000000;
// PLL: M = 25 (1 MHz input), N = 336, P = 2 (168 MHz), Q = 7 (48 MHz USB), source HSE.
constexpr std::uint32_t kPllCfgr = 25u | (336u << 6) | (0u << 16) | (1u << 22) | (7u << 24);
constexpr std::uint32_t kPllCfgrFields = 0x3Fu | (0x1FFu << 6) | (3u << 16) | (1u << 22) | (0xFu << 24);
// AHB /1, APB1 /4 (42 MHz), APB2 /2 (84 MHz).
constexpr std::uint32_t kBusPrescalers = (0u << 4) | (5u << 10) | (4u << 13);
constexpr std::uint32_t kSwPll = 2u;
constexpr std::uint32_t kSwsMask = 3u << 2;
constexpr std::uint32_t kSwsPll = 2u << 2;
// 5 wait states at 168 MHz and 2.7-3.6 V, prefetch and both caches on (RM0090 table 10).
constexpr std::uint32_t kFlashAcr = 5u | (1u << 8) | (1u << 9) | (1u << 10);

}  // namespace

ClockReport configureClocks() {
    ClockReport report;
    report.sysclkHz = kHsiHz;
    report.pclk2Hz = kHsiHz;
    reg::at(reg::kRccCr) |= reg::kRccCrHseOn;
    report.rccModelled = (reg::at(reg::kRccCr) & reg::kRccCrHseOn) != 0;
    if (!report.rccModelled) {
        // No RCC behind the address (an emulator): the core already runs at the board clock.
        report.sysclkHz = kSysclkHz;
        report.pclk2Hz = kSysclkHz / 2;
        return report;
    }
    report.hseReady = waitFor(reg::kRccCr, reg::kRccCrHseRdy, reg::kRccCrHseRdy);
    if (!report.hseReady) {
        reg::at(reg::kRccCr) &= ~reg::kRccCrHseOn;
        return report;
    }
    // Bits 31:28 and the other gaps are reserved: keep their reset value (RM0090 7.3.2).
    auto& pllcfgr = reg::at(reg::kRccPllCfgr);
    pllcfgr = (pllcfgr & ~kPllCfgrFields) | kPllCfgr;
    reg::at(reg::kRccCr) |= reg::kRccCrPllOn;
    report.pllReady = waitFor(reg::kRccCr, reg::kRccCrPllRdy, reg::kRccCrPllRdy);
    if (!report.pllReady) {
        return report;
    }
    // Wait states before the clock goes up, prescalers before the switch (RM0090 3.5.1).
    reg::at(reg::kFlashAcr) = kFlashAcr;
    reg::at(reg::kRccCfgr) = kBusPrescalers;
    reg::at(reg::kRccCfgr) = kBusPrescalers | kSwPll;
    report.switched = waitFor(reg::kRccCfgr, kSwsMask, kSwsPll);
    if (report.switched) {
        report.sysclkHz = kSysclkHz;
        report.pclk2Hz = kSysclkHz / 2;
    }
    return report;
}

}  // namespace tte::port
