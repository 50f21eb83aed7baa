// The real DfuTransport: libusb 1.0. Devices are found by VID:PID 0483:df11 and named by
// their port path (bus-port.port...); every control transfer has a timeout; a device that
// vanishes mid-transfer yields `unavailable` (LIBUSB_ERROR_NO_DEVICE) and its handle is
// still released and closed when the transport is destroyed (no fd or handle leak).
#pragma once

#include <memory>
#include <string_view>

#include "tte/flasher/transport.h"

struct libusb_context;

namespace tte::flasher {

/// libusb error code -> tte::Error (domain "libusb", native name as libusb_error_name()).
Error usbError(int code, std::string_view what);

class UsbDeviceSource final : public DeviceSource {
public:
    /// Initialises a private libusb context. Errors: io/unavailable (no usbfs, no permission).
    static Result<std::unique_ptr<UsbDeviceSource>> create();
    ~UsbDeviceSource() override;
    UsbDeviceSource(const UsbDeviceSource&) = delete;
    UsbDeviceSource& operator=(const UsbDeviceSource&) = delete;

    /// Devices with 0483:df11, sorted by port path. The serial is read from the device when it
    /// can be opened (string descriptors are control transfers); empty otherwise.
    Result<std::vector<UsbIdentity>> list() override;
    /// Opens the device at `portPath`, reads its DFU interface from the configuration
    /// descriptor (alt settings, functional descriptor). Errors: notFound, unavailable
    /// (LIBUSB_ERROR_BUSY / NO_DEVICE), permissionDenied (LIBUSB_ERROR_ACCESS), io.
    Result<std::unique_ptr<DfuTransport>> open(std::string_view portPath) override;
    /// libusb hotplug (libusb_hotplug_register_callback for 0483:df11, events handled on a
    /// thread of the watch's own) where libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) says so.
    /// Errors: unsupported (no hotplug on this platform or build: poll list()), the
    /// registration's libusb error.
    Result<std::unique_ptr<BusWatch>> watch(std::function<void()> changed) override;

private:
    explicit UsbDeviceSource(libusb_context* context) : m_context(context) {}
    libusb_context* m_context;
};

}  // namespace tte::flasher
