// Register map of the STM32F405 parts the firmware touches (RM0090), and the one accessor
// through which every register access goes. Only firmware/port/ includes this file.
#pragma once

#include <cstdint>

namespace tte::port::reg {

/// The memory-mapped 32-bit register at `address`.
inline volatile std::uint32_t& at(std::uintptr_t address) {
    return *reinterpret_cast<volatile std::uint32_t*>(address);
}

// RCC (RM0090 7.3)
inline constexpr std::uintptr_t kRcc = 0x40023800;
inline constexpr std::uintptr_t kRccCr = kRcc + 0x00;
inline constexpr std::uintptr_t kRccPllCfgr = kRcc + 0x04;
inline constexpr std::uintptr_t kRccCfgr = kRcc + 0x08;
inline constexpr std::uintptr_t kRccAhb1Enr = kRcc + 0x30;
inline constexpr std::uintptr_t kRccApb2Enr = kRcc + 0x44;
inline constexpr std::uint32_t kRccCrHseOn = 1u << 16;
inline constexpr std::uint32_t kRccCrHseRdy = 1u << 17;
inline constexpr std::uint32_t kRccCrPllOn = 1u << 24;
inline constexpr std::uint32_t kRccCrPllRdy = 1u << 25;
inline constexpr std::uint32_t kRccAhb1GpioA = 1u << 0;
inline constexpr std::uint32_t kRccApb2Usart1 = 1u << 4;

// Flash interface (RM0090 3.9)
inline constexpr std::uintptr_t kFlashIf = 0x40023C00;
inline constexpr std::uintptr_t kFlashAcr = kFlashIf + 0x00;
inline constexpr std::uintptr_t kFlashKeyr = kFlashIf + 0x04;
inline constexpr std::uintptr_t kFlashSr = kFlashIf + 0x0C;
inline constexpr std::uintptr_t kFlashCr = kFlashIf + 0x10;
inline constexpr std::uint32_t kFlashKey1 = 0x45670123;
inline constexpr std::uint32_t kFlashKey2 = 0xCDEF89AB;
inline constexpr std::uint32_t kFlashSrBsy = 1u << 16;
inline constexpr std::uint32_t kFlashSrErrors = 0xF2;  // PGSERR PGPERR PGAERR WRPERR OPERR
inline constexpr std::uint32_t kFlashCrPg = 1u << 0;
inline constexpr std::uint32_t kFlashCrPsizeByte = 0u << 8;
inline constexpr std::uint32_t kFlashCrPsizeMask = 3u << 8;
inline constexpr std::uint32_t kFlashCrLock = 1u << 31;

// GPIOA (RM0090 8.4)
inline constexpr std::uintptr_t kGpioA = 0x40020000;
inline constexpr std::uintptr_t kGpioModer = 0x00;
inline constexpr std::uintptr_t kGpioOspeedr = 0x08;
inline constexpr std::uintptr_t kGpioBsrr = 0x18;
inline constexpr std::uintptr_t kGpioAfrh = 0x24;

// USART1 (RM0090 30.6)
inline constexpr std::uintptr_t kUsart1 = 0x40011000;
inline constexpr std::uintptr_t kUsartSr = kUsart1 + 0x00;
inline constexpr std::uintptr_t kUsartDr = kUsart1 + 0x04;
inline constexpr std::uintptr_t kUsartBrr = kUsart1 + 0x08;
inline constexpr std::uintptr_t kUsartCr1 = kUsart1 + 0x0C;
inline constexpr std::uint32_t kUsartSrTxe = 1u << 7;
inline constexpr std::uint32_t kUsartCr1Ue = 1u << 13;
inline constexpr std::uint32_t kUsartCr1Te = 1u << 3;

// Cortex-M4 system control space (ARMv7-M ARM B3)
inline constexpr std::uintptr_t kSysTickCsr = 0xE000E010;
inline constexpr std::uintptr_t kSysTickRvr = 0xE000E014;
inline constexpr std::uintptr_t kSysTickCvr = 0xE000E018;
inline constexpr std::uintptr_t kCpacr = 0xE000ED88;
inline constexpr std::uintptr_t kAircr = 0xE000ED0C;

}  // namespace tte::port::reg
