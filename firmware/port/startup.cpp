// Reset handler and vector table of the STM32F405 (Cortex-M4F): copies .data, zeroes .bss,
// enables the FPU, runs static constructors and calls tteMain(). Every unused exception and
// interrupt lands in a handler that parks the core, so a stray interrupt is visible in a
// debugger rather than running off into flash.
#include <cstdint>

#include "stm32f405.h"

extern "C" {
extern std::uint32_t __data_load;
extern std::uint32_t __data_start;
extern std::uint32_t __data_end;
extern std::uint32_t __bss_start;
extern std::uint32_t __bss_end;
extern std::uint32_t __estack;
using InitFunction = void (*)();
extern InitFunction __init_array_start[];
extern InitFunction __init_array_end[];

[[noreturn]] void tteMain();
void tteSysTickHandler();
[[noreturn]] void tteResetHandler();
[[noreturn]] void tteDefaultHandler();
// A pure virtual call is a bug; without this libsupc++ would drag in std::terminate and abort.
[[noreturn]] void __cxa_pure_virtual();
}

namespace {
using Vector = void (*)();
constexpr int kCoreVectors = 16;
constexpr int kIrqVectors = 82;  // STM32F405: IRQ 0..81 (RM0090 table 61)

struct VectorTable {
    std::uint32_t* initialStack;
    Vector core[kCoreVectors - 1];
    Vector irq[kIrqVectors];
};
}  // namespace

[[noreturn]] void tteDefaultHandler() {
    for (;;) {
        asm volatile("bkpt #0");
    }
}

void __cxa_pure_virtual() { tteDefaultHandler(); }

void tteResetHandler() {
    // The FPU first: the compiler may use FP registers anywhere after this point.
    tte::port::reg::at(tte::port::reg::kCpacr) |= (0xFu << 20);
    asm volatile("dsb\n\tisb" ::: "memory");
    const std::uint32_t* from = &__data_load;
    for (std::uint32_t* to = &__data_start; to < &__data_end;) {
        *to++ = *from++;
    }
    for (std::uint32_t* to = &__bss_start; to < &__bss_end;) {
        *to++ = 0;
    }
    for (InitFunction* f = __init_array_start; f < __init_array_end; ++f) {
        (*f)();
    }
    tteMain();
}

namespace {
constexpr VectorTable makeTable() {
    VectorTable t{};
    t.initialStack = &__estack;
    for (auto& v : t.core) {
        v = tteDefaultHandler;
    }
    for (auto& v : t.irq) {
        v = tteDefaultHandler;
    }
    t.core[0] = tteResetHandler;     // 1: reset
    t.core[14] = tteSysTickHandler;  // 15: SysTick
    return t;
}
}  // namespace

// The table the core reads at 0x08000000 (the linker script keeps .isr_vector first).
[[gnu::section(".isr_vector"), gnu::used]] constinit const VectorTable tteVectorTable = makeTable();
