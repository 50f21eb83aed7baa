// Flash interface of the STM32F405 (RM0090 3.6): reading and programming the NVM sector.
// The sequence is the one real silicon needs (unlock FLASH_KEYR, PSIZE, BSY, error flags);
// every wait is bounded. QEMU's netduinoplus2 has no flash write path: there the programmed
// bytes do not read back and program() reports verifyFailed.
#include <cstring>

#include "board.h"
#include "stm32f405.h"

namespace tte::port {
namespace {

// A byte program takes 16 us at most (datasheet DS8626 table 41); the spin bound is far above
// that at 168 MHz and still ends within milliseconds if BSY were stuck.
constexpr std::uint32_t kBusySpins = 500000;

bool waitNotBusy() {
    for (std::uint32_t i = 0; i < kBusySpins; ++i) {
        if ((reg::at(reg::kFlashSr) & reg::kFlashSrBsy) == 0) {
            return true;
        }
    }
    return false;
}

bool unlock() {
    if ((reg::at(reg::kFlashCr) & reg::kFlashCrLock) == 0) {
        return true;
    }
    reg::at(reg::kFlashKeyr) = reg::kFlashKey1;
    reg::at(reg::kFlashKeyr) = reg::kFlashKey2;
    return (reg::at(reg::kFlashCr) & reg::kFlashCrLock) == 0;
}

void lock() {
    reg::at(reg::kFlashCr) = (reg::at(reg::kFlashCr) & ~reg::kFlashCrPg) | reg::kFlashCrLock;
}

FlashStatus programBytes(std::uintptr_t address, std::span<const std::uint8_t> data) {
    auto& cr = reg::at(reg::kFlashCr);
    cr = (cr & ~reg::kFlashCrPsizeMask) | reg::kFlashCrPsizeByte | reg::kFlashCrPg;
    for (std::size_t i = 0; i < data.size(); ++i) {
        *reinterpret_cast<volatile std::uint8_t*>(address + i) = data[i];
        asm volatile("dsb" ::: "memory");
        if (!waitNotBusy()) {
            return FlashStatus::busyTimeout;
        }
        if ((reg::at(reg::kFlashSr) & reg::kFlashSrErrors) != 0) {
            return FlashStatus::programError;
        }
    }
    return FlashStatus::ok;
}

bool inRange(std::size_t offset, std::size_t size) {
    return offset <= NvmFlash::kSize && size <= NvmFlash::kSize - offset;
}

}  // namespace

FlashStatus NvmFlash::read(std::size_t offset, std::span<std::uint8_t> out) const {
    if (!inRange(offset, out.size())) {
        return FlashStatus::outOfRange;
    }
    std::memcpy(out.data(), reinterpret_cast<const void*>(kBase + offset), out.size());
    return FlashStatus::ok;
}

FlashStatus NvmFlash::program(std::size_t offset, std::span<const std::uint8_t> data) {
    if (!inRange(offset, data.size())) {
        return FlashStatus::outOfRange;
    }
    if (!waitNotBusy()) {
        return FlashStatus::busyTimeout;
    }
    if (!unlock()) {
        return FlashStatus::locked;
    }
    reg::at(reg::kFlashSr) = reg::kFlashSrErrors;  // clear stale error flags (write 1)
    const FlashStatus status = programBytes(kBase + offset, data);
    lock();
    if (status != FlashStatus::ok) {
        return status;
    }
    const auto* stored = reinterpret_cast<const volatile std::uint8_t*>(kBase + offset);
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (stored[i] != data[i]) {
            return FlashStatus::verifyFailed;
        }
    }
    return FlashStatus::ok;
}

std::span<const std::uint8_t> provisioningBlock() {
    return {reinterpret_cast<const std::uint8_t*>(0x08008000), 2048};
}

}  // namespace tte::port
