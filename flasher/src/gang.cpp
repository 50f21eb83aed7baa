// GangFlasher: one thread per fixture slot.
#include "tte/flasher/gang.h"

#include <time.h>

#include <exception>

namespace tte::flasher {
namespace {

std::chrono::nanoseconds threadCpuTime() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace

GangFlasher::GangFlasher(DeviceSource& source, Clock& clock, DfuseTimeouts timeouts)
    : m_source(source), m_slotClock([&clock](const std::string&) -> Clock& { return clock; }), m_timeouts(timeouts) {}

GangFlasher::GangFlasher(DeviceSource& source, SlotClock slotClock, DfuseTimeouts timeouts)
    : m_source(source), m_slotClock(std::move(slotClock)), m_timeouts(timeouts) {}

SlotResult GangFlasher::writeSlot(const std::string& portPath, std::span<const Segment> segments,
                                  const WriteOptions& options, const SlotProgressCallback& progress) {
    const auto cpuStart = threadCpuTime();
    SlotResult out{portPath, fail(Errc::internal, "not run"), {}};
    const std::string context = "slot " + portPath;
    try {
        auto transport = m_source.open(portPath);
        if (!transport) {
            out.result = withContext(transport.error(), context);
        } else {
            Flasher flasher(m_slotClock(portPath), m_timeouts);
            ProgressCallback cb;
            if (progress) cb = [&](const Progress& p) { progress(portPath, p); };
            auto r = flasher.write(**transport, segments, options, cb);
            out.result = r ? std::move(r) : Result<WriteReport>(withContext(r.error(), context));
        }
    } catch (const std::exception& e) {
        // Out of memory or a bug in one slot must not take the other slots down.
        out.result = fail(Errc::internal, context + ": " + e.what());
    }
    out.cpuTime = threadCpuTime() - cpuStart;
    return out;
}

std::vector<SlotResult> GangFlasher::write(std::span<const std::string> portPaths, std::span<const Segment> segments,
                                           const WriteOptions& options, const SlotProgressCallback& progress) {
    return onEverySlot(portPaths,
                       [&](const std::string& port) { return writeSlot(port, segments, options, progress); });
}

}  // namespace tte::flasher
