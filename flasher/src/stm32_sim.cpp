// The simulated STM32F405 ROM DfuSe bootloader: DFU 1.1 state machine + AN3156 commands.
#include "tte/flasher/stm32_sim.h"

#include <algorithm>

namespace tte::flasher {
namespace {

constexpr std::uint8_t kCmdGetCommands = 0x00;
constexpr std::uint8_t kCmdSetAddress = 0x21;
constexpr std::uint8_t kCmdErase = 0x41;
constexpr std::uint8_t kCmdReadUnprotect = 0x92;

std::unexpected<Error> gone() {
    return failNative(Errc::unavailable, "the device is gone (unplugged or reset)", "libusb", -4,
                      "LIBUSB_ERROR_NO_DEVICE");
}

std::uint32_t le32(std::span<const std::uint8_t> b) {
    return b[0] | (std::uint32_t{b[1]} << 8) | (std::uint32_t{b[2]} << 16) | (std::uint32_t{b[3]} << 24);
}

}  // namespace

std::vector<std::string> stm32F405AltNames() {
    return {std::string(kStm32F405FlashLayout), "@Option Bytes  /0x1FFFC000/01*016 e",
            "@OTP Memory /0x1FFF7800/01*512 e,01*016 e", "@Device Feature/0xFFFF0000/01*004 e"};
}

UsbIdentity bootloaderIdentity(std::string portPath, const McuUid& uid, bool allOnesSerial) {
    return UsbIdentity{kStVendorId,          kStDfuProductId,
                       0x2200,               std::move(portPath),
                       allOnesSerial ? std::string(kAllOnesUidSerial) : dfuSerialOf(uid),
                       "STM32  BOOTLOADER"};
}

SimulatedStm32::SimulatedStm32(Clock& clock, UsbIdentity identity, SimBehaviour behaviour)
    : m_clock(clock), m_identity(std::move(identity)), m_behaviour(behaviour) {}

Result<std::vector<DfuAltSetting>> SimulatedStm32::altSettings() {
    if (m_gone) return gone();
    std::vector<DfuAltSetting> alts;
    const auto names = stm32F405AltNames();
    for (std::size_t i = 0; i < names.size(); ++i) alts.push_back({0, static_cast<std::uint8_t>(i), names[i]});
    return alts;
}

Result<DfuFunctional> SimulatedStm32::functional() {
    if (m_gone) return gone();
    return DfuFunctional{0x0B, 255, kTransferSize, 0x011A};
}

Status SimulatedStm32::claim(std::uint8_t interfaceNumber, std::uint8_t altSetting) {
    if (m_gone) return gone();
    if (interfaceNumber != 0 || altSetting >= stm32F405AltNames().size()) {
        return failNative(Errc::notFound, "no interface " + std::to_string(interfaceNumber) + " alt " +
                                              std::to_string(altSetting),
                          "libusb", -5, "LIBUSB_ERROR_NOT_FOUND");
    }
    m_claimed = true;
    m_alt = altSetting;
    return {};
}

void SimulatedStm32::replug() {
    // RM0090 §3.7.3: at level 2 booting from system memory is no longer allowed.
    m_runningFirmware = m_flash.readProtection() == RdpLevel::level2;
    m_gone = m_runningFirmware;
    m_resetWhenDone = false;
    m_state = DfuState::dfuIdle;
    m_status = DfuStatus::ok;
    m_pending = {};
    m_pendingResult = DfuStatus::ok;
    m_transfers = 0;
    m_faults = {};
    m_claimed = false;
    m_pointer = Stm32Flash::kBase;
}

Status SimulatedStm32::stall(std::string_view why) {
    m_state = DfuState::dfuError;
    m_status = DfuStatus::errStalledPkt;
    return failNative(Errc::io, "request stalled: " + std::string(why), "libusb", -9, "LIBUSB_ERROR_PIPE");
}

// Common entry of every control transfer: presence, injected faults, NAK while busy, wire time.
Status SimulatedStm32::enterTransfer(std::size_t bytes, std::chrono::milliseconds timeout, bool* stalled) {
    *stalled = false;
    if (m_gone) return gone();
    const std::size_t index = m_transfers++;
    if (m_faults.unplugAt && *m_faults.unplugAt == index) {
        m_gone = true;
        return gone();
    }
    if (m_faults.timeoutAt && *m_faults.timeoutAt == index) {
        m_clock.sleepFor(timeout);
        return failNative(Errc::timeout, "no answer within " + std::to_string(timeout.count()) + " ms", "libusb", -7,
                          "LIBUSB_ERROR_TIMEOUT");
    }
    if (m_faults.stallAt && *m_faults.stallAt == index) {
        *stalled = true;
        return stall("injected stall");
    }
    if (m_state == DfuState::dfuDnbusy) {
        // The device NAKs every request until the flash operation ends (host retries the packet).
        const auto remaining = m_busyUntil - m_clock.now();
        if (remaining > timeout) {
            m_clock.sleepFor(timeout);
            return failNative(Errc::timeout, "device busy past the " + std::to_string(timeout.count()) + " ms timeout",
                              "libusb", -7, "LIBUSB_ERROR_TIMEOUT");
        }
        if (remaining > Clock::Duration::zero()) m_clock.sleepFor(remaining);
        m_state = DfuState::dfuDnloadSync;  // DFU 1.1 fig. A.2: dfuDNBUSY -> dfuDNLOAD-SYNC on timeout
        if (m_resetWhenDone) {
            // AN2662/AN3156: after an option-byte write or read unprotect the device resets;
            // the host's request finds it gone (it comes back, re-enumerated, as a new session).
            reset();
            return gone();
        }
    }
    const auto packets = static_cast<std::int64_t>((bytes + 63) / 64);
    m_clock.sleepFor(m_behaviour.usbPerTransfer + packets * m_behaviour.usbPerPacket);
    return {};
}

void SimulatedStm32::reset() {
    m_gone = true;
    m_resetWhenDone = false;
    ++m_resets;
    // Back in the bootloader (BOOT0 still high) unless level 2 forbids it.
    m_runningFirmware = m_flash.readProtection() == RdpLevel::level2;
}

Result<std::size_t> SimulatedStm32::controlOut(const ControlSetup& setup, std::span<const std::uint8_t> data,
                                               std::chrono::milliseconds timeout) {
    bool stalled = false;
    if (auto st = enterTransfer(data.size(), timeout, &stalled); !st) return std::unexpected(st.error());
    if (!m_claimed) return fail(Errc::io, "interface not claimed");
    if (setup.requestType != dfu_request::kTypeOut || setup.index != 0) {
        return std::unexpected(stall("not a DFU class request to interface 0").error());
    }
    switch (setup.request) {
    case dfu_request::kDnload: return dnload(setup.value, data);
    case dfu_request::kClrStatus:
        if (m_state != DfuState::dfuError) return std::unexpected(stall("DFU_CLRSTATUS outside dfuERROR").error());
        m_state = DfuState::dfuIdle;
        m_status = DfuStatus::ok;
        return 0;
    case dfu_request::kAbort:
        switch (m_state) {
        case DfuState::dfuIdle:
        case DfuState::dfuDnloadSync:
        case DfuState::dfuDnloadIdle:
        case DfuState::dfuManifestSync:
        case DfuState::dfuUploadIdle:
            m_state = DfuState::dfuIdle;
            m_pending = {};
            m_pendingResult = DfuStatus::ok;
            return 0;
        default: return std::unexpected(stall("DFU_ABORT in " + stateName(m_state)).error());
        }
    default: return std::unexpected(stall("request " + std::to_string(setup.request) + " out").error());
    }
}

Result<std::size_t> SimulatedStm32::controlIn(const ControlSetup& setup, std::span<std::uint8_t> data,
                                              std::chrono::milliseconds timeout) {
    bool stalled = false;
    if (auto st = enterTransfer(data.size(), timeout, &stalled); !st) return std::unexpected(st.error());
    if (!m_claimed) return fail(Errc::io, "interface not claimed");
    if (setup.requestType != dfu_request::kTypeIn || setup.index != 0) {
        return std::unexpected(stall("not a DFU class request to interface 0").error());
    }
    switch (setup.request) {
    case dfu_request::kGetStatus: return getStatus(data);
    case dfu_request::kGetState:
        if (data.empty()) return std::unexpected(stall("DFU_GETSTATE with wLength 0").error());
        data[0] = static_cast<std::uint8_t>(m_state);
        return 1;
    case dfu_request::kUpload: return upload(setup.value, data);
    default: return std::unexpected(stall("request " + std::to_string(setup.request) + " in").error());
    }
}

Result<std::size_t> SimulatedStm32::dnload(std::uint16_t block, std::span<const std::uint8_t> data) {
    if (m_state != DfuState::dfuIdle && m_state != DfuState::dfuDnloadIdle) {
        return std::unexpected(stall("DFU_DNLOAD in " + stateName(m_state)).error());
    }
    if (data.empty()) {
        // DfuSe "leave": a zero-length download ends the session and starts manifestation.
        if (m_state != DfuState::dfuDnloadIdle) return std::unexpected(stall("zero-length DFU_DNLOAD in dfuIDLE").error());
        m_state = DfuState::dfuManifestSync;
        return 0;
    }
    if (data.size() > kTransferSize) return std::unexpected(stall("DFU_DNLOAD longer than wTransferSize").error());
    if (block == 1) return std::unexpected(stall("DFU_DNLOAD block 1 is reserved").error());
    if (block == 0) {
        m_pending = decodeCommand(data);
        if (m_pending.kind == OpKind::bad) return std::unexpected(stall("unknown DfuSe command").error());
    } else {
        // AN3156: address = pointer + (wBlockNum - 2) * wTransferSize.
        m_pending = {OpKind::write, m_pointer + (block - 2U) * kTransferSize, {data.begin(), data.end()}};
    }
    m_state = DfuState::dfuDnloadSync;
    return data.size();
}

SimulatedStm32::PendingOp SimulatedStm32::decodeCommand(std::span<const std::uint8_t> data) const {
    if (data[0] == kCmdSetAddress && data.size() == 5) return {OpKind::setAddress, le32(data.subspan(1)), {}};
    if (data[0] == kCmdErase && data.size() == 1) return {OpKind::massErase, 0, {}};
    if (data[0] == kCmdErase && data.size() == 5) return {OpKind::erase, le32(data.subspan(1)), {}};
    if (data[0] == kCmdReadUnprotect && data.size() == 1) return {OpKind::readUnprotect, 0, {}};
    return {OpKind::bad, 0, {}};
}

Result<std::size_t> SimulatedStm32::getStatus(std::span<std::uint8_t> out) {
    if (out.size() < 6) return std::unexpected(stall("DFU_GETSTATUS shorter than 6 bytes").error());
    StatusReport r{m_status, 0, m_state, 0};
    if (m_state == DfuState::dfuDnloadSync) {
        if (m_pending.kind != OpKind::none) {
            const auto estimate = opTime(m_pending, FlashTiming::typical);
            startOp();
            r = {DfuStatus::ok, static_cast<std::uint32_t>((estimate.count() + 999999) / 1000000), DfuState::dfuDnbusy,
                 0};
        } else {
            finishOp();
            r = {m_status, 0, m_state, 0};
        }
    } else if (m_state == DfuState::dfuManifestSync) {
        // AN3156: the bootloader answers dfuMANIFEST, then resets and jumps to the firmware.
        r = {DfuStatus::ok, 0, DfuState::dfuManifest, 0};
        m_gone = true;
        m_runningFirmware = true;
    }
    encodeStatus(r, out.data());
    return 6;
}

void SimulatedStm32::startOp() {
    const auto duration = opTime(m_pending, m_behaviour.timing);
    m_pendingResult = applyOp(m_pending);  // nobody can observe the flash while the device is busy
    m_pending = {};
    m_busyUntil = m_clock.now() + duration;
    m_busyTotal += duration;
    m_state = DfuState::dfuDnbusy;
}

void SimulatedStm32::finishOp() {
    if (m_pendingResult == DfuStatus::ok) {
        m_state = DfuState::dfuDnloadIdle;
    } else {
        m_state = DfuState::dfuError;
        m_status = m_pendingResult;
        m_pendingResult = DfuStatus::ok;
    }
}

std::chrono::nanoseconds SimulatedStm32::opTime(const PendingOp& op, FlashTiming timing) const {
    switch (op.kind) {
    case OpKind::erase: {
        const MemorySector* s = m_flash.layout().sectorAt(op.address);
        return s ? Stm32Flash::eraseTime(s->size, timing) : std::chrono::nanoseconds(0);
    }
    case OpKind::massErase:
    case OpKind::readUnprotect: return Stm32Flash::massEraseTime(timing);
    case OpKind::write:
        // No datasheet figure for an option-byte change (erase of the user configuration
        // sector, then programming): taken as a 16 KiB sector erase.
        if (m_alt == 1) return Stm32Flash::eraseTime(16 * 1024, timing);
        return Stm32Flash::programTime(op.data.size(), timing);
    default: return std::chrono::nanoseconds(0);
    }
}

bool SimulatedStm32::addressValid(std::uint32_t address) const {
    if (m_alt == 0) return m_flash.contains(address, 1);
    auto layout = parseMemoryLayout(stm32F405AltNames()[m_alt]);
    return layout && layout->sectorAt(address) != nullptr;
}

// What the ROM does for each command. Read protection: every erase, write and upload answers
// errVENDOR (AN3156/AN2662: "ROP active"), only read unprotect works; a bad address answers
// errTARGET ("address not allowed").
DfuStatus SimulatedStm32::applyOp(const PendingOp& op) {
    switch (op.kind) {
    case OpKind::setAddress:
        if (!addressValid(op.address)) return DfuStatus::errTarget;
        m_pointer = op.address;
        return DfuStatus::ok;
    case OpKind::erase:
        if (readProtected()) return DfuStatus::errVendor;
        if (m_alt != 0 || m_flash.sectorOf(op.address) < 0) return DfuStatus::errTarget;
        m_flash.eraseSector(m_flash.sectorOf(op.address));  // write-protected: data stays, status OK
        return DfuStatus::ok;
    case OpKind::massErase:
        if (readProtected()) return DfuStatus::errVendor;
        if (m_alt != 0) return DfuStatus::errTarget;
        m_flash.massErase();
        return DfuStatus::ok;
    case OpKind::write:
        if (readProtected()) return DfuStatus::errVendor;
        if (m_alt == 1) return writeOptionBytes(op);
        // OTP and device-feature writes are not modelled: refused.
        if (m_alt != 0 || !m_flash.contains(op.address, op.data.size())) return DfuStatus::errTarget;
        if (!m_flash.program(op.address, op.data) && m_behaviour.writeProtectReportsError) return DfuStatus::errWrite;
        return DfuStatus::ok;
    case OpKind::readUnprotect:
        // RM0090 §3.7.3: regressing to level 0 mass-erases the flash; the other option bytes
        // (write protection included) stay. The ROM then resets.
        m_flash.eraseForRdpRegression();
        m_flash.setReadProtection(RdpLevel::level0);
        m_resetWhenDone = true;
        return DfuStatus::ok;
    default: return DfuStatus::errUnknown;
    }
}

// AN3156: the option bytes are written whole (16 bytes at 0x1FFFC000); the new values take
// effect through the system reset the bootloader performs right after.
DfuStatus SimulatedStm32::writeOptionBytes(const PendingOp& op) {
    if (op.address != kOptionBytesAddress || op.data.size() != kOptionBytesSize) return DfuStatus::errTarget;
    // Only reached at level 0 (the ROM answers errVENDOR to writes at level 1): any level may
    // be written, and 0 -> 1 or 0 -> 2 erases nothing (RM0090 §3.7.3).
    OptionBytes ob;
    std::copy(op.data.begin(), op.data.end(), ob.raw.begin());
    m_flash.setOptions(ob);
    m_resetWhenDone = true;
    return DfuStatus::ok;
}

Result<std::size_t> SimulatedStm32::upload(std::uint16_t block, std::span<std::uint8_t> out) {
    if (m_state != DfuState::dfuIdle && m_state != DfuState::dfuUploadIdle) {
        return std::unexpected(stall("DFU_UPLOAD in " + stateName(m_state)).error());
    }
    if (block == 1) return std::unexpected(stall("DFU_UPLOAD block 1 is reserved").error());
    std::size_t n = 0;
    if (block == 0) {
        const std::uint8_t commands[] = {kCmdGetCommands, kCmdSetAddress, kCmdErase, kCmdReadUnprotect};
        n = std::min(out.size(), sizeof commands);
        std::copy_n(commands, n, out.begin());
    } else {
        const std::uint32_t address = m_pointer + (block - 2U) * kTransferSize;
        auto refuse = [&](DfuStatus status) {
            auto e = stall("DFU_UPLOAD refused");
            m_status = status;
            return std::unexpected(e.error());
        };
        // AN2662/AN3156: with read protection active no read is performed, whatever the memory.
        if (readProtected()) return refuse(DfuStatus::errVendor);
        // The start must lie in the selected memory; the read then runs on in the address map
        // (a read from the OTP lock bytes at 0x1FFF7A00 goes on into the unique ID, one from
        // 0x1FFF7A10 is refused: the ID lies in no memory of the bootloader's list).
        if (!addressValid(address)) return refuse(DfuStatus::errTarget);
        const auto bytes = m_flash.readMapped(address, out.size());
        if (bytes.empty()) return refuse(DfuStatus::errTarget);  // device feature: not modelled
        n = bytes.size();
        std::copy(bytes.begin(), bytes.end(), out.begin());
        if (m_faults.corruptUploadAt && *m_faults.corruptUploadAt == m_transfers - 1 && n > 0) out[n / 2] ^= 0x10;
    }
    m_state = n < out.size() ? DfuState::dfuIdle : DfuState::dfuUploadIdle;  // a short frame ends the upload
    return n;
}

}  // namespace tte::flasher
