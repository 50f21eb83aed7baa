// The libusb adapter against a fake STM32 DFU device made with umockdev (no hardware and no
// kernel modules here): enumeration by VID:PID, port path, open, functional descriptor,
// claim, unplug without leaking fds, and opening a board again at its port after the reset
// an option-byte write or read unprotect causes. The device description is written by hand below.
// umockdev cannot answer control-IN transfers (usbfs control URBs are replayed only as
// outputs), so the DfuSe protocol itself is tested through the seam against the simulator.
// Runs under umockdev-wrapper (LD_PRELOAD), set up in CMakeLists.txt.
#include <gtest/gtest.h>
#include <umockdev.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/flasher/board_control.h"
#include "tte/flasher/usb_transport.h"

namespace tte::flasher {
namespace {

// Root hub (bus 1), an external hub on root port 1, the STM32 on that hub's port 3.
constexpr const char* kHubDescriptors =
    "12010002090001406B1D020000010302010109021900010100E0000904000001090000000705810304000C";
// Device: bcdUSB 2.00, 0483:df11, bcdDevice 22.00, strings 1/2/3, one configuration.
// Configuration: one interface (0) with four DFU alternate settings (class FE, subclass 01,
// protocol 02, iInterface 4..7) and the DFU functional descriptor: attributes 0x0B,
// detach timeout 255 ms, wTransferSize 2048, bcdDFU 1.1a.
constexpr const char* kStmDescriptors =
    "1201000200000040830411DF0022010203010902360001010CC0320904000000FE01020409040001" "00FE010205"
    "0904000200FE0102060904000300FE010207" "09210BFF0000081A01";

constexpr const char* kStmSysPath = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.3";

std::string stmDescription() {
    std::string d = "P: /devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.3\nN: bus/usb/001/005=";
    d += kStmDescriptors;
    d += "\nE: BUSNUM=001\nE: DEVNUM=005\nE: DEVNAME=/dev/bus/usb/001/005\nE: DEVTYPE=usb_device\nE: DRIVER=usb\n"
         "E: SUBSYSTEM=usb\nE: PRODUCT=483/df11/2200\nE: TYPE=0/0/0\nE: MAJOR=189\nE: MINOR=4\nA: busnum=1\nA: devnum=5\n"
         "A: devpath=1.3\nA: speed=12\nA: idVendor=0483\nA: idProduct=df11\nA: bConfigurationValue=1\n"
         "A: serial=325E35633334\nA: product=STM32  BOOTLOADER\nH: descriptors=";
    d += kStmDescriptors;
    d += "\n";
    return d;
}

std::string description() {
    std::string d;
    d += "P: /devices/pci0000:00/0000:00:14.0/usb1\nN: bus/usb/001/001=";
    d += kHubDescriptors;
    d += "\nE: BUSNUM=001\nE: DEVNUM=001\nE: DEVNAME=/dev/bus/usb/001/001\nE: DEVTYPE=usb_device\nE: DRIVER=usb\n"
         "E: SUBSYSTEM=usb\nE: PRODUCT=1d6b/2/600\nA: busnum=1\nA: devnum=1\nA: speed=480\nA: bConfigurationValue=1\n"
         "H: descriptors=";
    d += kHubDescriptors;
    d += "\n\nP: /devices/pci0000:00/0000:00:14.0/usb1/1-1\nN: bus/usb/001/002=";
    d += kHubDescriptors;
    d += "\nE: BUSNUM=001\nE: DEVNUM=002\nE: DEVNAME=/dev/bus/usb/001/002\nE: DEVTYPE=usb_device\nE: DRIVER=usb\n"
         "E: SUBSYSTEM=usb\nE: PRODUCT=1d6b/2/600\nA: busnum=1\nA: devnum=2\nA: devpath=1\nA: speed=480\n"
         "A: bConfigurationValue=1\nH: descriptors=";
    d += kHubDescriptors;
    d += "\n\n";
    d += stmDescription();
    return d;
}

// Open file descriptors of this process that refer to the fake device's usbfs node.
std::size_t deviceFds() {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        if (std::filesystem::read_symlink(e.path(), ec).string().ends_with("/dev/bus/usb/001/005")) ++n;
    }
    return n;
}

class UsbUmockdev : public ::testing::Test {
protected:
    void SetUp() override {
        // (umockdev_in_mock_environment() answers false here even under the wrapper, as /sys has
        // inode 1 in this container; without the wrapper the tests fail on the real, empty bus.)
        m_testbed = umockdev_testbed_new();
        GError* error = nullptr;
        const bool ok = umockdev_testbed_add_from_string(m_testbed, description().c_str(), &error);
        ASSERT_TRUE(ok) << (error ? error->message : "?");
        loadStmIoctls();
    }
    // usbfs ioctls of the fake node: CONNECTINFO, claim/release answer from umockdev's ioctl tree.
    void loadStmIoctls() {
        GError* error = nullptr;
        const auto ioctl = m_dir.path() / "stm.ioctl";
        std::ofstream(ioctl) << "@DEV /dev/bus/usb/001/005 (usbdevfs)\nUSBDEVFS_CONNECTINFO 0 0500000000000000\n";
        ASSERT_TRUE(umockdev_testbed_load_ioctl(m_testbed, "/dev/bus/usb/001/005", ioctl.c_str(), &error))
            << (error ? error->message : "?");
    }
    // The board comes back on the bus (re-enumeration after its reset), announced by a uevent.
    void replugStm() {
        GError* error = nullptr;
        ASSERT_TRUE(umockdev_testbed_add_from_string(m_testbed, stmDescription().c_str(), &error))
            << (error ? error->message : "?");
        loadStmIoctls();
        umockdev_testbed_uevent(m_testbed, kStmSysPath, "add");
    }
    // The board drops off the bus (its reset), announced by a uevent.
    void unplugStm() {
        umockdev_testbed_uevent(m_testbed, kStmSysPath, "remove");
        umockdev_testbed_remove_device(m_testbed, kStmSysPath);
    }
    void TearDown() override {
        if (m_testbed) g_object_unref(m_testbed);
    }
    UMockdevTestbed* m_testbed = nullptr;
    test::TempDir m_dir;
};

TEST_F(UsbUmockdev, ListsTheDfuDeviceWithItsPortPath) {
    auto source = UsbDeviceSource::create();
    ASSERT_TRUE(source) << source.error().toString();
    auto list = (*source)->list();
    ASSERT_TRUE(list) << list.error().toString();
    ASSERT_EQ(list->size(), 1U);  // the hubs are not 0483:df11
    EXPECT_EQ((*list)[0].portPath, "1-1.3");
    EXPECT_EQ((*list)[0].vendorId, 0x0483);
    EXPECT_EQ((*list)[0].productId, 0xDF11);
    EXPECT_EQ((*list)[0].bcdDevice, 0x2200);
}

TEST_F(UsbUmockdev, OpensReadsTheDfuInterfaceAndClaims) {
    auto source = UsbDeviceSource::create();
    ASSERT_TRUE(source);
    auto dev = (*source)->open("1-1.3");
    ASSERT_TRUE(dev) << dev.error().toString();
    EXPECT_EQ((*dev)->identity().portPath, "1-1.3");
    auto functional = (*dev)->functional();
    ASSERT_TRUE(functional) << functional.error().toString();
    EXPECT_EQ(functional->transferSize, 2048);
    EXPECT_EQ(functional->bcdDfu, 0x011A);
    EXPECT_EQ(functional->attributes, 0x0B);
    // USBDEVFS_CLAIMINTERFACE is answered by umockdev's ioctl tree; USBDEVFS_SETINTERFACE is
    // not among the ioctls umockdev emulates, so the claim gets exactly as far as selecting
    // the alternate setting (a control request on real hardware).
    auto claimed = (*dev)->claim(0, 0);
    if (!claimed) {
        EXPECT_EQ(claimed.error().message, "selecting alternate setting 0: Other error");
        EXPECT_EQ(claimed.error().nativeName, "LIBUSB_ERROR_OTHER");
    }
    auto missing = (*source)->open("1-1.4");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "no STM32 in DFU mode (0483:df11) at port 1-1.4");
}

