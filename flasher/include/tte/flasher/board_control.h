// Who the STM32F405 at a port is, and its read-out protection, through its ROM DfuSe
// bootloader (AN3156) – the operations next to writing flash:
//   identify   the unique ID (read from the OTP memory's lock bytes on, as the bootloader
//              allows: a read starting at 0x1FFF7A10 is refused), checked against the USB
//              serial the bootloader derives from it; flash size; option bytes; RDP level
//   protect    RDP level 1 (or level 2, only when explicitly allowed) by writing the option
//              bytes; the device resets, comes back, and must then refuse reads
//   unprotect  read unprotect: RDP back to level 0, which mass-erases the flash; the device
//              resets, comes back, and must then read level 0 and a blank flash
// A reset ends the USB session: the board is opened again at the same port path and must be
// the same board (same serial). Real USB and the simulator go through the same code.
#pragma once

#include <optional>
#include <string_view>

#include "tte/base/clock.h"
#include "tte/flasher/dfuse.h"
#include "tte/flasher/flasher.h"
#include "tte/flasher/stm32_device.h"
#include "tte/flasher/transport.h"

namespace tte::flasher {

/// What the bootloader tells about its chip.
struct BoardInfo {
    UsbIdentity usb;
    RdpLevel rdp = RdpLevel::level0;
    /// Absent while read-protected: the bootloader refuses every read (errVENDOR).
    std::optional<McuUid> uid;
    std::optional<std::uint16_t> flashSizeKiB;
    std::optional<OptionBytes> options;
    /// True when the USB serial was checked against `uid` (it is the one the bootloader
    /// derives from it); false when there was no uid or the serial is kAllOnesUidSerial.
    bool serialChecked = false;
};

/// Level 2 cannot be undone (no bootloader, no debug port, no rework ever again): it is
/// written only when the caller says so in these words.
enum class Level2 { refuse, permanentlyAllow };

struct ProtectReport {
    RdpLevel before = RdpLevel::level0;
    RdpLevel after = RdpLevel::level0;
    bool changed = false;  ///< false: the board was at that level already
    Clock::Duration elapsed{0};
};

struct UnprotectReport {
    RdpLevel before = RdpLevel::level0;
    bool erased = false;  ///< false: the board was at level 0 already, nothing was done
    BoardInfo after;      ///< read once it came back (the unique ID is readable again)
    Clock::Duration elapsed{0};
};

/// After a board reset itself (option-byte write, read unprotect) its USB session is gone;
/// it re-enumerates at the same port path. Opens it again, polling `source` every 100 ms of
/// `clock` for up to `within`, and checks that it is the same board: same serial as
/// `before` (not checkable when that is kAllOnesUidSerial). Errors: unavailable (not back in
/// time), conflict (a different board came back), other errors of DeviceSource::open().
Result<std::unique_ptr<DfuTransport>> reopenAfterReset(DeviceSource& source, std::string_view portPath,
                                                       const UsbIdentity& before, Clock& clock,
                                                       std::chrono::milliseconds within);

class BoardControl {
public:
    /// `source` and `clock` must outlive this object.
    BoardControl(DeviceSource& source, Clock& clock, DfuseTimeouts timeouts = {})
        : m_source(source), m_clock(clock), m_timeouts(timeouts) {}

    /// Opens the board at `portPath` and reads what it tells. Errors: notFound (no board),
    /// unavailable (busy, gone), corrupt (the unique ID read does not give the serial the
    /// bootloader reports: not this chip's ID), transport and device errors.
    Result<BoardInfo> identify(std::string_view portPath);
    /// The same on an open transport (left claimed on some alternate setting).
    Result<BoardInfo> identify(DfuTransport& transport);

    /// Sets read protection `level` (1, or 2 with Level2::permanentlyAllow) by writing the
    /// option bytes with only RDP changed; waits for the board to come back and confirms
    /// level 1 by its refusal to read. A board already at `level` is left alone.
    /// Errors: invalidArgument (level 0: that is unprotect()), permissionDenied (level 2 not
    /// allowed; or asked for level 2 on a board at level 1, whose bootloader refuses option
    /// writes), unavailable (the board did not come back within `reenumerate`), conflict (a
    /// different board came back), io (the write did not take), device/transport errors.
    Result<ProtectReport> protect(std::string_view portPath, RdpLevel level, Level2 level2 = Level2::refuse,
                                  const ProgressCallback& progress = {});

    /// Regresses read protection to level 0 with read unprotect – the whole flash is erased
    /// (RM0090 §3.7.3) – waits for the board to come back, confirms level 0 and reads the
    /// whole flash back blank. A board at level 0 is left alone. Errors: unavailable,
    /// conflict (a different board came back), io (still protected afterwards), corrupt
    /// (flash not blank), device/transport errors.
    Result<UnprotectReport> unprotect(std::string_view portPath, const ProgressCallback& progress = {});

private:
    Result<std::unique_ptr<DfuTransport>> open(std::string_view portPath);
    Result<bool> writeOptionBytes(DfuTransport& transport, const OptionBytes& options);

    DeviceSource& m_source;
    Clock& m_clock;
    DfuseTimeouts m_timeouts;
};

}  // namespace tte::flasher
