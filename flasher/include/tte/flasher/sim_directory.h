// A directory of simulated STM32F405 boards, shared by processes: a fixture whose seats are
// USB port paths. `tte-flash sim create DIR` fills seats 1-1.1 … 1-1.N with new boards, `sim
// replace PORT` puts a new blank board into a seat, `sim remove PORT` empties it, and `--sim
// DIR` makes every tte-flash command (and the station) use them.
// Per seat P holding a board: P.state (text: unique ID, serial, mode, option bytes, DFU
// state) and P.flash (the raw 1 MiB flash image, as QEMU and tte-device load it); the board
// is opened under an exclusive flock(2) on P.<uid>.lock (one lock per board, so a board put
// into a seat is free although a process still holds the one taken out). Files are replaced
// by rename, so readers never see half a file; seats.lock serialises the short moments
// where a seat's files change (replace, remove, a session saving its board).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/clock.h"
#include "tte/flasher/stm32_device.h"
#include "tte/flasher/stm32_sim.h"
#include "tte/flasher/transport.h"

namespace tte::flasher {

struct SimCreateOptions {
    int count = 1;
    /// Boards whose bootloader reports kAllOnesUidSerial ("FFFFFFFEFFFF") whatever their
    /// unique ID, as some STM32F4 bootloader versions do: then nothing may tell seats apart
    /// by serial. Default: the serial the ROM derives from each board's own unique ID.
    bool allOnesSerials = false;
};

/// What is stored for one simulated board besides its flash.
struct SimDeviceRecord {
    UsbIdentity identity;
    McuUid uid;
    bool dfuMode = true;  ///< false after a leave (or at RDP level 2): it runs its firmware and is not listed
    OptionBytes options = OptionBytes::factoryDefault();
    DfuState state = DfuState::dfuIdle;
    DfuStatus status = DfuStatus::ok;
};

/// A new unique ID shaped as ST's are (word 0: wafer X/Y, word 1: lot characters and wafer
/// number, word 2: lot characters), from the system's random generator.
McuUid randomMcuUid();

class SimDirectory final : public DeviceSource {
public:
    SimDirectory(std::filesystem::path dir, Clock& clock, SimBehaviour behaviour = {});

    /// Makes `options.count` new blank boards (seats 1-1.1 … 1-1.N) in DFU mode, each with
    /// its own random unique ID. Errors: invalidArgument (count outside 1..127),
    /// alreadyExists (a board is there), io.
    static Status create(const std::filesystem::path& dir, const SimCreateOptions& options);

    /// Boards in DFU mode, by port path; empty seats are not listed. Errors: notFound (not a
    /// simulator directory), corrupt (an unreadable state file), io.
    Result<std::vector<UsbIdentity>> list() override;
    /// Opens one board under its lock; its state and flash are saved when the transport is
    /// destroyed or the board resets. If the board is taken out of its seat (remove or
    /// replace) while open, every later transfer fails as an unplug does (unavailable,
    /// LIBUSB_ERROR_NO_DEVICE) and nothing is saved. Errors: notFound, unavailable (another
    /// process has it open, as libusb's LIBUSB_ERROR_BUSY), io.
    Result<std::unique_ptr<DfuTransport>> open(std::string_view portPath) override;

    /// Puts a new blank board into the seat at `portPath` (an empty seat or one whose board
    /// is taken out, even while a process has it open): new random unique ID, erased flash,
    /// factory option bytes, DFU mode. Returns its record. Errors: invalidArgument (not a
    /// port path), notFound (no simulator directory), io.
    Result<SimDeviceRecord> replace(std::string_view portPath, bool allOnesSerial = false);
    /// Takes the board out of its seat. Errors: invalidArgument, notFound (the seat is empty), io.
    Status remove(std::string_view portPath);

    /// Reads / replaces a board's record (for `tte-flash sim set` and tests). update() takes
    /// the board's lock: unavailable while a process has it open.
    Result<SimDeviceRecord> record(std::string_view portPath);
    Status update(std::string_view portPath, const SimDeviceRecord& record);
    /// Path of a seat's flash image.
    [[nodiscard]] std::filesystem::path flashPath(std::string_view portPath) const;

private:
    std::filesystem::path m_dir;
    Clock& m_clock;
    SimBehaviour m_behaviour;
};

}  // namespace tte::flasher
