// Writing and reading the internal flash of an STM32 in its ROM DfuSe bootloader: erase only
// the sectors an image touches, download, verify every written region by read-back CRC (a
// write-protected sector erases "successfully" on real parts, so read-back is the truth),
// and optionally leave DFU mode to start the firmware. Only the "Internal Flash" alternate
// setting is written here; option bytes (read protection) are board_control.h's.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tte/base/clock.h"
#include "tte/flasher/dfuse.h"
#include "tte/flasher/memory_layout.h"
#include "tte/flasher/segment.h"
#include "tte/flasher/transport.h"

namespace tte::flasher {

enum class Phase { erase, download, verify, read, leave, lock };
std::string_view phaseName(Phase phase);

/// Progress of one device: `done` of `total` units (sectors while erasing, bytes otherwise).
struct Progress {
    Phase phase = Phase::erase;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
};
/// Called on the thread that runs write()/read(); must not block for long.
using ProgressCallback = std::function<void(const Progress&)>;

struct WriteOptions {
    bool verify = true;
    bool leave = false;
    /// Where the firmware starts after leave; default: the first address of the flash.
    std::optional<std::uint32_t> leaveAddress;
    /// Extra ranges to erase without writing (e.g. the controller record log, sector 3).
    std::vector<std::pair<std::uint32_t, std::uint32_t>> alsoErase;  ///< (address, length)
};

/// A region read back and found equal to what was written.
struct VerifiedRegion {
    std::uint32_t address = 0;
    std::uint32_t length = 0;
    std::uint32_t crc32 = 0;  ///< CRC-32 (IEEE, as zlib) of the region
};

struct WriteReport {
    std::vector<int> erasedSectors;  ///< sector numbers, ascending
    std::uint64_t bytesWritten = 0;
    std::vector<VerifiedRegion> verified;
    bool left = false;
    Clock::Duration elapsed{0};  ///< on the Flasher's clock
};

/// The flash memory of a device in DFU mode, found and claimed.
struct FlashTarget {
    DfuAltSetting alt;
    MemoryLayout layout;
    std::uint16_t transferSize = 0;
};

/// Finds the alternate setting whose DfuSe memory is named `name` ("Internal Flash",
/// "Option Bytes", "OTP Memory"), parses its layout, reads wTransferSize, claims it.
/// Errors: notFound (no such alt setting), invalidArgument (bad layout string or
/// wTransferSize 0), transport errors.
Result<FlashTarget> openMemory(DfuTransport& transport, std::string_view name);
/// openMemory(transport, "Internal Flash").
Result<FlashTarget> openFlashTarget(DfuTransport& transport);

/// Checks segments against the layout: none empty, none overlapping, all inside writable
/// sectors. Returns the sectors to erase (with `alsoErase`), ascending. Errors:
/// invalidArgument (empty, overlapping), outOfRange (outside the flash layout), permissionDenied.
Result<std::vector<MemorySector>> sectorsToErase(const MemoryLayout& layout, std::span<const Segment> segments,
                                                 std::span<const std::pair<std::uint32_t, std::uint32_t>> alsoErase);

class Flasher {
public:
    explicit Flasher(Clock& clock, DfuseTimeouts timeouts = {}) : m_clock(clock), m_timeouts(timeouts) {}

    /// Erases the touched sectors, downloads every segment, verifies by read-back CRC if asked,
    /// leaves DFU mode if asked. Errors: those of sectorsToErase (nothing is erased then);
    /// permissionDenied (read-protected device: reported, never "fixed" by unprotecting,
    /// which would mass-erase it); corrupt (read-back differs: names the first differing
    /// address and its sector); io/timeout/unavailable from the device or transport, each
    /// naming the step. After any error the next write() starts cleanly from dfuIDLE.
    Result<WriteReport> write(DfuTransport& transport, std::span<const Segment> segments, const WriteOptions& options,
                              const ProgressCallback& progress = {});

    /// Reads [address, address + length) of the internal flash. Errors: outOfRange (outside
    /// the layout), permissionDenied (read-protected), transport errors.
    Result<std::vector<std::uint8_t>> read(DfuTransport& transport, std::uint32_t address, std::uint32_t length,
                                           const ProgressCallback& progress = {});

private:
    Result<std::vector<std::uint8_t>> readWith(DfuseSession& session, std::uint32_t address, std::uint32_t length,
                                               const ProgressCallback& progress, Phase phase, std::uint64_t* done,
                                               std::uint64_t total);
    Status verify(DfuseSession& session, const FlashTarget& target, std::span<const Segment> segments,
                  const ProgressCallback& progress, WriteReport* report);

    Clock& m_clock;
    DfuseTimeouts m_timeouts;
};

/// CRC-32 (IEEE 802.3, as zlib's crc32()).
std::uint32_t crc32(std::span<const std::uint8_t> bytes);

}  // namespace tte::flasher
