// Names and person-readable meanings of DFU 1.1 states and statuses.
#include "tte/flasher/dfu.h"

#include <array>

namespace tte::flasher {
namespace {

constexpr std::array<std::string_view, 11> kStateNames = {
    "appIDLE",         "appDETACH",   "dfuIDLE",  "dfuDNLOAD-SYNC",         "dfuDNBUSY", "dfuDNLOAD-IDLE",
    "dfuMANIFEST-SYNC", "dfuMANIFEST", "dfuMANIFEST-WAIT-RESET", "dfuUPLOAD-IDLE", "dfuERROR"};

struct StatusText {
    std::string_view name;
    std::string_view meaning;
    Errc code;
};

constexpr std::array<StatusText, 16> kStatuses = {{
    {"OK", "no error", Errc::internal},
    {"errTARGET", "the device refused the address: it lies outside the memories its bootloader serves",
     Errc::outOfRange},
    {"errFILE", "the device rejected the file as not meant for it", Errc::invalidArgument},
    {"errWRITE", "the device could not write the memory (write-protected sector or flash fault)", Errc::io},
    {"errERASE", "the memory erase failed", Errc::io},
    {"errCHECK_ERASED", "the memory erase check failed (sector not blank after erase)", Errc::io},
    {"errPROG", "the program memory function failed", Errc::io},
    {"errVERIFY", "the device's own check of the programmed memory failed", Errc::corrupt},
    {"errADDRESS", "the address is outside the device's memory or not aligned", Errc::invalidArgument},
    {"errNOTDONE", "the device got an end-of-download but thinks the image is incomplete", Errc::io},
    {"errFIRMWARE", "the device's firmware is corrupt; it cannot leave DFU mode", Errc::corrupt},
    {"errVENDOR",
     "the device is read-protected (RDP level 1): its STM32 bootloader refuses to read, erase or write "
     "memory until read protection is removed, which erases the flash",
     Errc::permissionDenied},
    {"errUSBR", "the device saw an unexpected USB reset", Errc::unavailable},
    {"errPOR", "the device saw an unexpected power-on reset", Errc::unavailable},
    {"errUNKNOWN", "something went wrong inside the device", Errc::io},
    {"errSTALLEDPKT", "the device stalled an unexpected request (protocol out of step)", Errc::io},
}};

}  // namespace

std::string stateName(std::uint8_t state) {
    if (state < kStateNames.size()) return std::string(kStateNames[state]);
    return "state " + std::to_string(state);
}

std::string statusName(std::uint8_t status) {
    if (status < kStatuses.size()) return std::string(kStatuses[status].name);
    return "status " + std::to_string(status);
}

std::string_view statusMeaning(std::uint8_t status) {
    if (status < kStatuses.size()) return kStatuses[status].meaning;
    return "a status outside the DFU 1.1 specification";
}

Error statusError(const StatusReport& report, std::string_view what) {
    const auto raw = static_cast<std::uint8_t>(report.status);
    const Errc code = raw < kStatuses.size() ? kStatuses[raw].code : Errc::io;
    std::string message = std::string(what) + ": " + std::string(statusMeaning(raw)) + " (" + statusName(raw) +
                          ", state " + stateName(static_cast<std::uint8_t>(report.state)) + ")";
    return Error{code, std::move(message), "DFU", raw, statusName(raw)};
}

void encodeStatus(const StatusReport& report, std::uint8_t out[6]) {
    out[0] = static_cast<std::uint8_t>(report.status);
    out[1] = static_cast<std::uint8_t>(report.pollTimeoutMs & 0xFF);
    out[2] = static_cast<std::uint8_t>((report.pollTimeoutMs >> 8) & 0xFF);
    out[3] = static_cast<std::uint8_t>((report.pollTimeoutMs >> 16) & 0xFF);
    out[4] = static_cast<std::uint8_t>(report.state);
    out[5] = report.iString;
}

Result<StatusReport> decodeStatus(const std::uint8_t* data, std::size_t size) {
    if (size < 6) {
        return fail(Errc::io, "DFU_GETSTATUS answered " + std::to_string(size) + " bytes, expected 6");
    }
    StatusReport r;
    r.status = static_cast<DfuStatus>(data[0]);
    r.pollTimeoutMs = data[1] | (std::uint32_t{data[2]} << 8) | (std::uint32_t{data[3]} << 16);
    r.state = static_cast<DfuState>(data[4]);
    r.iString = data[5];
    return r;
}

}  // namespace tte::flasher
