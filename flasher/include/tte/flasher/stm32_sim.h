// A simulated STM32F405 ROM DfuSe bootloader behind the DfuTransport seam: the DFU 1.1
// state machine with the DfuSe commands of ST AN3156 (set address pointer 0x21, erase 0x41,
// read unprotect 0x92, get commands), uploads from the flash, the OTP page (which holds the
// unique ID past its end) and the option bytes, option-byte writes and read unprotect that
// reset the device, flash timings on an injected tte::Clock, full-speed USB wire time, read
// protection as the ROM enforces it (errVENDOR), write protection, and fault injection by
// transfer index. docs/FLASHER.md lists every behaviour chosen where the documents leave room.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "tte/base/clock.h"
#include "tte/flasher/dfu.h"
#include "tte/flasher/stm32_device.h"
#include "tte/flasher/stm32_flash.h"
#include "tte/flasher/transport.h"

namespace tte::flasher {

/// Faults to inject, each at a transfer index (0 = the first control transfer after open).
struct SimFaults {
    std::optional<std::size_t> unplugAt;         ///< the device vanishes: this and every later transfer fail
    std::optional<std::size_t> stallAt;          ///< this transfer is stalled (device goes to dfuERROR)
    std::optional<std::size_t> timeoutAt;        ///< this transfer gets no answer (lost before the device)
    std::optional<std::size_t> corruptUploadAt;  ///< this UPLOAD returns data with one bit flipped
};

/// How the simulated part behaves where real parts differ.
struct SimBehaviour {
    FlashTiming timing = FlashTiming::typical;
    /// Program into a write-protected sector: false = the ROM answers OK and writes nothing
    /// (worst case for a host: only read-back shows it); true = errWRITE.
    bool writeProtectReportsError = false;
    /// Full-speed USB cost of one control transfer: setup + status stages, and per 64-byte packet.
    std::chrono::nanoseconds usbPerTransfer = std::chrono::microseconds(125);
    std::chrono::nanoseconds usbPerPacket = std::chrono::microseconds(60);
};

/// The USB identity of an STM32F405 in its ROM bootloader at `portPath`: 0483:df11,
/// bcdDevice 0x2200, product "STM32  BOOTLOADER", serial dfuSerialOf(uid) – or, for the
/// bootloader versions that report it whatever the part, kAllOnesUidSerial.
UsbIdentity bootloaderIdentity(std::string portPath, const McuUid& uid, bool allOnesSerial = false);

/// The ROM bootloader of one STM32F405 in DFU mode. Not thread-safe (one host thread).
class SimulatedStm32 final : public DfuTransport {
public:
    static constexpr std::uint16_t kTransferSize = 2048;

    SimulatedStm32(Clock& clock, UsbIdentity identity, SimBehaviour behaviour = {});

    // DfuTransport
    [[nodiscard]] const UsbIdentity& identity() const override { return m_identity; }
    Result<std::vector<DfuAltSetting>> altSettings() override;
    Result<DfuFunctional> functional() override;
    Status claim(std::uint8_t interfaceNumber, std::uint8_t altSetting) override;
    Result<std::size_t> controlOut(const ControlSetup& setup, std::span<const std::uint8_t> data,
                                   std::chrono::milliseconds timeout) override;
    Result<std::size_t> controlIn(const ControlSetup& setup, std::span<std::uint8_t> data,
                                  std::chrono::milliseconds timeout) override;

    Stm32Flash& flash() { return m_flash; }
    [[nodiscard]] const Stm32Flash& flash() const { return m_flash; }
    void setFaults(const SimFaults& faults) { m_faults = faults; }
    /// Plugs the device back in (or lets it re-enumerate after a reset): a fresh USB session in
    /// dfuIDLE (the memories keep what was written), transfer count from 0, no faults. A part
    /// at RDP level 2 never starts its bootloader again: it stays away, running its firmware.
    void replug();
    /// The board is pulled out: this and every later transfer fail as an unplug does.
    void unplug() { m_gone = true; }
    [[nodiscard]] bool present() const { return !m_gone; }
    /// True once the device left DFU mode (manifestation) and runs its firmware.
    [[nodiscard]] bool runningFirmware() const { return m_runningFirmware; }
    /// How many times the device reset itself (option-byte write, read unprotect).
    [[nodiscard]] int resets() const { return m_resets; }
    /// True while an operation that ends in a reset runs: whatever the host does, the device
    /// goes away (a host that closes its handle now, as dfu-util after read unprotect, still
    /// finds it reset).
    [[nodiscard]] bool resetPending() const { return m_resetWhenDone; }
    [[nodiscard]] DfuState state() const { return m_state; }
    [[nodiscard]] DfuStatus status() const { return m_status; }
    /// Restores a state saved by a previous process (or sets one for a test).
    void restoreState(DfuState state, DfuStatus status) { m_state = state; m_status = status; }
    [[nodiscard]] std::size_t transferCount() const { return m_transfers; }
    /// Total time the device was busy erasing or programming.
    [[nodiscard]] Clock::Duration busyTime() const { return m_busyTotal; }

private:
    enum class OpKind { none, setAddress, erase, massErase, write, readUnprotect, bad };
    struct PendingOp {
        OpKind kind = OpKind::none;
        std::uint32_t address = 0;
        std::vector<std::uint8_t> data;
    };

    Status enterTransfer(std::size_t bytes, std::chrono::milliseconds timeout, bool* stalled);
    Status stall(std::string_view why);
    Result<std::size_t> dnload(std::uint16_t block, std::span<const std::uint8_t> data);
    Result<std::size_t> upload(std::uint16_t block, std::span<std::uint8_t> out);
    Result<std::size_t> getStatus(std::span<std::uint8_t> out);
    PendingOp decodeCommand(std::span<const std::uint8_t> data) const;
    void startOp();
    void finishOp();
    [[nodiscard]] std::chrono::nanoseconds opTime(const PendingOp& op, FlashTiming timing) const;
    DfuStatus applyOp(const PendingOp& op);
    DfuStatus writeOptionBytes(const PendingOp& op);
    void reset();
    [[nodiscard]] bool addressValid(std::uint32_t address) const;
    [[nodiscard]] bool readProtected() const { return m_flash.readProtection() != RdpLevel::level0; }

    Clock& m_clock;
    UsbIdentity m_identity;
    SimBehaviour m_behaviour;
    Stm32Flash m_flash;
    SimFaults m_faults;
    DfuState m_state = DfuState::dfuIdle;
    DfuStatus m_status = DfuStatus::ok;
    std::uint8_t m_alt = 0;
    bool m_claimed = false;
    bool m_gone = false;
    bool m_runningFirmware = false;
    bool m_resetWhenDone = false;  ///< the operation in progress ends with a system reset
    int m_resets = 0;
    std::uint32_t m_pointer = Stm32Flash::kBase;
    PendingOp m_pending;
    DfuStatus m_pendingResult = DfuStatus::ok;
    Clock::TimePoint m_busyUntil{};
    Clock::Duration m_busyTotal{0};
    std::size_t m_transfers = 0;
};

/// The alternate-setting names of the STM32F405 ROM bootloader (AN2606 / AN3156).
std::vector<std::string> stm32F405AltNames();

}  // namespace tte::flasher
