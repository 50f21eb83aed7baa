// libusb adapter of the DfuTransport seam.
#include "tte/flasher/usb_transport.h"

#include <libusb.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

namespace tte::flasher {
namespace {

constexpr std::uint8_t kDfuClass = 0xFE;
constexpr std::uint8_t kDfuSubclass = 0x01;
constexpr std::uint8_t kDfuFunctionalType = 0x21;
constexpr unsigned kStringTimeoutMs = 1000;

std::string portPathOf(libusb_device* dev) {
    std::uint8_t ports[8];
    const int n = libusb_get_port_numbers(dev, ports, sizeof ports);
    std::string out = std::to_string(libusb_get_bus_number(dev));
    for (int i = 0; i < n; ++i) out += (i == 0 ? "-" : ".") + std::to_string(ports[i]);
    return out;
}

/// Unreferences a device list on scope exit.
struct DeviceList {
    libusb_device** devices = nullptr;
    ssize_t count = 0;
    ~DeviceList() {
        if (devices) libusb_free_device_list(devices, 1);
    }
};

/// The configuration descriptor, freed on scope exit.
struct ConfigDescriptor {
    libusb_config_descriptor* config = nullptr;
    ~ConfigDescriptor() {
        if (config) libusb_free_config_descriptor(config);
    }
};

Result<std::string> stringDescriptor(libusb_device_handle* h, std::uint8_t index) {
    if (index == 0) return std::string();
    unsigned char buf[256];
    const int n = libusb_get_string_descriptor_ascii(h, index, buf, sizeof buf);
    if (n < 0) return std::unexpected(usbError(n, "reading string descriptor " + std::to_string(index)));
    return std::string(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

class UsbDfuTransport final : public DfuTransport {
public:
    UsbDfuTransport(libusb_device_handle* handle, UsbIdentity identity, std::vector<std::pair<DfuAltSetting, std::uint8_t>> alts,
                    std::optional<DfuFunctional> functional)
        : m_handle(handle), m_identity(std::move(identity)), m_alts(std::move(alts)), m_functional(functional) {}
    ~UsbDfuTransport() override {
        // Release and close even when the device is gone: libusb frees the fd and handle either way.
        if (m_claimed >= 0) libusb_release_interface(m_handle, m_claimed);
        libusb_close(m_handle);
    }
    UsbDfuTransport(const UsbDfuTransport&) = delete;
    UsbDfuTransport& operator=(const UsbDfuTransport&) = delete;

    [[nodiscard]] const UsbIdentity& identity() const override { return m_identity; }

    Result<std::vector<DfuAltSetting>> altSettings() override {
        std::vector<DfuAltSetting> out;
        for (auto& [alt, stringIndex] : m_alts) {
            if (alt.name.empty() && stringIndex != 0) {
                auto name = stringDescriptor(m_handle, stringIndex);
                if (!name) return std::unexpected(name.error());
                alt.name = *name;
            }
            out.push_back(alt);
        }
        return out;
    }

    Result<DfuFunctional> functional() override {
        if (!m_functional) return fail(Errc::notFound, "the DFU interface has no DFU functional descriptor");
        return *m_functional;
    }

    Status claim(std::uint8_t interfaceNumber, std::uint8_t altSetting) override {
        if (m_claimed != interfaceNumber) {
            if (m_claimed >= 0) libusb_release_interface(m_handle, m_claimed);
            m_claimed = -1;
            if (int rc = libusb_claim_interface(m_handle, interfaceNumber); rc != 0) {
                return std::unexpected(usbError(rc, "claiming interface " + std::to_string(interfaceNumber)));
            }
            m_claimed = interfaceNumber;
        }
        if (int rc = libusb_set_interface_alt_setting(m_handle, interfaceNumber, altSetting); rc != 0) {
            return std::unexpected(usbError(rc, "selecting alternate setting " + std::to_string(altSetting)));
        }
        return {};
    }

    Result<std::size_t> controlOut(const ControlSetup& s, std::span<const std::uint8_t> data,
                                   std::chrono::milliseconds timeout) override {
        return transfer(s, const_cast<std::uint8_t*>(data.data()), data.size(), timeout);
    }
    Result<std::size_t> controlIn(const ControlSetup& s, std::span<std::uint8_t> data,
                                  std::chrono::milliseconds timeout) override {
        return transfer(s, data.data(), data.size(), timeout);
    }

private:
    Result<std::size_t> transfer(const ControlSetup& s, std::uint8_t* data, std::size_t size,
                                 std::chrono::milliseconds timeout) {
        if (size > 0xFFFF) return fail(Errc::invalidArgument, "control transfer longer than 65535 bytes");
        const int rc = libusb_control_transfer(m_handle, s.requestType, s.request, s.value, s.index, data,
                                               static_cast<std::uint16_t>(size),
                                               static_cast<unsigned>(std::max<std::int64_t>(1, timeout.count())));
        if (rc < 0) return std::unexpected(usbError(rc, "control transfer " + std::to_string(s.request)));
        return static_cast<std::size_t>(rc);
    }

    libusb_device_handle* m_handle;
    UsbIdentity m_identity;
    std::vector<std::pair<DfuAltSetting, std::uint8_t>> m_alts;  // alt, iInterface
    std::optional<DfuFunctional> m_functional;
    int m_claimed = -1;
};

std::optional<DfuFunctional> parseFunctional(const unsigned char* extra, int length) {
    for (int at = 0; at + 2 <= length && extra[at] >= 2; at += extra[at]) {
        if (extra[at + 1] == kDfuFunctionalType && extra[at] >= 9 && at + 9 <= length) {
            const unsigned char* d = extra + at;
            return DfuFunctional{d[2], static_cast<std::uint16_t>(d[3] | (d[4] << 8)),
                                 static_cast<std::uint16_t>(d[5] | (d[6] << 8)),
                                 static_cast<std::uint16_t>(d[7] | (d[8] << 8))};
        }
    }
    return std::nullopt;
}

}  // namespace

Error usbError(int code, std::string_view what) {
    Errc errc = Errc::io;
    switch (code) {
    case LIBUSB_ERROR_NO_DEVICE: errc = Errc::unavailable; break;
    case LIBUSB_ERROR_BUSY: errc = Errc::unavailable; break;
    case LIBUSB_ERROR_TIMEOUT: errc = Errc::timeout; break;
    case LIBUSB_ERROR_ACCESS: errc = Errc::permissionDenied; break;
    case LIBUSB_ERROR_NOT_FOUND: errc = Errc::notFound; break;
    case LIBUSB_ERROR_NO_MEM: errc = Errc::resourceExhausted; break;
    case LIBUSB_ERROR_NOT_SUPPORTED: errc = Errc::unsupported; break;
    default: break;
    }
    std::string message = std::string(what) + ": " + libusb_strerror(code);
    if (code == LIBUSB_ERROR_NO_DEVICE) message = std::string(what) + ": the device is gone (unplugged or reset)";
    return Error{errc, std::move(message), "libusb", code, libusb_error_name(code)};
}

Result<std::unique_ptr<UsbDeviceSource>> UsbDeviceSource::create() {
    libusb_context* ctx = nullptr;
    if (int rc = libusb_init(&ctx); rc != 0) return std::unexpected(usbError(rc, "initialising libusb"));
    return std::unique_ptr<UsbDeviceSource>(new UsbDeviceSource(ctx));
}

UsbDeviceSource::~UsbDeviceSource() { libusb_exit(m_context); }

Result<std::vector<UsbIdentity>> UsbDeviceSource::list() {
    DeviceList list;
    list.count = libusb_get_device_list(m_context, &list.devices);
    if (list.count < 0) return std::unexpected(usbError(static_cast<int>(list.count), "listing USB devices"));
    std::vector<UsbIdentity> out;
    for (ssize_t i = 0; i < list.count; ++i) {
        libusb_device_descriptor d{};
        if (libusb_get_device_descriptor(list.devices[i], &d) != 0) continue;
        if (d.idVendor != kStVendorId || d.idProduct != kStDfuProductId) continue;
        UsbIdentity id{d.idVendor, d.idProduct, d.bcdDevice, portPathOf(list.devices[i]), {}, {}};
        libusb_device_handle* h = nullptr;
        if (libusb_open(list.devices[i], &h) == 0) {
            if (auto s = stringDescriptor(h, d.iSerialNumber); s) id.serial = *s;
            if (auto p = stringDescriptor(h, d.iProduct); p) id.product = *p;
            libusb_close(h);
        }
        out.push_back(std::move(id));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.portPath < b.portPath; });
    return out;
}

Result<std::unique_ptr<DfuTransport>> UsbDeviceSource::open(std::string_view portPath) {
    DeviceList list;
    list.count = libusb_get_device_list(m_context, &list.devices);
    if (list.count < 0) return std::unexpected(usbError(static_cast<int>(list.count), "listing USB devices"));
    for (ssize_t i = 0; i < list.count; ++i) {
        libusb_device* dev = list.devices[i];
        libusb_device_descriptor d{};
        if (libusb_get_device_descriptor(dev, &d) != 0 || d.idVendor != kStVendorId || d.idProduct != kStDfuProductId ||
            portPathOf(dev) != portPath) {
            continue;
        }
        ConfigDescriptor cfg;
        if (int rc = libusb_get_active_config_descriptor(dev, &cfg.config); rc != 0) {
            if (int rc2 = libusb_get_config_descriptor(dev, 0, &cfg.config); rc2 != 0) {
                return std::unexpected(usbError(rc, "reading the configuration descriptor"));
            }
        }
        std::vector<std::pair<DfuAltSetting, std::uint8_t>> alts;
        std::optional<DfuFunctional> functional;
        for (int n = 0; n < cfg.config->bNumInterfaces; ++n) {
            const libusb_interface& itf = cfg.config->interface[n];
            for (int a = 0; a < itf.num_altsetting; ++a) {
                const libusb_interface_descriptor& alt = itf.altsetting[a];
                if (alt.bInterfaceClass != kDfuClass || alt.bInterfaceSubClass != kDfuSubclass) continue;
                alts.push_back({DfuAltSetting{alt.bInterfaceNumber, alt.bAlternateSetting, {}}, alt.iInterface});
                if (!functional) functional = parseFunctional(alt.extra, alt.extra_length);
            }
        }
        if (!functional) functional = parseFunctional(cfg.config->extra, cfg.config->extra_length);
        if (alts.empty()) return fail(Errc::notFound, "the device at " + std::string(portPath) + " has no DFU interface");
        libusb_device_handle* h = nullptr;
        if (int rc = libusb_open(dev, &h); rc != 0) {
            return std::unexpected(usbError(rc, "opening the device at " + std::string(portPath)));
        }
        UsbIdentity id{d.idVendor, d.idProduct, d.bcdDevice, std::string(portPath), {}, {}};
        if (auto s = stringDescriptor(h, d.iSerialNumber); s) id.serial = *s;
        return std::unique_ptr<DfuTransport>(std::make_unique<UsbDfuTransport>(h, std::move(id), std::move(alts), functional));
    }
    return fail(Errc::notFound, "no STM32 in DFU mode (0483:df11) at port " + std::string(portPath));
}

}  // namespace tte::flasher

namespace tte::flasher {
namespace {

/// A libusb hotplug callback for 0483:df11 and the thread that handles the context's events
/// (the callback runs there). Destroying it deregisters the callback, wakes the thread and
/// joins it.
class UsbBusWatch final : public BusWatch {
public:
    UsbBusWatch(libusb_context* context, std::function<void()> changed)
        : m_context(context), m_changed(std::move(changed)) {}
    ~UsbBusWatch() override {
        m_stop.store(true);
        if (m_registered) libusb_hotplug_deregister_callback(m_context, m_handle);
        libusb_interrupt_event_handler(m_context);  // wakes libusb_handle_events_timeout_completed
        if (m_thread.joinable()) m_thread.join();
    }
    UsbBusWatch(const UsbBusWatch&) = delete;
    UsbBusWatch& operator=(const UsbBusWatch&) = delete;

