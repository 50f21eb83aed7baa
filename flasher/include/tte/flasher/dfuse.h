// The host side of ST's DfuSe protocol (AN3156) over a DfuTransport: GETSTATUS polling that
// honours bwPollTimeout, CLRSTATUS/ABORT recovery to dfuIDLE, the set-address and erase
// commands, block downloads and uploads with the block-number address rule
// (address = pointer + (wBlockNum - 2) * wTransferSize), and leave (manifestation).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "tte/base/clock.h"
#include "tte/flasher/dfu.h"
#include "tte/flasher/transport.h"

namespace tte::flasher {

struct DfuseTimeouts {
    /// Timeout of every single control transfer.
    std::chrono::milliseconds transfer{5000};
    /// Longest a device may stay busy on one command (a 128 KiB sector erase is at most 2 s;
    /// a mass erase 16 s).
    std::chrono::milliseconds busyLimit{20000};
    /// Longest a device may take to come back (re-enumerate at its port) after it reset
    /// itself (option-byte write, read unprotect).
    std::chrono::milliseconds reenumerate{10000};
};

/// One DfuSe session on a claimed interface. Every error names what was being done; device
/// statuses map through statusError(). Not thread-safe.
class DfuseSession {
public:
    DfuseSession(DfuTransport& transport, Clock& clock, std::uint8_t interfaceNumber, std::uint16_t transferSize,
                 DfuseTimeouts timeouts = {});

    [[nodiscard]] std::uint16_t transferSize() const { return m_transferSize; }

    Result<StatusReport> getStatus();
    /// Brings the device to dfuIDLE from any state a previous session may have left
    /// (dfuERROR: CLRSTATUS; dfuDNLOAD-IDLE, dfuUPLOAD-IDLE, ...: ABORT). Errors: io when it
    /// cannot, transport errors.
    Status ensureIdle();
    /// DfuSe command 0x21. Errors: statusError (errTARGET for an address outside the memory).
    Status setAddress(std::uint32_t address);
    /// DfuSe command 0x41 with an address: erases the sector holding it.
    Status eraseSector(std::uint32_t address);
    /// One download block (wBlockNum >= 2) of at most transferSize() bytes, waiting until the
    /// device has programmed it (dfuDNLOAD-IDLE).
    Status download(std::uint16_t blockNum, std::span<const std::uint8_t> data);
    /// ABORT to dfuIDLE (needed between download and upload). Errors: transport, io.
    Status abort();
    /// One upload block (wBlockNum >= 2) into `out` (at most transferSize() bytes); returns
    /// the bytes read. Errors: permissionDenied when the device is read-protected (errTARGET).
    Result<std::size_t> upload(std::uint16_t blockNum, std::span<std::uint8_t> out);
    /// Leaves DFU mode and starts the firmware at `address`: set address, zero-length DNLOAD,
    /// GETSTATUS (the device answers dfuMANIFEST and resets; a vanished device is success).
    Status leave(std::uint32_t address);
    /// A download after which the STM32 bootloader resets (AN3156: a write to the option
    /// bytes; read unprotect): DNLOAD, then GETSTATUS – dfuDNBUSY, the operation runs – until
    /// the device is gone. Returns true when it reset (no answer any more: "no device", or an
    /// I/O error once the operation ran), false when it ended in dfuDNLOAD-IDLE and stayed;
    /// whether the operation took is for the caller to check after re-opening the device.
    /// Errors: statusError (errVENDOR: read-protected, errTARGET: address not allowed, ...),
    /// timeout (still busy after busyLimit), transport errors.
    Result<bool> downloadThenReset(std::uint16_t blockNum, std::span<const std::uint8_t> data, std::string_view what);
    /// DfuSe command 0x92: removes read protection, which mass-erases the flash; the device
    /// resets (see downloadThenReset()).
    Result<bool> readUnprotect();

private:
    Status command(std::span<const std::uint8_t> bytes, std::string_view what);
    Status dnload(std::uint16_t blockNum, std::span<const std::uint8_t> data, std::string_view what);
    Status waitUntilIdle(std::string_view what);
    Error explainStall(const Error& transportError, std::string_view what);

    DfuTransport& m_transport;
    Clock& m_clock;
    std::uint8_t m_interface;
    std::uint16_t m_transferSize;
    DfuseTimeouts m_timeouts;
};

}  // namespace tte::flasher
