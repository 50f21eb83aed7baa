// Gang flashing: many fixture slots at once, one thread per slot, each slot named by its
// USB port path (ROM bootloader serial numbers collide). A slot's failure never touches
// another slot: each has its own transport, session and result.
#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tte/base/clock.h"
#include "tte/flasher/flasher.h"
#include "tte/flasher/transport.h"

namespace tte::flasher {

struct SlotResult {
    std::string portPath;
    Result<WriteReport> result;
    std::chrono::nanoseconds cpuTime{0};  ///< CPU time of the slot's thread (protocol work on the host)
};

/// Called from the slot threads, possibly at the same time: must be thread-safe.
using SlotProgressCallback = std::function<void(const std::string& portPath, const Progress&)>;
/// The clock a slot's Flasher waits on (one shared clock, or one per simulated slot).
using SlotClock = std::function<Clock&(const std::string& portPath)>;

class GangFlasher {
public:
    GangFlasher(DeviceSource& source, Clock& clock, DfuseTimeouts timeouts = {});
    GangFlasher(DeviceSource& source, SlotClock slotClock, DfuseTimeouts timeouts = {});

    /// Writes `segments` to the device at every port path, in parallel; returns one result
    /// per port path in the same order. A port path that cannot be opened (notFound,
    /// unavailable when busy) fails that slot only. Errors per slot: those of
    /// DeviceSource::open() and Flasher::write(), prefixed with "slot <port path>".
    std::vector<SlotResult> write(std::span<const std::string> portPaths, std::span<const Segment> segments,
                                  const WriteOptions& options, const SlotProgressCallback& progress = {});

private:
    SlotResult writeSlot(const std::string& portPath, std::span<const Segment> segments, const WriteOptions& options,
                         const SlotProgressCallback& progress);

    DeviceSource& m_source;
    SlotClock m_slotClock;
    DfuseTimeouts m_timeouts;
};

}  // namespace tte::flasher
