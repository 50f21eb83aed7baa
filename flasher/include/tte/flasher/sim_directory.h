// A directory of simulated STM32F405 devices, shared by processes: `tte-flash sim create DIR`
// makes them, `--sim DIR` makes every tte-flash command (and the station) use them.
// Per device, named by its port path P: P.state (text: serial, mode, protection, DFU state),
// P.flash (the raw 1 MiB flash image, as QEMU and tte-device load it) and P.lock. A device
// is opened under an exclusive flock(2) on P.lock, so concurrent processes never interleave
// on one device; files are replaced by rename, so readers never see half a file.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/clock.h"
#include "tte/flasher/stm32_sim.h"
#include "tte/flasher/transport.h"

namespace tte::flasher {

struct SimCreateOptions {
    int count = 1;
    /// Real ROM bootloaders of some STM32F4 revisions all report this serial; by default every
    /// simulated device does too, so nothing may tell slots apart by serial.
    bool distinctSerials = false;
};

/// What is stored for one simulated device besides its flash.
struct SimDeviceRecord {
    UsbIdentity identity;
    bool dfuMode = true;  ///< false after a leave: it runs its firmware and is not listed
    int rdpLevel = 0;
    std::uint16_t wrpMask = 0;
    DfuState state = DfuState::dfuIdle;
    DfuStatus status = DfuStatus::ok;
};

class SimDirectory final : public DeviceSource {
public:
    SimDirectory(std::filesystem::path dir, Clock& clock, SimBehaviour behaviour = {});

    /// Makes `options.count` devices (port paths 1-1.1 … 1-1.N) in DFU mode with erased flash.
    /// Errors: invalidArgument (count outside 1..127), alreadyExists (a device file is there), io.
    static Status create(const std::filesystem::path& dir, const SimCreateOptions& options);

    /// Devices in DFU mode, by port path. Errors: notFound (not a simulator directory), io.
    Result<std::vector<UsbIdentity>> list() override;
    /// Opens one device under its lock; its state and flash are saved when the transport is
    /// destroyed (and survive an unplug). Errors: notFound, unavailable (another process has
    /// it open, as libusb's LIBUSB_ERROR_BUSY), io.
    Result<std::unique_ptr<DfuTransport>> open(std::string_view portPath) override;

    /// Reads / replaces a device's record (for `tte-flash sim set` and tests). Takes the lock.
    Result<SimDeviceRecord> record(std::string_view portPath);
    Status update(std::string_view portPath, const SimDeviceRecord& record);
    /// Path of a device's flash image.
    [[nodiscard]] std::filesystem::path flashPath(std::string_view portPath) const;

private:
    std::filesystem::path m_dir;
    Clock& m_clock;
    SimBehaviour m_behaviour;
};

}  // namespace tte::flasher