TEST_F(UsbUmockdev, UnplugLeavesNoFdBehind) {
    auto source = UsbDeviceSource::create();
    ASSERT_TRUE(source);
    EXPECT_EQ(deviceFds(), 0U);
    {
        auto dev = (*source)->open("1-1.3");
        ASSERT_TRUE(dev) << dev.error().toString();
        EXPECT_EQ(deviceFds(), 1U);
        umockdev_testbed_remove_device(m_testbed, kStmSysPath);
        // A fresh enumeration no longer finds it. (The open context learns of a removal only
        // from a uevent: umockdev_testbed_remove_device sends none; see unplugStm().)
        auto fresh = UsbDeviceSource::create();
        ASSERT_TRUE(fresh);
        auto list = (*fresh)->list();
        ASSERT_TRUE(list);
        EXPECT_TRUE(list->empty());
        std::uint8_t status[6];
        auto r = (*dev)->controlIn({0xA1, 3, 0, 0}, status, std::chrono::milliseconds(100));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().domain, "libusb");
    }
    EXPECT_EQ(deviceFds(), 0U);  // the handle was closed although the device had vanished
}

/// Waits (up to 10 s) until libusb's device list – kept by its hotplug thread from the uevents
/// – shows the board at 1-1.3 present or gone.
bool listedWithin(DeviceSource& source, bool present) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        auto list = source.list();
        if (list && (list->size() == 1) == present) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
}

