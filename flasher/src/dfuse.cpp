// DfuSe host protocol (AN3156) over the DfuTransport seam.
#include "tte/flasher/dfuse.h"

#include <array>

#include "tte/base/hex.h"

namespace tte::flasher {
namespace {

constexpr std::uint8_t kCmdSetAddress = 0x21;
constexpr std::uint8_t kCmdErase = 0x41;
constexpr std::uint8_t kCmdReadUnprotect = 0x92;

std::array<std::uint8_t, 5> commandBytes(std::uint8_t cmd, std::uint32_t address) {
    return {cmd, static_cast<std::uint8_t>(address), static_cast<std::uint8_t>(address >> 8),
            static_cast<std::uint8_t>(address >> 16), static_cast<std::uint8_t>(address >> 24)};
}

std::string hex32(std::uint32_t v) { return "0x" + toHex(v, 8); }

}  // namespace

DfuseSession::DfuseSession(DfuTransport& transport, Clock& clock, std::uint8_t interfaceNumber,
                           std::uint16_t transferSize, DfuseTimeouts timeouts)
    : m_transport(transport),
      m_clock(clock),
      m_interface(interfaceNumber),
      m_transferSize(transferSize),
      m_timeouts(timeouts) {}

Result<StatusReport> DfuseSession::getStatus() {
    std::array<std::uint8_t, 6> buf{};
    auto n = m_transport.controlIn({dfu_request::kTypeIn, dfu_request::kGetStatus, 0, m_interface}, buf,
                                   m_timeouts.transfer);
    if (!n) return withContext(n.error(), "DFU_GETSTATUS");
    return decodeStatus(buf.data(), *n);
}

// A stalled request leaves the reason in the device's status: fetch it so the person sees
// "read-protected" rather than "pipe error".
Error DfuseSession::explainStall(const Error& transportError, std::string_view what) {
    if (transportError.nativeName != "LIBUSB_ERROR_PIPE") return withContext(transportError, what).error();
    auto st = getStatus();
    if (st && st->status != DfuStatus::ok) return statusError(*st, what);
    return withContext(transportError, what).error();
}

Status DfuseSession::ensureIdle() {
    for (int attempt = 0; attempt < 4; ++attempt) {
        auto st = getStatus();
        if (!st) return std::unexpected(st.error());
        if (st->state == DfuState::dfuIdle) return {};
        if (st->state == DfuState::dfuDnbusy) {
            m_clock.sleepFor(std::chrono::milliseconds(st->pollTimeoutMs));
            continue;
        }
        const bool error = st->state == DfuState::dfuError;
        const ControlSetup setup{dfu_request::kTypeOut, error ? dfu_request::kClrStatus : dfu_request::kAbort, 0,
                                 m_interface};
        auto r = m_transport.controlOut(setup, {}, m_timeouts.transfer);
        if (!r && r.error().nativeName != "LIBUSB_ERROR_PIPE") {
            return withContext(r.error(), error ? "DFU_CLRSTATUS" : "DFU_ABORT");
        }
    }
    return fail(Errc::io, "the device does not return to dfuIDLE (CLRSTATUS/ABORT had no effect)");
}

Status DfuseSession::abort() {
    auto r = m_transport.controlOut({dfu_request::kTypeOut, dfu_request::kAbort, 0, m_interface}, {},
                                    m_timeouts.transfer);
    if (!r) return std::unexpected(explainStall(r.error(), "DFU_ABORT"));
    return {};
}

Status DfuseSession::waitUntilIdle(std::string_view what) {
    const auto deadline = m_clock.now() + m_timeouts.busyLimit;
    for (;;) {
        auto st = getStatus();
        if (!st) return withContext(st.error(), what);
        if (st->status != DfuStatus::ok || st->state == DfuState::dfuError) return std::unexpected(statusError(*st, what));
        if (st->state == DfuState::dfuDnloadIdle || st->state == DfuState::dfuIdle) return {};
        if (st->state != DfuState::dfuDnbusy && st->state != DfuState::dfuDnloadSync) {
            return fail(Errc::io, std::string(what) + ": unexpected device state " + stateName(st->state));
        }
        if (m_clock.now() >= deadline) {
            return fail(Errc::timeout, std::string(what) + ": device still busy after " +
                                           std::to_string(m_timeouts.busyLimit.count()) + " ms");
        }
        // DFU 1.1 6.1.2: the host must not poll again before bwPollTimeout has passed.
        m_clock.sleepFor(std::chrono::milliseconds(st->pollTimeoutMs));
    }
}

Status DfuseSession::dnload(std::uint16_t blockNum, std::span<const std::uint8_t> data, std::string_view what) {
    auto r = m_transport.controlOut({dfu_request::kTypeOut, dfu_request::kDnload, blockNum, m_interface}, data,
                                    m_timeouts.transfer);
    if (!r) return std::unexpected(explainStall(r.error(), what));
    if (*r != data.size()) {
        return fail(Errc::io, std::string(what) + ": device took " + std::to_string(*r) + " of " +
                                  std::to_string(data.size()) + " bytes");
    }
    return waitUntilIdle(what);
}

Status DfuseSession::command(std::span<const std::uint8_t> bytes, std::string_view what) {
    return dnload(0, bytes, what);
}

Status DfuseSession::setAddress(std::uint32_t address) {
    const auto cmd = commandBytes(kCmdSetAddress, address);
    return command(cmd, "set address " + hex32(address));
}

Status DfuseSession::eraseSector(std::uint32_t address) {
    const auto cmd = commandBytes(kCmdErase, address);
    return command(cmd, "erase sector at " + hex32(address));
}

Status DfuseSession::download(std::uint16_t blockNum, std::span<const std::uint8_t> data) {
    if (blockNum < 2 || data.empty() || data.size() > m_transferSize) {
        return fail(Errc::invalidArgument, "download block " + std::to_string(blockNum) + " of " +
                                               std::to_string(data.size()) + " bytes is not a DfuSe data block");
    }
    return dnload(blockNum, data, "download block " + std::to_string(blockNum));
}

Result<std::size_t> DfuseSession::upload(std::uint16_t blockNum, std::span<std::uint8_t> out) {
    const std::string what = "upload block " + std::to_string(blockNum);
    if (blockNum < 2 || out.size() > m_transferSize) {
        return fail(Errc::invalidArgument, what + " is not a DfuSe data block");
    }
    auto n = m_transport.controlIn({dfu_request::kTypeIn, dfu_request::kUpload, blockNum, m_interface}, out,
                                   m_timeouts.transfer);
    if (!n) return std::unexpected(explainStall(n.error(), what));
    return *n;
}

Result<bool> DfuseSession::downloadThenReset(std::uint16_t blockNum, std::span<const std::uint8_t> data,
                                             std::string_view what) {
    auto r = m_transport.controlOut({dfu_request::kTypeOut, dfu_request::kDnload, blockNum, m_interface}, data,
                                    m_timeouts.transfer);
    if (!r) return std::unexpected(explainStall(r.error(), what));
    const auto deadline = m_clock.now() + m_timeouts.busyLimit;
    bool started = false;
    for (;;) {
        auto st = getStatus();
        if (!st) {
            // AN3156: the device executes the operation, then resets; it does not answer again.
            if (st.error().code == Errc::unavailable) return true;
            // A device still busy NAKs until the transfer times out: ask again.
            if (st.error().code == Errc::timeout && m_clock.now() < deadline) continue;
            // Once the operation runs, a device dropping off the bus mid-request may show as an
            // I/O error rather than "no device" (host controllers differ): the caller's check
            // after re-opening tells whether the operation took.
            if (started && st.error().code == Errc::io && st.error().nativeName != "LIBUSB_ERROR_PIPE") return true;
            return withContext(st.error(), what);
        }
        if (st->status != DfuStatus::ok || st->state == DfuState::dfuError) return std::unexpected(statusError(*st, what));
        if (st->state == DfuState::dfuDnloadIdle || st->state == DfuState::dfuIdle) return false;
        started = true;
        if (m_clock.now() >= deadline) {
            return fail(Errc::timeout, std::string(what) + ": device still busy after " +
                                           std::to_string(m_timeouts.busyLimit.count()) + " ms");
        }
        m_clock.sleepFor(std::chrono::milliseconds(st->pollTimeoutMs));
    }
}

Result<bool> DfuseSession::readUnprotect() {
    const std::uint8_t cmd[] = {kCmdReadUnprotect};
    return downloadThenReset(0, cmd, "read unprotect");
}

Status DfuseSession::leave(std::uint32_t address) {
    if (auto st = setAddress(address); !st) return st;
    auto r = m_transport.controlOut({dfu_request::kTypeOut, dfu_request::kDnload, 2, m_interface}, {},
                                    m_timeouts.transfer);
    if (!r) return std::unexpected(explainStall(r.error(), "leave (zero-length download)"));
    auto st = getStatus();
    if (!st) {
        // The device resets as it leaves; losing it here is the expected end.
        if (st.error().code == Errc::unavailable || st.error().nativeName == "LIBUSB_ERROR_PIPE") return {};
        return std::unexpected(st.error());
    }
    if (st->status != DfuStatus::ok) return std::unexpected(statusError(*st, "leave"));
    if (st->state != DfuState::dfuManifest && st->state != DfuState::dfuManifestWaitReset &&
        st->state != DfuState::dfuManifestSync && st->state != DfuState::dfuIdle) {
        return fail(Errc::io, "leave: device stayed in " + stateName(st->state));
    }
    return {};
}

}  // namespace tte::flasher