    Status start() {
        const int rc = libusb_hotplug_register_callback(
            m_context, static_cast<libusb_hotplug_event>(LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT),
            LIBUSB_HOTPLUG_NO_FLAGS, kStVendorId, kStDfuProductId, LIBUSB_HOTPLUG_MATCH_ANY, &UsbBusWatch::onEvent, this,
            &m_handle);
        if (rc != LIBUSB_SUCCESS) return std::unexpected(usbError(rc, "registering the hotplug callback for 0483:df11"));
        m_registered = true;
        m_thread = std::thread([this] {
            while (!m_stop.load()) {
                timeval tv{0, 500000};  // the stop flag is looked at twice a second at the latest
                libusb_handle_events_timeout_completed(m_context, &tv, nullptr);
            }
        });
        return {};
    }

private:
    static int LIBUSB_CALL onEvent(libusb_context*, libusb_device*, libusb_hotplug_event, void* self) {
        static_cast<UsbBusWatch*>(self)->m_changed();
        return 0;  // stay registered
    }

    libusb_context* m_context;
    std::function<void()> m_changed;
    libusb_hotplug_callback_handle m_handle{};
    bool m_registered = false;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

}  // namespace

Result<std::unique_ptr<BusWatch>> UsbDeviceSource::watch(std::function<void()> changed) {
    if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) == 0)
        return fail(Errc::unsupported, "libusb has no hotplug support here (LIBUSB_CAP_HAS_HOTPLUG): poll the bus");
    auto w = std::make_unique<UsbBusWatch>(m_context, std::move(changed));
    if (auto s = w->start(); !s) return std::unexpected(s.error());
    return std::unique_ptr<BusWatch>(std::move(w));
}

}  // namespace tte::flasher