/// Virtual time that lets the test act at each wait of the code under test.
class ActingClock final : public Clock {
public:
    explicit ActingClock(std::function<void(int sleeps)> onSleep) : m_onSleep(std::move(onSleep)) {}
    [[nodiscard]] TimePoint now() const override { return m_clock.now(); }
    [[nodiscard]] std::chrono::system_clock::time_point wallNow() const override { return m_clock.wallNow(); }
    void sleepFor(Duration d) override {
        m_clock.sleepFor(d);
        m_onSleep(++m_sleeps);
    }
    [[nodiscard]] int sleeps() const { return m_sleeps; }

private:
    ManualClock m_clock;
    std::function<void(int)> m_onSleep;
    int m_sleeps = 0;
};

// What BoardControl does after an option-byte write or read unprotect, with the real libusb:
// the device drops off the bus, the old handle is dead, the board is found again by its port
// path once it has re-enumerated.
TEST_F(UsbUmockdev, ABoardThatResetIsOpenedAgainAtItsPort) {
    auto source = UsbDeviceSource::create();
    ASSERT_TRUE(source);
    auto dev = (*source)->open("1-1.3");
    ASSERT_TRUE(dev) << dev.error().toString();
    const UsbIdentity before = (*dev)->identity();
    unplugStm();
    ASSERT_TRUE(listedWithin(**source, false));
    std::uint8_t status[6];
    EXPECT_FALSE((*dev)->controlIn({0xA1, 3, 0, 0}, status, std::chrono::milliseconds(100)));
    dev->reset();
    ActingClock clock([&](int sleeps) {
        if (sleeps != 3) return;
        replugStm();  // back on the bus after 300 ms
        ASSERT_TRUE(listedWithin(**source, true));
    });
    auto back = reopenAfterReset(**source, "1-1.3", before, clock, std::chrono::seconds(10));
    ASSERT_TRUE(back) << back.error().toString();
    EXPECT_EQ(clock.sleeps(), 3);
    EXPECT_EQ((*back)->identity().portPath, "1-1.3");
    auto functional = (*back)->functional();
    ASSERT_TRUE(functional) << functional.error().toString();
    EXPECT_EQ(functional->transferSize, 2048);
}

// The fixture's seat watch: the real libusb's hotplug callback for 0483:df11 reports the
// board leaving and coming back (umockdev's uevents), where libusb says it has hotplug; where
// it does not, watch() says so and the station polls.
TEST_F(UsbUmockdev, HotplugReportsTheBoardLeavingAndArriving) {
    auto source = UsbDeviceSource::create();
    ASSERT_TRUE(source);
    std::atomic<int> events{0};
    auto watch = (*source)->watch([&] { ++events; });
    if (!watch && watch.error().code == Errc::unsupported)
        GTEST_SKIP() << watch.error().message << " (the station polls: tested in station_test)";
    ASSERT_TRUE(watch) << watch.error().toString();
    const auto seen = [&](int n) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (events.load() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
        return events.load() >= n;
    };
    const int before = events.load();  // libusb may report the board present at registration
    unplugStm();
    ASSERT_TRUE(seen(before + 1)) << "no hotplug event for the board leaving";
    ASSERT_TRUE(listedWithin(**source, false));
    replugStm();
    ASSERT_TRUE(seen(before + 2)) << "no hotplug event for the board arriving";
    ASSERT_TRUE(listedWithin(**source, true));
    watch->reset();  // deregisters and joins its event thread
    const int after = events.load();
    unplugStm();
    ASSERT_TRUE(listedWithin(**source, false));
    EXPECT_EQ(events.load(), after);  // no callback once the watch is gone
}

TEST_F(UsbUmockdev, ABoardThatDoesNotComeBackIsReportedAtTheDeadline) {
    auto source = UsbDeviceSource::create();
    ASSERT_TRUE(source);
    auto dev = (*source)->open("1-1.3");
    ASSERT_TRUE(dev);
    const UsbIdentity before = (*dev)->identity();
    unplugStm();
    ASSERT_TRUE(listedWithin(**source, false));
    dev->reset();
    ActingClock clock([](int) {});
    auto back = reopenAfterReset(**source, "1-1.3", before, clock, std::chrono::seconds(2));
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, Errc::unavailable);
    EXPECT_EQ(back.error().message.rfind("port 1-1.3: the board did not come back in DFU mode within 2000 ms of its "
                                         "reset",
                                         0),
              0U)
        << back.error().message;
    EXPECT_EQ(clock.sleeps(), 20);
}

}  // namespace
}  // namespace tte::flasher
