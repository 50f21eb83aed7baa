// The seam between the DfuSe protocol and USB: control transfers, the DFU interface's
// alternate settings (their names are the DfuSe memory layout strings), the DFU functional
// descriptor, and the device's identity and port path. One real adapter (libusb,
// usb_transport.h) and one simulated STM32F405 ROM bootloader (stm32_sim.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"

namespace tte::flasher {

/// USB IDs of the STM32 ROM DfuSe bootloader.
inline constexpr std::uint16_t kStVendorId = 0x0483;
inline constexpr std::uint16_t kStDfuProductId = 0xDF11;

/// Who a device is and where it is plugged in. The port path ("1-1.3": bus, then the port
/// numbers from the root hub down) names a fixture slot; serial numbers of ROM bootloaders
/// can collide, so slots are never identified by serial.
struct UsbIdentity {
    std::uint16_t vendorId = 0;
    std::uint16_t productId = 0;
    std::uint16_t bcdDevice = 0;
    std::string portPath;
    std::string serial;
    std::string product;
};

/// One alternate setting of the DFU interface; `name` is its iInterface string.
struct DfuAltSetting {
    std::uint8_t interfaceNumber = 0;
    std::uint8_t altSetting = 0;
    std::string name;
};

/// The DFU functional descriptor (DFU 1.1, 4.1.3).
struct DfuFunctional {
    std::uint8_t attributes = 0;
    std::uint16_t detachTimeoutMs = 0;
    std::uint16_t transferSize = 0;
    std::uint16_t bcdDfu = 0;
};

/// The setup packet of a control transfer (wLength is the data span's size).
struct ControlSetup {
    std::uint8_t requestType = 0;
    std::uint8_t request = 0;
    std::uint16_t value = 0;
    std::uint16_t index = 0;
};

/// An opened device in DFU mode. Not thread-safe: one thread drives one device.
/// Transport errors: `unavailable` (device gone: unplugged or reset; native LIBUSB_ERROR_NO_DEVICE),
/// `timeout` (no answer within the transfer's timeout), `io` (stall = LIBUSB_ERROR_PIPE, or other).
class DfuTransport {
public:
    virtual ~DfuTransport() = default;
    [[nodiscard]] virtual const UsbIdentity& identity() const = 0;
    /// The DFU interface's alternate settings with their names (string descriptors).
    virtual Result<std::vector<DfuAltSetting>> altSettings() = 0;
    /// The DFU functional descriptor. Errors: notFound when the device has none.
    virtual Result<DfuFunctional> functional() = 0;
    /// Claims the interface and selects the alternate setting. Errors: unavailable (busy or gone).
    virtual Status claim(std::uint8_t interfaceNumber, std::uint8_t altSetting) = 0;
    /// Host-to-device control transfer; returns the bytes sent.
    virtual Result<std::size_t> controlOut(const ControlSetup& setup, std::span<const std::uint8_t> data,
                                           std::chrono::milliseconds timeout) = 0;
    /// Device-to-host control transfer into `data`; returns the bytes received.
    virtual Result<std::size_t> controlIn(const ControlSetup& setup, std::span<std::uint8_t> data,
                                          std::chrono::milliseconds timeout) = 0;
};

/// A subscription to the bus's arrivals and departures (DeviceSource::watch); ends when destroyed.
class BusWatch {
public:
    virtual ~BusWatch() = default;
};

/// Where devices in DFU mode are found: USB (libusb) or a directory of simulated devices.
class DeviceSource {
public:
    virtual ~DeviceSource() = default;
    /// Calls `changed` (on a thread of the source's own, briefly: it must not block) whenever a
    /// device in DFU mode (0483:df11) arrives or leaves, until the returned watch is destroyed.
    /// Errors: unsupported where the source cannot tell (no hotplug: poll list() instead).
    virtual Result<std::unique_ptr<BusWatch>> watch(std::function<void()> changed) {
        (void)changed;
        return fail(Errc::unsupported, "this device source has no hotplug events: poll it");
    }
    /// Every device in DFU mode (0483:df11) now present, sorted by port path.
    /// Errors: io/unavailable when the bus cannot be read.
    virtual Result<std::vector<UsbIdentity>> list() = 0;
    /// Opens the device at `portPath`. Errors: notFound (nothing there), unavailable (busy: another
    /// process has it), io.
    virtual Result<std::unique_ptr<DfuTransport>> open(std::string_view portPath) = 0;
};

/// Arrivals and departures since the last poll, by port path.
struct DeviceChanges {
    std::vector<UsbIdentity> arrived;
    std::vector<UsbIdentity> left;
};

/// Sees boards arrive in and leave DFU mode by polling a DeviceSource (hotplug events,
/// DeviceSource::watch, are not available on every platform nor for the simulator; a poll
/// every few hundred ms is plenty for a fixture slot). Not thread-safe.
class DeviceWatcher {
public:
    explicit DeviceWatcher(DeviceSource& source) : m_source(source) {}
    /// Lists the source and compares with the previous poll (the first poll reports every
    /// present device as arrived). A device whose serial changed at the same port counts as
    /// left and arrived. Errors: those of DeviceSource::list().
    Result<DeviceChanges> poll();
    [[nodiscard]] const std::vector<UsbIdentity>& present() const { return m_present; }

private:
    DeviceSource& m_source;
    std::vector<UsbIdentity> m_present;
};

}  // namespace tte::flasher
