// Gang flashing: many fixture slots at once, one thread per slot, each slot named by its
// USB port path (ROM bootloader serial numbers collide). A slot's failure never touches
// another slot: each has its own transport, session and result.
#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <optional>
#include <string>
#include <thread>
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

/// Runs `job(portPath)` for every port path at once, one thread per fixture slot, and
/// returns the results in port order. `job` must not throw (a slot's failure is its result).
template <class Job>
auto onEverySlot(std::span<const std::string> portPaths, Job job) -> std::vector<decltype(job(std::string()))> {
    using R = decltype(job(std::string()));
    std::vector<std::optional<R>> results(portPaths.size());
    {
        std::vector<std::jthread> threads;
        threads.reserve(portPaths.size());
        for (std::size_t i = 0; i < portPaths.size(); ++i) {
            threads.emplace_back([&, i] { results[i].emplace(job(portPaths[i])); });
        }
    }  // jthreads join here
    std::vector<R> out;
    out.reserve(results.size());
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
}

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
