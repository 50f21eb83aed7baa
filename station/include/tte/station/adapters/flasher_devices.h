// DeviceFlasher over tte::flasher: DfuSe .dfu files, devices from a DeviceSource (libusb or
// a simulator directory), write + read-back verify by the Flasher, unique ID and read
// protection by the BoardControl.
#pragma once

#include <atomic>

#include "tte/base/clock.h"
#include "tte/flasher/board_control.h"
#include "tte/station/ports.h"

namespace tte::station {

/// The lot's firmware from its DfuSe file, without any device (what loadFirmware() gives).
/// Errors: as FlasherDevices::loadFirmware().
Result<FirmwareImage> loadFirmwareFile(const std::string& path);

class FlasherDevices final : public DeviceFlasher {
public:
    /// `source` and `clock` (the clock the flasher waits on) must outlive this object.
    FlasherDevices(flasher::DeviceSource& source, Clock& clock)
        : m_source(source), m_clock(clock), m_boards(source, clock) {}

    /// Errors: io (unreadable), invalidArgument/corrupt/unsupported (bad DfuSe, from the
    /// flasher's parser), invalidArgument "no target for alternate setting 0 (Internal Flash)".
    Result<FirmwareImage> loadFirmware(const std::string& path) override;
    Result<std::vector<std::string>> slots() override;
    /// Segments that are all 0xFF are erased rather than written, then read back blank.
    Status writeAndVerify(const std::string& slot, std::span<const FlashSegment> segments,
                          const FlashProgressFn& progress = {}) override;
    Result<std::vector<std::uint8_t>> read(const std::string& slot, std::uint32_t address, std::size_t length) override;
    Result<BoardIdentity> identify(const std::string& slot) override;
    Status protect(const std::string& slot, ReadProtection level) override;
    Result<BoardIdentity> unprotect(const std::string& slot) override;
    /// The source's hotplug events (libusb); unsupported for the simulator and without hotplug.
    Result<std::unique_ptr<BusSubscription>> watchBus(std::function<void()> changed) override;

    /// Total time the flasher spent writing, verifying, locking and unlocking, on its clock (for the bench).
    [[nodiscard]] Clock::Duration flashTime() const { return Clock::Duration(m_flashNs.load()); }

private:
    flasher::DeviceSource& m_source;
    Clock& m_clock;
    flasher::BoardControl m_boards;
    std::atomic<std::int64_t> m_flashNs{0};
};

}  // namespace tte::station
