// The TTE firmware for the STM32F405: checks the provisioning block, prints its identity
// (or why it failed) on USART1, shows a stored controller, and blinks the LED frame of draft
// 5.1 at 15 bit/s, mirroring every LED edge on the console. The board image has no network,
// so the CoAP enrollment (firmware/core Enrollment) runs in `tte-device` on a host instead.
#include <array>
#include <cstdint>

#include "board.h"
#include "tte/device/console_lines.h"
#include "tte/device/controller_log.h"
#include "tte/device/led_blinker.h"
#include "tte/protocol/freestanding/block.h"
#include "tte/protocol/freestanding/led_frame.h"

namespace {

/// The NVM sector through the core's seam, so the board and the host read the log alike.
class BoardNvm final : public tte::device::Nvm {
public:
    std::span<const std::uint8_t> contents() const override {
        return {reinterpret_cast<const std::uint8_t*>(tte::port::NvmFlash::kBase), tte::port::NvmFlash::kSize};
    }
    tte::device::NvmStatus program(std::size_t offset, std::span<const std::uint8_t> data) override {
        switch (m_flash.program(offset, data)) {
        case tte::port::FlashStatus::ok: return tte::device::NvmStatus::ok;
        case tte::port::FlashStatus::outOfRange: return tte::device::NvmStatus::outOfRange;
        default: return tte::device::NvmStatus::failed;
        }
    }

private:
    tte::port::NvmFlash m_flash;
};

void writeLine(tte::port::Console& console, const tte::device::Line& line) {
    console.write(line.view());
    console.write("\r\n");
}

[[noreturn]] void idle(const tte::port::Tick& tick) {
    for (;;) {
        tick.sleepUntil(UINT64_MAX);
    }
}

[[noreturn]] void blink(tte::port::Console& console, tte::port::Led& led, const tte::port::Tick& tick,
                        std::span<const std::uint8_t> levels) {
    tte::device::LedBlinker blinker(levels, tick.nowMs());
    for (;;) {
        const tte::device::LedEvent event = blinker.next();
        tick.sleepUntil(event.atMs);
        if (event.kind == tte::device::LedEvent::Kind::edge) {
            led.set(event.on);
            writeLine(console, tte::device::ledEdgeLine(event.on, event.atMs));
        } else {
            writeLine(console, tte::device::ledGapLine(event.atMs));
        }
    }
}

}  // namespace

extern "C" [[noreturn]] void tteMain() {
    const tte::port::ClockReport clocks = tte::port::configureClocks();
    tte::port::Console console(clocks.pclk2Hz);
    tte::port::Led led;
    const tte::port::Tick tick(clocks.sysclkHz);
    if (clocks.rccModelled && !clocks.switched) {
        console.write(clocks.hseReady ? "TTE CLOCK FAIL pll\r\n" : "TTE CLOCK FAIL hse\r\n");
    }

    tte::protocol::ProvisioningBlock block;
    tte::protocol::BlockFault fault;
    const auto error = tte::protocol::decodeBlock(tte::port::provisioningBlock(), block, fault);
    if (error != tte::protocol::BlockError::ok) {
        writeLine(console, tte::device::bootFailLine(error, fault));
        idle(tick);
    }
    writeLine(console, tte::device::bootOkLine(block));

    BoardNvm nvm;
    tte::protocol::ControllerRecord controller;
    if (tte::device::loadController(nvm, controller)) {
        writeLine(console, tte::device::controllerLine(controller));
    } else {
        console.write("TTE CONTROLLER none\r\n");
    }

    if ((block.flags & tte::protocol::kBlockFlagLed) == 0) {
        console.write("TTE LED disabled\r\n");
        tte::protocol::wipeBlock(block);
        idle(tick);
    }
    const auto frame = tte::protocol::encodeLedFrame(block.msId, block.devId, block.otp);
    tte::protocol::wipeBlock(block);  // no network on this image: the key is not needed again
    std::array<std::uint8_t, tte::protocol::kLedMaxLineBits> levels{};
    const std::size_t count = tte::protocol::ledLineLevels(frame, levels);
    blink(console, led, tick, {levels.data(), count});
}
