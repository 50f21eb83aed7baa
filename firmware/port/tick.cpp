// SysTick at 1 kHz (ARMv7-M B3.3): the millisecond time base of the firmware.
#include "board.h"
#include "stm32f405.h"

// The one piece of state an exception handler must reach without arguments: the tick count,
// owned by the SysTick hardware's handler and read only through Tick.
namespace {
volatile std::uint64_t gTicks = 0;  // 64 bits: never wraps in a device's life
}

extern "C" void tteSysTickHandler() { gTicks = gTicks + 1; }

namespace tte::port {

Tick::Tick(std::uint32_t sysclkHz) {
    gTicks = 0;
    reg::at(reg::kSysTickRvr) = sysclkHz / 1000 - 1;
    reg::at(reg::kSysTickCvr) = 0;
    reg::at(reg::kSysTickCsr) = 0x7;  // processor clock, interrupt, enable
}

std::uint64_t Tick::nowMs() const {
    // A 64-bit load is two loads on the M4: read until the handler did not run in between.
    for (;;) {
        const std::uint64_t first = gTicks;
        const std::uint64_t second = gTicks;
        if (first == second) {
            return first;
        }
    }
}

void Tick::sleepUntil(std::uint64_t deadlineMs) const {
    while (nowMs() < deadlineMs) {
        asm volatile("wfi");
    }
}

}  // namespace tte::port
