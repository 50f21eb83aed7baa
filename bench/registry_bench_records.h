// registry_bench's records and its measures of work: the station records it imports (as a line
// makes them, MCU unique IDs included), the CPU time and disk writes of the bench and of the
// PostgreSQL server it starts, and what it does to the database between its phases (settled
// after an import, held in memory, its size) (registry_bench_records.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tte/mothership/crypto.h"
#include "tte/mothership/registry.h"

namespace tte::bench::registry {

inline constexpr std::uint32_t kFirstDev = 0x100;
inline constexpr std::int64_t kNow = 1'764'745'200'000;  // 2025-12-03, unix ms

/// Device i's OTP and Dev ID.
std::uint64_t otpOf(std::uint64_t i);
std::uint32_t devIdOf(std::uint64_t i);
/// The MCU unique ID of the i-th board: from a line's reels, or (`random`) all bits random.
std::string mcuUidOf(std::uint64_t i, bool random);
/// Device i as a station's record makes it.
mothership::DeviceRow deviceRow(std::uint64_t i, const mothership::OtpHasher& hasher, bool randomMcuIds);

/// CPU seconds of this process so far.
double cpuSeconds();
/// CPU seconds of the PostgreSQL server with main process `pid` so far (0 without one).
double serverCpuSeconds(int pid);
/// Bytes this process has caused to be written to the disk so far.
double writtenBytes();
/// KiB the whole machine has read from its disks so far (/proc/vmstat, pgpgin): the reads of
/// a PostgreSQL server's processes count as well as this process's.
double diskReadKiB();

/// What the machine's whole disks (/sys/block, without loop, RAM and zram devices) have done
/// so far, from /proc/diskstats: writes, the milliseconds they took (from issue to completion,
/// queueing included), and cache flushes (an fsync's flush request) with theirs.
struct DiskCounters {
    double writes = 0;
    double writeMs = 0;
    double flushes = 0;
    double flushMs = 0;
};
DiskCounters diskCounters();

/// Where a phase of commits went, as one line on stderr: per operation, this process's CPU time
/// and the PostgreSQL server's (0 on SQLite), the bytes this process wrote, and the machine's
/// disk reads, writes and cache flushes (each fsync asks for one) with the time each write and
/// flush took, queueing included. Claims and registrations wait for their commit's flush; when
/// they slow down with the registry's size, this line tells whether the disk or the CPU took
/// the time.
class CommitPhase {
public:
    /// Starts counting; `serverPid` as serverCpuSeconds().
    CommitPhase(const char* what, int serverPid);
    /// The line for `ops` operations at `size` records, which took `seconds`.
    void report(std::size_t ops, std::uint64_t size, double seconds) const;

private:
    const char* m_what;
    int m_serverPid;
    double m_cpu;
    double m_serverCpu;
    double m_bytes;
    double m_readKiB;
    DiskCounters m_disk;
};

/// Throws std::runtime_error(`what`) unless `ok`: the bench stops with that message.
void must(bool ok, const std::string& what);

/// How much of the files under `paths` (files, and directories walked through) the kernel's
/// page cache holds right now, e.g. "99.21 % of 11.71 GB": mincore(2) over a read-only mapping
/// of each file. A lookup that needs a page outside it waits for the disk. Machines with
/// proactive reclaim take pages out of it while memory is free (host_reclaim.h).
std::string pageCacheShare(const std::vector<std::string>& paths);

/// The database's files under `paths` read once and held in memory while this lives, as on a
/// server whose memory holds its whole registry: each file mapped read-only with every page
/// read in (MAP_POPULATE), a line on stderr telling how long that took. The kernel may still
/// take the pages when memory runs short; proactive reclaim that pages out only unmapped page
/// cache (host_reclaim.h: the filter "allow unmapped") leaves mapped pages alone. The same
/// that ops get with `vmtouch -dl` (which also locks them) or PostgreSQL's `shared_buffers`
/// (docs/OPERATIONS.md).
class HeldInMemory {
public:
    explicit HeldInMemory(const std::vector<std::string>& paths);
    ~HeldInMemory();
    HeldInMemory(const HeldInMemory&) = delete;
    HeldInMemory& operator=(const HeldInMemory&) = delete;

private:
    /// Maps `path` with its pages read in; its size (0 for an empty file or one gone meanwhile).
    double hold(const std::filesystem::path& path);
    void release();

    std::vector<std::pair<void*, std::size_t>> m_maps;
};

/// The database's size on disk, e.g. "12.71 GB".
std::string bytesOnDisk(const std::string& backend, const std::string& url, const std::string& sqlitePath);
void settle(const std::string& backend, const std::string& url, const std::string& sqlitePath);

}  // namespace tte::bench::registry
