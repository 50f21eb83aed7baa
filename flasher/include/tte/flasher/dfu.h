// DFU 1.1 (USB Device Firmware Upgrade) constants, states and statuses, and the mapping of
// every device status to an error a person understands. Used by the host protocol
// (dfuse.h) and by the simulated bootloader (stm32_sim.h) alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tte/base/error.h"

namespace tte::flasher {

/// Class-specific requests of DFU 1.1, table 3.2.
namespace dfu_request {
inline constexpr std::uint8_t kDetach = 0;
inline constexpr std::uint8_t kDnload = 1;
inline constexpr std::uint8_t kUpload = 2;
inline constexpr std::uint8_t kGetStatus = 3;
inline constexpr std::uint8_t kClrStatus = 4;
inline constexpr std::uint8_t kGetState = 5;
inline constexpr std::uint8_t kAbort = 6;
/// bmRequestType: class, interface recipient, host-to-device / device-to-host.
inline constexpr std::uint8_t kTypeOut = 0x21;
inline constexpr std::uint8_t kTypeIn = 0xA1;
}  // namespace dfu_request

/// bState of DFU 1.1, section 6.1.2.
enum class DfuState : std::uint8_t {
    appIdle = 0,
    appDetach = 1,
    dfuIdle = 2,
    dfuDnloadSync = 3,
    dfuDnbusy = 4,
    dfuDnloadIdle = 5,
    dfuManifestSync = 6,
    dfuManifest = 7,
    dfuManifestWaitReset = 8,
    dfuUploadIdle = 9,
    dfuError = 10,
};

/// bStatus of DFU 1.1, section 6.1.2.
enum class DfuStatus : std::uint8_t {
    ok = 0,
    errTarget = 1,
    errFile = 2,
    errWrite = 3,
    errErase = 4,
    errCheckErased = 5,
    errProg = 6,
    errVerify = 7,
    errAddress = 8,
    errNotDone = 9,
    errFirmware = 10,
    errVendor = 11,
    errUsbr = 12,
    errPor = 13,
    errUnknown = 14,
    errStalledPkt = 15,
};

/// The 6-byte answer to DFU_GETSTATUS.
struct StatusReport {
    DfuStatus status = DfuStatus::ok;
    std::uint32_t pollTimeoutMs = 0;  ///< bwPollTimeout, 24 bits
    DfuState state = DfuState::dfuIdle;
    std::uint8_t iString = 0;
};

/// Spec name of a state ("dfuDNLOAD-IDLE"); "state N" for values outside the spec.
std::string stateName(std::uint8_t state);
inline std::string stateName(DfuState s) { return stateName(static_cast<std::uint8_t>(s)); }
/// Spec name of a status ("errWRITE"); "status N" for values outside the spec.
std::string statusName(std::uint8_t status);
inline std::string statusName(DfuStatus s) { return statusName(static_cast<std::uint8_t>(s)); }
/// What a status means for the person at the station (STM32 ROM bootloader reading).
std::string_view statusMeaning(std::uint8_t status);

/// The error for a device that reported `report` while doing `what`: Errc by kind
/// (permissionDenied for errVENDOR = STM32 read protection active, outOfRange for errTARGET =
/// address outside the bootloader's memories, io for write/erase/verify failures,
/// invalidArgument for errADDRESS/errFILE, ...), domain "DFU", native code and name = bStatus.
Error statusError(const StatusReport& report, std::string_view what);

/// Packs / unpacks the GETSTATUS payload. Errors: io when fewer than 6 bytes arrived.
void encodeStatus(const StatusReport& report, std::uint8_t out[6]);
Result<StatusReport> decodeStatus(const std::uint8_t* data, std::size_t size);

}  // namespace tte::flasher
