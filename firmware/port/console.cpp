// USART1 console (RM0090 30) and the user LED (RM0090 8) of the STM32F405.
#include "board.h"
#include "stm32f405.h"

namespace tte::port {
namespace {

constexpr std::uint32_t kBaud = 115200;
constexpr std::uint32_t kTxeSpins = 100000;  // > 1 character time (87 us) at any clock
constexpr unsigned kTxPin = 9;               // PA9: USART1_TX, AF7
constexpr unsigned kLedPin = 10;             // PA10: the user LED

// ES0182 2.1.13: after enabling a peripheral clock, read the register back once before the
// first access to the peripheral.
void readBack(std::uintptr_t address) {
    [[maybe_unused]] const std::uint32_t value = reg::at(address);
}

void enableGpioA() {
    reg::at(reg::kRccAhb1Enr) |= reg::kRccAhb1GpioA;
    readBack(reg::kRccAhb1Enr);
}

void setMode(unsigned pin, std::uint32_t mode) {
    auto& moder = reg::at(reg::kGpioA + reg::kGpioModer);
    moder = (moder & ~(3u << (2 * pin))) | (mode << (2 * pin));
}

}  // namespace

Console::Console(std::uint32_t pclk2Hz) {
    enableGpioA();
    reg::at(reg::kRccApb2Enr) |= reg::kRccApb2Usart1;
    readBack(reg::kRccApb2Enr);
    auto& afrh = reg::at(reg::kGpioA + reg::kGpioAfrh);
    afrh = (afrh & ~(0xFu << (4 * (kTxPin - 8)))) | (7u << (4 * (kTxPin - 8)));
    setMode(kTxPin, 2u);  // alternate function
    // Oversampling by 16: BRR = pclk / baud as 12.4 fixed point, rounded.
    reg::at(reg::kUsartBrr) = (pclk2Hz + kBaud / 2) / kBaud;
    reg::at(reg::kUsartCr1) = reg::kUsartCr1Ue | reg::kUsartCr1Te;
}

void Console::put(char c) {
    for (std::uint32_t i = 0; i < kTxeSpins; ++i) {
        if ((reg::at(reg::kUsartSr) & reg::kUsartSrTxe) != 0) {
            reg::at(reg::kUsartDr) = static_cast<unsigned char>(c);
            return;
        }
    }
}

void Console::write(std::string_view text) {
    for (char c : text) {
        put(c);
    }
}

Led::Led() {
    enableGpioA();
    setMode(kLedPin, 1u);  // general-purpose output, push-pull
    set(false);
}

void Led::set(bool on) {
    // BSRR: set in the low half, reset in the high half; one store, no read-modify-write.
    reg::at(reg::kGpioA + reg::kGpioBsrr) = on ? (1u << kLedPin) : (1u << (kLedPin + 16));
}

}  // namespace tte::port
