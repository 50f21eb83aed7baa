// registry_bench's records, measures of work and database phases (registry_bench_records.h).
#include "registry_bench_records.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "support/mothership.h"
#include "support/process.h"
#include "tte/base/hex.h"

namespace tte::bench::registry {

namespace ms = tte::mothership;

namespace {

std::uint64_t mix(std::uint64_t x) {  // splitmix64: stable, well spread field contents
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::string hexOf(std::uint64_t seed, std::size_t digits) {
    std::string out;
    for (std::uint64_t k = 0; out.size() < digits; ++k) out += tte::toHex(mix(seed * 8 + k), 16);
    return out.substr(0, digits);
}

/// The number after `key` (e.g. "write_bytes: ") on its line of a /proc file; 0 when missing.
double procNumber(const char* path, std::string_view key) {
    std::FILE* f = std::fopen(path, "r");
    if (f == nullptr) return 0;
    char line[128];
    double out = 0;
    while (std::fgets(line, sizeof line, f) != nullptr) {
        if (std::strncmp(line, key.data(), key.size()) == 0) out = std::atof(line + key.size());
    }
    std::fclose(f);
    return out;
}

}  // namespace

std::uint64_t otpOf(std::uint64_t i) { return mix(i ^ 0x5a5a5a5a5a5a5a5aULL); }
std::uint32_t devIdOf(std::uint64_t i) { return kFirstDev + static_cast<std::uint32_t>(i); }

/// The MCU unique ID of the i-th board made, as a line gets them: STM32F405 unique IDs
/// (RM0090 §39.1: the die's X and Y on the wafer in BCD, the wafer number, the lot number in 7
/// ASCII characters) of chips from reels, one wafer after the other, 1,500 good dies a wafer
/// out of a 48 × 48 grid, taken in a scrambled order, 25 wafers a lot. `random`: all 96 bits
/// random, as if every board came from another wafer (the worst case for the index by board).
std::string mcuUidOf(std::uint64_t i, bool random) {
    if (random) return hexOf(i * 4 + 4, 24);
    constexpr std::uint64_t kDies = 1'500, kGrid = 48, kWafers = 25;
    const std::uint64_t wafer = i / kDies, lot = wafer / kWafers;
    const std::uint64_t place = ((i % kDies) * 1031 + wafer * 7) % (kGrid * kGrid);  // 1031: prime, a bijection
    const auto bcd = [](std::uint64_t v) { return static_cast<std::uint32_t>(((v / 10) << 4) | (v % 10)); };
    static constexpr std::string_view kDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::uint32_t chars[7];  // the lot number "L" + 6 base-36 digits, chars[0] first
    chars[0] = 'L';
    for (std::uint64_t k = 6, rest = lot; k >= 1; --k, rest /= 36) chars[k] = static_cast<unsigned char>(kDigits[rest % 36]);
    const std::uint32_t w0 = (bcd(place / kGrid) << 16) | bcd(place % kGrid);  // Y, X
    const std::uint32_t w1 = (chars[4] << 24) | (chars[5] << 16) | (chars[6] << 8) | static_cast<std::uint32_t>(1 + wafer % kWafers);
    const std::uint32_t w2 = (chars[0] << 24) | (chars[1] << 16) | (chars[2] << 8) | chars[3];
    return tte::toHex(w0, 8) + tte::toHex(w1, 8) + tte::toHex(w2, 8);
}

/// Device i as a station's record makes it: the fields as long as real ones, the OTP hash
/// computed with the registry's key, the record id in the station's form, the board's MCU ID
/// (mcuUidOf).
ms::DeviceRow deviceRow(std::uint64_t i, const ms::OtpHasher& hasher, bool randomMcuIds) {
    ms::DeviceRow d;
    d.devId = devIdOf(i);
    d.urn = tte::test::devUrn(d.devId);
    d.fingerprint = hexOf(i * 4 + 1, 64);
    const auto h = hasher.hash(d.devId, otpOf(i)).value();
    d.otpHash.assign(h.begin(), h.end());
    d.lot = "bench";
    d.box = static_cast<std::uint32_t>(i / 50);
    d.station = "station-1";
    d.recordId = "station-1-" + std::to_string(i + 1);
    d.recordDigest = hexOf(i * 4 + 2, 64);
    d.signature = hexOf(i * 4 + 3, 96);  // as long as a base64 DER P-256 signature
    d.firmwareSha256 = std::string(64, 'f');
    d.created = "2026-12-03T06:00:00Z";
    d.mcuUid = mcuUidOf(i, randomMcuIds);
    return d;
}

/// CPU seconds of this process so far (the SQLite writer thread's work included; a
/// PostgreSQL server's is not).
double cpuSeconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// CPU seconds of a PostgreSQL server so far: its main process with the processes it has
/// reaped (/proc/PID/stat: utime, stime, cutime, cstime) and its live children (backends,
/// checkpointer, WAL writer, autovacuum). 0 without a server.
double serverCpuSeconds(int pid) {
    if (pid <= 0) return 0;
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    // The fields after the command name ("(postgres)"), from field 3 (state) on.
    const auto fields = [](const std::filesystem::path& stat) {
        std::ifstream in(stat);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::vector<std::string> out;
        const auto close = text.rfind(')');
        if (close == std::string::npos) return out;
        std::istringstream rest(text.substr(close + 2));
        for (std::string f; rest >> f;) out.push_back(f);
        return out;
    };
    double ticks = 0;
    const auto main = fields("/proc/" + std::to_string(pid) + "/stat");  // [0] state, [1] ppid, [11..14] times
    if (main.size() < 15) return 0;
    for (int k = 11; k <= 14; ++k) ticks += std::atof(main[static_cast<std::size_t>(k)].c_str());
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;  // not a process
        const auto f = fields(entry.path() / "stat");
        if (f.size() >= 15 && f[1] == std::to_string(pid)) ticks += std::atof(f[11].c_str()) + std::atof(f[12].c_str());
    }
    return ticks / tick;
}

double writtenBytes() { return procNumber("/proc/self/io", "write_bytes: "); }
double diskReadKiB() { return procNumber("/proc/vmstat", "pgpgin "); }  // the kernel counts it in KiB

DiskCounters diskCounters() {
    DiskCounters out;
    std::ifstream in("/proc/diskstats");
    for (std::string line; std::getline(in, line);) {
        // major minor name, then (Documentation/admin-guide/iostats.rst) reads: 4 fields,
        // writes: completed, merged, sectors, ms; I/O: 3; discards: 4; flushes: completed, ms.
        std::istringstream fields(line);
        std::string major, minor, name;
        fields >> major >> minor >> name;
        if (name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram")) continue;
        std::error_code ec;
        if (!std::filesystem::exists("/sys/block/" + name, ec)) continue;  // a partition: its disk counts it
        std::vector<double> v;
        for (double x; fields >> x;) v.push_back(x);
        if (v.size() < 8) continue;
        out.writes += v[4];
        out.writeMs += v[7];
        if (v.size() >= 17) out.flushes += v[15], out.flushMs += v[16];
    }
    return out;
}

CommitPhase::CommitPhase(const char* what, int serverPid)
    : m_what(what), m_serverPid(serverPid), m_cpu(cpuSeconds()), m_serverCpu(serverCpuSeconds(serverPid)),
      m_bytes(writtenBytes()), m_readKiB(diskReadKiB()), m_disk(diskCounters()) {}

void CommitPhase::report(std::size_t ops, std::uint64_t size, double seconds) const {
    const DiskCounters d = diskCounters();
    const double n = static_cast<double>(std::max<std::size_t>(ops, 1));
    const double writes = d.writes - m_disk.writes, flushes = d.flushes - m_disk.flushes;
    std::fprintf(stderr,
                 "registry_bench:   %zu %s at %llu records in %.2f s; each: %.1f us CPU + %.1f us CPU of the server, "
                 "%.0f bytes written by this process; the disks %.2f KiB read, %.2f writes (%.2f ms each) and %.2f "
                 "flushes (%.2f ms each)\n",
                 ops, m_what, static_cast<unsigned long long>(size), seconds, (cpuSeconds() - m_cpu) * 1e6 / n,
                 (serverCpuSeconds(m_serverPid) - m_serverCpu) * 1e6 / n, (writtenBytes() - m_bytes) / n,
                 (diskReadKiB() - m_readKiB) / n, writes / n, writes > 0 ? (d.writeMs - m_disk.writeMs) / writes : 0,
                 flushes / n, flushes > 0 ? (d.flushMs - m_disk.flushMs) / flushes : 0);
}

void must(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what);
}

namespace {

/// `path` mapped read-only with `flags` (MAP_SHARED and e.g. MAP_POPULATE), and its size;
/// none for an empty file or one gone meanwhile (PostgreSQL removes some as it goes).
std::optional<std::pair<void*, std::size_t>> mapFile(const std::filesystem::path& path, int flags) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return std::nullopt;
    must(fd >= 0, "open " + path.string() + ": " + std::strerror(errno));
    struct stat st {};
    const bool sized = ::fstat(fd, &st) == 0;
    const auto size = sized ? static_cast<std::size_t>(st.st_size) : 0;
    void* map = size > 0 ? ::mmap(nullptr, size, PROT_READ, flags, fd, 0) : nullptr;
    const int mapError = errno;
    ::close(fd);
    must(sized && map != MAP_FAILED, "mapping " + path.string() + ": " + std::strerror(mapError));
    if (size == 0) return std::nullopt;
    return std::pair{map, size};
}

/// Bytes of the file `path` in the page cache, added to `resident`; its size to `total`.
void addPageCacheShare(const std::filesystem::path& path, double& resident, double& total) {
    const auto mapped = mapFile(path, MAP_SHARED);
    if (!mapped) return;
    const auto [map, size] = *mapped;
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> in((size + page - 1) / page);
    const bool asked = ::mincore(map, size, in.data()) == 0;
    ::munmap(map, size);
    must(asked, "mincore on " + path.string() + ": " + std::strerror(errno));
    total += static_cast<double>(size);
    for (unsigned char p : in) resident += (p & 1) ? static_cast<double>(page) : 0;
}

/// `each` for every file of `paths`: a file itself, a directory's files walked through.
template <typename Each>
void forEachFile(const std::vector<std::string>& paths, Each each) {
    for (const auto& path : paths) {
        if (!std::filesystem::is_directory(path)) {
            if (std::filesystem::exists(path)) each(std::filesystem::path(path));
            continue;
        }
        std::error_code ec;
        for (std::filesystem::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
            if (std::error_code file; it->is_regular_file(file)) each(it->path());
        must(!ec, "reading the directory " + path + ": " + ec.message());
    }
}

}  // namespace

std::string pageCacheShare(const std::vector<std::string>& paths) {
    double resident = 0, total = 0;
    forEachFile(paths, [&](const std::filesystem::path& file) { addPageCacheShare(file, resident, total); });
    char text[64];
    std::snprintf(text, sizeof text, "%.2f %% of %.2f GB", total > 0 ? 100 * std::min(resident, total) / total : 0,
                  total / 1e9);
    return text;
}

HeldInMemory::HeldInMemory(const std::vector<std::string>& paths) {
    const auto start = std::chrono::steady_clock::now();
    double bytes = 0;
    // The destructor does not run for a constructor that throws: what is mapped goes here.
    try {
        forEachFile(paths, [&](const std::filesystem::path& path) { bytes += hold(path); });
    } catch (...) {
        release();
        throw;
    }
    std::fprintf(stderr, "registry_bench:   the database read once and held mapped (%.2f GB) in %.1f s\n", bytes / 1e9,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

double HeldInMemory::hold(const std::filesystem::path& path) {
    // MAP_POPULATE reads what is not in the page cache and maps every page before mmap
    // returns: the pages are this process's mapped pages from then on.
    const auto mapped = mapFile(path, MAP_SHARED | MAP_POPULATE);
    if (!mapped) return 0;
    m_maps.push_back(*mapped);
    return static_cast<double>(mapped->second);
}

void HeldInMemory::release() {
    for (const auto& [map, size] : m_maps) ::munmap(map, size);
    m_maps.clear();
}

HeldInMemory::~HeldInMemory() { release(); }

std::string bytesOnDisk(const std::string& backend, const std::string& url, const std::string& sqlitePath) {
    double bytes = 0;
    if (backend == "sqlite") {
        for (const char* suffix : {"", "-wal"}) {
            std::error_code ec;
            const auto n = std::filesystem::file_size(sqlitePath + suffix, ec);
            if (!ec) bytes += static_cast<double>(n);
        }
    } else {
        auto r = tte::test::runShell("psql '" + url + "' -Atc 'SELECT pg_database_size(current_database())'");
        if (r.exitCode == 0) bytes = std::atof(r.output.c_str());
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.2f GB", bytes / 1e9);
    return text;
}

/// Writes out what an import left in the write-ahead log (PostgreSQL CHECKPOINT, SQLite
/// wal_checkpoint(TRUNCATE)), so that the measurements see the registry at rest and not the
/// disk still busy with the import's tail. PostgreSQL first gets what its documentation asks
/// for after a bulk load ("Populating a Database": ANALYZE), with the VACUUM that autovacuum
/// would otherwise run over the new rows during the measurements.
void settle(const std::string& backend, const std::string& url, const std::string& sqlitePath) {
    const auto r = backend == "sqlite"
                       ? tte::test::runShell("sqlite3 '" + sqlitePath + "' 'PRAGMA wal_checkpoint(TRUNCATE);'")
                       : tte::test::runShell("psql '" + url + "' -qAt -c 'VACUUM (ANALYZE) devices, audit' -c CHECKPOINT");
    must(r.exitCode == 0, "checkpoint after the import: " + r.output);
}

}  // namespace tte::bench::registry
