// registry_bench: the MotherShip registry at the size of a whole MS ID (2^24 - 1 devices,
// draft 3.4) against the same registry at 100,000 devices, on SQLite (a temp file) and on a
// PostgreSQL server the bench starts itself (Unix socket, temp dir). Everything goes through
// the product's code:
//  - import: Registry::importDevices() in batches (on PostgreSQL COPY into devices and audit,
//    after one lookup per rule that devices' unique indexes do not check, with the batch's
//    keys as an array; on SQLite a staging table and one INSERT … SELECT per table), only the
//    registry calls timed;
//  - status lookups: Service::handle() answering GET /.well-known/tte/status (lockout read,
//    OTP-hash read, HMAC, device row), one at a time, each timed, on random devices: once with
//    the page cache as the import left it, once with the whole database read once and held in
//    memory (HeldInMemory);
//  - claims: Service::handle() answering the mapping POST from 16 threads (each answer waits
//    for its durable commit, as over HTTPS), on random devices not claimed before;
//  - CoAP registrations: what the CoAP handler asks of the registry for a device's first
//    2.05 (deviceByUrn + markRegistered, committed), one at a time as on the CoAP thread;
//  - the registry's gauges and a lot's use (Registry::stats and ::lots, what a scrape of
//    /metrics and `admin lot list` read), checked against what the bench stored.
// After each import the write-ahead log is checkpointed (on PostgreSQL after a VACUUM
// (ANALYZE), as after any bulk load), so that the measurements see the registry at rest. TLS, HTTP and DTLS are left out: their cost does not grow with the registry, and
// mothership_bench measures them. Each figure at N records is printed beside the same figure
// at the baseline size; the ratio is the growth (how many times worse at N), target ≤ 1.5.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <vector>

#include "host_reclaim.h"
#include "registry_bench_records.h"
#include "report.h"
#include "support/mothership.h"
#include "support/postgres.h"
#include "support/process.h"
#include "tte/base/clock.h"
#include "tte/base/hex.h"
#include "tte/mothership/crypto.h"
#include "tte/mothership/limiter.h"
#include "tte/mothership/metrics.h"
#include "tte/mothership/registry.h"
#include "tte/mothership/service.h"

namespace ms = tte::mothership;
using namespace tte::bench::registry;
using tte::bench::Figure;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

namespace {

struct Settings {
    std::uint64_t records = 16'777'215;  ///< 2^24 - 1: every Dev ID one MS ID can hold
    std::uint64_t baseline = 100'000;
    std::vector<std::string> backends{"sqlite", "postgresql"};
    std::size_t batch = 50'000;     ///< rows per importDevices() call
    std::size_t lookups = 20'000;   ///< status lookups per size
    std::size_t claims = 4'000;     ///< claims per size
    std::size_t registrations = 2'000;
    int claimThreads = 16;
    bool randomMcuIds = false;  ///< --mcu-ids random: every bit of a board's ID random
    int importThreads = 0;      ///< batches imported at a time; 0: 2 on PostgreSQL, 1 on SQLite
    std::string postgresSettings;  ///< --postgres-setting NAME=VALUE…: ` -c NAME=VALUE` each
    tte::bench::Options output;
};

[[noreturn]] void usage(const char* self, int code) {
    std::fprintf(code == 0 ? stdout : stderr,
                 "usage: %s [--records N] [--baseline N] [--backend sqlite|postgresql] [--batch N] [--lookups N]\n"
                 "       [--claims N] [--registrations N] [--mcu-ids wafers|random] [--import-threads N] [--json] [--smoke]\n"
                 "       [--postgres-setting NAME=VALUE]...\n"
                 "  default: --records 16777215 --baseline 100000 --batch 50000 --lookups 20000 --claims 4000\n"
                 "  --registrations 2000 --mcu-ids wafers, both backends, --import-threads 2 on PostgreSQL and\n"
                 "  1 on SQLite; --smoke: --records 20000\n"
                 "  --baseline 2000 --lookups 500 --claims 100 --registrations 100\n"
                 "  --postgres-setting: a server setting after the bench's own (shared_buffers=2GB,\n"
                 "  max_wal_size=8GB, checkpoint_timeout=30min), e.g. shared_buffers=512MB\n",
                 self);
    std::exit(code);
}

std::uint64_t number(const char* self, const char* flag, const char* text) {
    std::uint64_t v = 0;
    const auto end = text + std::strlen(text);
    const auto [p, ec] = std::from_chars(text, end, v);
    if (ec != std::errc() || p != end || v == 0) {
        std::fprintf(stderr, "%s: %s needs a positive number, not '%s'\n", self, flag, text);
        std::exit(2);
    }
    return v;
}

Settings parse(int argc, char** argv) {
    Settings s;
    bool smoke = false, records = false, baseline = false;
    const char* self = "registry_bench";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s: %s needs a value\n", self, a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--json") s.output.json = true;
        else if (a == "--smoke") smoke = true;
        else if (a == "--help") usage(self, 0);
        else if (a == "--records") s.records = number(self, "--records", value()), records = true;
        else if (a == "--baseline") s.baseline = number(self, "--baseline", value()), baseline = true;
        else if (a == "--batch") s.batch = number(self, "--batch", value());
        else if (a == "--lookups") s.lookups = number(self, "--lookups", value());
        else if (a == "--claims") s.claims = number(self, "--claims", value());
        else if (a == "--registrations") s.registrations = number(self, "--registrations", value());
        else if (a == "--import-threads")
            s.importThreads = static_cast<int>(std::min<std::uint64_t>(number(self, "--import-threads", value()), 64));
        else if (a == "--postgres-setting") {
            // Into the server's command line (a shell's): a name and a plain value only.
            const std::string setting = value();
            const auto eq = setting.find('=');
            const bool plain = eq != std::string::npos && eq > 0 && eq + 1 < setting.size() &&
                               setting.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == eq &&
                               setting.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.", eq + 1) ==
                                   std::string::npos;
            if (!plain) {
                std::fprintf(stderr, "%s: --postgres-setting is NAME=VALUE (letters, digits, _ and .), not '%s'\n", self,
                             setting.c_str());
                std::exit(2);
            }
            s.postgresSettings += " -c " + setting;
        } else if (a == "--mcu-ids") {
            const std::string m = value();
            if (m != "wafers" && m != "random") {
                std::fprintf(stderr, "%s: --mcu-ids is wafers or random, not '%s'\n", self, m.c_str());
                std::exit(2);
            }
            s.randomMcuIds = m == "random";
        } else if (a == "--backend") {
            const std::string b = value();
            if (b != "sqlite" && b != "postgresql") {
                std::fprintf(stderr, "%s: --backend is sqlite or postgresql, not '%s'\n", self, b.c_str());
                std::exit(2);
            }
            s.backends = {b};
        } else {
            std::fprintf(stderr, "%s: unknown argument %s\n", self, a.c_str());
            usage(self, 2);
        }
    }
    if (smoke) {
        if (!records) s.records = 20'000;
        if (!baseline) s.baseline = 2'000;
        s.lookups = 500, s.claims = 100, s.registrations = 100;
    }
    if (s.records > 0xffffffffULL - kFirstDev) {
        std::fprintf(stderr, "%s: --records must leave the Dev IDs within 32 bits\n", self);
        std::exit(2);
    }
    s.baseline = std::min(s.baseline, s.records);
    s.output.smoke = smoke;
    return s;
}

/// Imports devices [from, to) in batches of `s.batch`, `threads` batches at a time (each its
/// own importDevices() call, transaction and connection, as a loader with that many
/// connections); the seconds spent in the calls. Every tenth of the total (a twentieth for
/// large runs) one line on stderr for the stretch since the last: its rate, the slowest
/// round, and per record the CPU time within the registry calls of this process (SQLite's
/// whole work; PostgreSQL's client) and of the PostgreSQL server (`serverPid`, 0 for none),
/// and the bytes this process wrote to the disk, so that where the time goes shows even on a
/// machine shared with other work.
double importRange(ms::Registry& reg, const ms::OtpHasher& hasher, std::uint64_t from, std::uint64_t to,
                   const Settings& s, int threads, int serverPid) {
    const std::uint64_t total = s.records;
    double seconds = 0, stretchSeconds = 0, stretchCpu = 0, stretchServer = 0, slowest = 0;
    double stretchWritten = writtenBytes();
    std::uint64_t reported = from;
    const std::uint64_t every = std::max<std::uint64_t>(total / (total >= 4'000'000 ? 20 : 10), 1);
    std::vector<std::vector<ms::DeviceRow>> round(static_cast<std::size_t>(threads));
    std::vector<tte::Result<ms::ImportSummary>> results(round.size());
    for (std::uint64_t at = from; at < to;) {
        for (auto& rows : round) {
            rows.clear();
            for (; at < to && rows.size() < s.batch; ++at) rows.push_back(deviceRow(at, hasher, s.randomMcuIds));
        }
        const double cpu = cpuSeconds(), server = serverCpuSeconds(serverPid);
        const auto start = Clock::now();
        {
            std::vector<std::jthread> others;
            for (std::size_t k = 1; k < round.size(); ++k)
                if (!round[k].empty()) others.emplace_back([&, k] { results[k] = reg.importDevices(round[k], kNow); });
            results[0] = reg.importDevices(round[0], kNow);
        }
        const double took = Seconds(Clock::now() - start).count();
        stretchCpu += cpuSeconds() - cpu;
        stretchServer += serverCpuSeconds(serverPid) - server;
        seconds += took, stretchSeconds += took, slowest = std::max(slowest, took);
        for (std::size_t k = 0; k < round.size() && !round[k].empty(); ++k) {
            const auto& r = results[k];
            must(r.has_value(), "import: " + (r ? std::string() : r.error().toString()));
            must(r->stored == round[k].size(),
                 "import stored " + std::to_string(r->stored) + " of " + std::to_string(round[k].size()));
        }
        if (at - reported >= every || at == to) {
            const auto n = static_cast<double>(at - reported);
            const double written = writtenBytes();
            char server[64] = "";
            if (serverPid > 0) std::snprintf(server, sizeof server, " + %.1f us CPU of the server", stretchServer / n * 1e6);
            std::fprintf(stderr,
                         "registry_bench:   %llu records, %.0f records/s so far; last %llu: %.0f records/s, slowest "
                         "round %.2f s, %.1f us CPU%s and %.0f bytes written per record\n",
                         static_cast<unsigned long long>(at), static_cast<double>(at - from) / seconds,
                         static_cast<unsigned long long>(at - reported), n / stretchSeconds, slowest,
                         stretchCpu / n * 1e6, server, (written - stretchWritten) / n);
            reported = at;
            stretchSeconds = stretchCpu = stretchServer = slowest = 0;
            stretchWritten = written;
        }
    }
    return seconds;
}

struct Lookups {
    double p50Ms = 0;
    double p99Ms = 0;
};

/// The registry's storage as the measurements look at it: its files and directories (for
/// pageCacheShare() and HeldInMemory), and what the machine's proactive reclaim took between
/// the lookup passes.
struct Storage {
    std::vector<std::string> files;
    tte::bench::PageoutMeter& pagedOut;
};

struct AtSize {
    double importPerSecond = 0;
    Lookups lookups;        ///< with the page cache as the import left it
    Lookups lookupsCached;  ///< with the database read once and held in memory (HeldInMemory)
    double claimsPerSecond = 0;
    double registrationsPerSecond = 0;
    double gaugesMs = 0;  ///< gaugeReads()
};

/// The product's HTTPS answers (Service) on the registry, without a socket.
class Front {
public:
    Front(ms::Registry& reg, const ms::OtpHasher& hasher)
        : m_limiter(reg, m_clock, ms::LimiterOptions{}), m_service(reg, hasher, m_clock, m_limiter, m_metrics, {}) {}
    int status(std::uint64_t i) { return m_service.handle(request("GET", "/.well-known/tte/status?", i, "")).status; }
    int claim(std::uint64_t i) {
        return m_service.handle(request("POST", "/.well-known/tte?", i,
                                        ",cip=192.0.2.1,cport=5684,cfingerprint=" + std::string(64, 'c')))
            .status;
    }

private:
    static ms::HttpRequest request(const char* method, const char* path, std::uint64_t i, const std::string& more) {
        ms::HttpRequest r;
        r.method = method;
        r.target = std::string(path) + "otp=" + tte::toHex(otpOf(i), 16) + ",devid=" + tte::toHex(devIdOf(i), 8) + more;
        r.client = "192.0.2.7";
        return r;
    }
    tte::SystemClock m_clock;
    ms::Metrics m_metrics;
    ms::FailureLimiter m_limiter;
    ms::Service m_service;
};

double percentileMs(std::vector<double>& micros, double q) {
    std::sort(micros.begin(), micros.end());
    const auto at = static_cast<std::size_t>(q * static_cast<double>(micros.size() - 1) + 0.5);
    return micros[at] / 1000;
}

/// `s.lookups` status lookups of random devices among the first `size`, one at a time, each
/// timed; `what` names the pass in the line on stderr that tells how much of the registry's
/// files the page cache held before it (and what proactive reclaim paged out since the pass
/// before) and how much the machine read from the disk meanwhile (where the slowest lookups
/// wait: a page that is not in memory).
Lookups lookupPass(Front& front, const Settings& s, std::uint64_t size, std::mt19937_64& random, const char* what,
                   const Storage& storage) {
    const std::string cached = pageCacheShare(storage.files) + " in the page cache" + storage.pagedOut.since();
    std::uniform_int_distribution<std::uint64_t> pick(0, size - 1);
    std::vector<double> micros;
    micros.reserve(s.lookups);
    const double readBefore = diskReadKiB();
    for (std::size_t k = 0; k < s.lookups; ++k) {
        const auto i = pick(random);
        const auto start = Clock::now();
        const int st = front.status(i);
        micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        must(st == 200, "status lookup of device " + std::to_string(i) + " answered " + std::to_string(st));
    }
    const double readKiB = diskReadKiB() - readBefore;
    Lookups out{percentileMs(micros, 0.50), percentileMs(micros, 0.99)};
    std::fprintf(stderr,
                 "registry_bench:   %zu status lookups at %llu records, %s (the registry's files: %s): p50 %.3f ms, "
                 "p99 %.3f ms, %.2f KiB read from the disk per lookup (machine-wide)\n",
                 s.lookups, static_cast<unsigned long long>(size), what, cached.c_str(), out.p50Ms, out.p99Ms,
                 readKiB / static_cast<double>(s.lookups));
    return out;
}

/// What a scrape of /metrics and a lot's use ask of the registry (Registry::stats, ::lots): the
/// median of 11 reads in ms, each checked against what the bench stored (`size` devices in one
/// lot, `claimed` of them mapped or registered). The first read after the claims and
/// registrations also folds their rows of differences on PostgreSQL; it is on stderr.
double gaugeReads(ms::Registry& reg, std::uint64_t size, std::size_t claimed) {
    std::vector<double> took;
    for (int k = 0; k < 11; ++k) {
        const auto start = Clock::now();
        auto stats = reg.stats(kNow);
        auto lots = reg.lots();
        took.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        must(stats.has_value(), "registry gauges: " + (stats ? std::string() : stats.error().toString()));
        must(lots.has_value() && lots->size() == 1,
             "lot use: " + (lots ? std::to_string(lots->size()) + " lots, not 1" : lots.error().toString()));
        const auto* d = stats->devices;
        must(static_cast<std::uint64_t>(d[0] + d[1] + d[2] + d[3]) == size && lots->front().used == size &&
                 static_cast<std::size_t>(d[1] + d[2]) == claimed,
             "registry gauges: " + std::to_string(d[0] + d[1] + d[2] + d[3]) + " devices, " + std::to_string(d[1] + d[2]) +
                 " mapped or registered, the lot's use " + std::to_string(lots->front().used) + "; stored " +
                 std::to_string(size) + ", claimed " + std::to_string(claimed));
    }
    std::fprintf(stderr, "registry_bench:   registry gauges and lot use at %llu records: first read %.3f ms\n",
                 static_cast<unsigned long long>(size), took.front());
    std::sort(took.begin(), took.end());
    return took[took.size() / 2];
}

/// Status lookups, claims and registrations with `size` devices stored. `claimed` holds the
/// devices claimed before (not claimed twice). The lookups run twice: with the page cache as the
/// import left it, then with the database held in memory. `serverPid`: the PostgreSQL server's
/// (0 for none).
AtSize measure(ms::Registry& reg, Front& front, const Settings& s, std::uint64_t size, std::mt19937_64& random,
               std::unordered_set<std::uint64_t>& claimed, const Storage& storage, int serverPid) {
    AtSize out;
    std::uniform_int_distribution<std::uint64_t> pick(0, size - 1);
    for (std::size_t w = 0; w < std::min<std::size_t>(200, s.lookups); ++w) must(front.status(pick(random)) == 200, "warm-up lookup");
    out.lookups = lookupPass(front, s, size, random, "as the import left the cache", storage);
    {
        const HeldInMemory held(storage.files);
        out.lookupsCached = lookupPass(front, s, size, random, "with the database held in memory", storage);
    }

    std::vector<std::uint64_t> targets;
    while (targets.size() < std::min<std::uint64_t>(s.claims, size - claimed.size())) {
        const auto i = pick(random);
        if (claimed.insert(i).second) targets.push_back(i);
    }
    std::atomic<std::size_t> next{0}, ok{0};
    std::vector<std::thread> threads;
    const CommitPhase claims("claims", serverPid);
    const auto start = Clock::now();
    for (int t = 0; t < s.claimThreads; ++t) {
        threads.emplace_back([&] {
            for (std::size_t k; (k = next++) < targets.size();) ok += front.claim(targets[k]) == 200;
        });
    }
    for (auto& t : threads) t.join();
    const double claimSeconds = Seconds(Clock::now() - start).count();
    out.claimsPerSecond = static_cast<double>(targets.size()) / claimSeconds;
    claims.report(targets.size(), size, claimSeconds);
    must(ok == targets.size(), std::to_string(ok.load()) + " of " + std::to_string(targets.size()) + " claims answered 200");

    const std::size_t count = std::min(s.registrations, targets.size());
    const CommitPhase registrations("registrations", serverPid);
    const auto regStart = Clock::now();
    for (std::size_t k = 0; k < count; ++k) {
        // What the CoAP handler asks of the registry for a device's first 2.05 (coap_server.cpp).
        auto row = reg.deviceByUrn(tte::test::devUrn(devIdOf(targets[k])));
        must(row && row->state == ms::DeviceState::mapped && row->controller, "registration: the device is not mapped");
        must(reg.markRegistered(row->devId, "coap 192.0.2.8", kNow).has_value(), "markRegistered");
    }
    const double regSeconds = Seconds(Clock::now() - regStart).count();
    out.registrationsPerSecond = static_cast<double>(count) / regSeconds;
    registrations.report(count, size, regSeconds);
    out.gaugesMs = gaugeReads(reg, size, claimed.size());
    return out;
}


void addFigures(std::vector<Figure>& figures, const std::string& backend, const Settings& s, const AtSize& base,
                const AtSize& full) {
    const std::string at = " (" + backend + ", " + std::to_string(s.records) + " records)";
    const std::string bound = " at " + std::to_string(s.baseline) + " records (ratio: growth)";
    const auto faster = [](double b, double v) { return v > 0 ? b / v : 0; };  // rates: baseline / value
    const auto slower = [](double b, double v) { return b > 0 ? v / b : 0; };  // times: value / baseline
    figures.push_back({"import records/s" + at, full.importPerSecond, "records/s", "import records/s" + bound,
                       base.importPerSecond, faster(base.importPerSecond, full.importPerSecond), 1.5});
    const auto lookups = [&](const std::string& how, const Lookups& b, const Lookups& f) {
        figures.push_back({"status lookup p50" + how + at, f.p50Ms, "ms", "status lookup p50" + how + bound, b.p50Ms,
                           slower(b.p50Ms, f.p50Ms), 1.5});
        figures.push_back({"status lookup p99" + how + at, f.p99Ms, "ms", "status lookup p99" + how + bound, b.p99Ms,
                           slower(b.p99Ms, f.p99Ms), 1.5});
    };
    lookups("", base.lookups, full.lookups);
    lookups(", database read once", base.lookupsCached, full.lookupsCached);
    figures.push_back({"claims/s, " + std::to_string(s.claimThreads) + " threads" + at, full.claimsPerSecond, "ops/s",
                       "claims/s" + bound, base.claimsPerSecond, faster(base.claimsPerSecond, full.claimsPerSecond), 1.5});
    figures.push_back({"CoAP registrations/s (registry)" + at, full.registrationsPerSecond, "ops/s",
                       "CoAP registrations/s" + bound, base.registrationsPerSecond,
                       faster(base.registrationsPerSecond, full.registrationsPerSecond), 1.5});
    figures.push_back({"registry gauges and lot use read, median ms" + at, full.gaugesMs, "ms",
                       "registry gauges and lot use read" + bound, base.gaugesMs, slower(base.gaugesMs, full.gaugesMs), 1.5});
    // The absolute targets of the issue: ratio ≥ 1 meets them.
    figures.push_back({"import records/s against its target" + at, full.importPerSecond, "records/s",
                       "target records/s (ratio: value / target)", 50'000, full.importPerSecond / 50'000, 1});
    figures.push_back({"status lookup p99 against its target" + at, full.lookups.p99Ms, "ms",
                       "target ms (ratio: target / value)", 2, full.lookups.p99Ms > 0 ? 2 / full.lookups.p99Ms : 0, 1});
    figures.push_back({"status lookup p99, database read once, against its target" + at, full.lookupsCached.p99Ms, "ms",
                       "target ms (ratio: target / value)", 2, full.lookupsCached.p99Ms > 0 ? 2 / full.lookupsCached.p99Ms : 0, 1});
}

/// Both sizes of `backend`, their figures into `figures`; `pagedOut` counts what the machine's
/// proactive reclaim takes meanwhile.
void runBackend(const std::string& backend, const Settings& s, std::vector<Figure>& figures,
                tte::bench::PageoutMeter& pagedOut) {
    tte::test::TempDir dir("registry-bench");
    std::unique_ptr<tte::test::Postgres> pg;
    std::string url = "sqlite://" + dir.file("registry.db");
    if (backend == "postgresql") {
        // A bulk load writes far more WAL than the default 1 GB between checkpoints; the
        // shared buffers hold the hot part of the indexes (docs/MOTHERSHIP.md, "Scale").
        pg = std::make_unique<tte::test::Postgres>("-c shared_buffers=2GB -c max_wal_size=8GB -c checkpoint_timeout=30min" +
                                                   s.postgresSettings);
        url = pg->newDatabase();
    }
    must(ms::writeNewKeyFile(dir.file("otp.key"), false).has_value(), "OTP-hash key");
    const auto hasher = ms::OtpHasher::fromFile(dir.file("otp.key")).value();
    const int serverPid = pg ? pg->serverPid() : 0;
    // SQLite has one writer: a second batch would only wait for the first.
    const int threads = s.importThreads > 0 ? s.importThreads : pg ? 2 : 1;
    auto opened = ms::openRegistry(url, 8);
    must(opened.has_value(), "open " + backend + ": " + (opened ? std::string() : opened.error().toString()));
    auto& reg = **opened;
    must(reg.setLotQuota("bench", kFirstDev, devIdOf(s.records - 1)).has_value(), "lot quota");
    Front front(reg, hasher);
    std::mt19937_64 random(24);
    std::unordered_set<std::uint64_t> claimed;

    std::fprintf(stderr, "registry_bench: %s: importing %llu records\n", backend.c_str(),
                 static_cast<unsigned long long>(s.baseline));
    const double firstSeconds = importRange(reg, hasher, 0, s.baseline, s, threads, serverPid);
    const Storage storage{pg ? std::vector<std::string>{pg->dataDir() + "/base"}
                             : std::vector<std::string>{dir.file("registry.db"), dir.file("registry.db-wal")},
                          pagedOut};
    settle(backend, url, dir.file("registry.db"));
    AtSize base = measure(reg, front, s, s.baseline, random, claimed, storage, serverPid);
    base.importPerSecond = static_cast<double>(s.baseline) / firstSeconds;
    std::fprintf(stderr, "registry_bench: %s at %llu: %s on disk\n", backend.c_str(),
                 static_cast<unsigned long long>(s.baseline), bytesOnDisk(backend, url, dir.file("registry.db")).c_str());

    std::fprintf(stderr, "registry_bench: %s: importing up to %llu records\n", backend.c_str(),
                 static_cast<unsigned long long>(s.records));
    const double restSeconds = importRange(reg, hasher, s.baseline, s.records, s, threads, serverPid);
    settle(backend, url, dir.file("registry.db"));
    AtSize full = measure(reg, front, s, s.records, random, claimed, storage, serverPid);
    full.importPerSecond = static_cast<double>(s.records) / (firstSeconds + restSeconds);
    std::fprintf(stderr, "registry_bench: %s at %llu: %s on disk; import of the last %llu: %.0f records/s\n",
                 backend.c_str(), static_cast<unsigned long long>(s.records),
                 bytesOnDisk(backend, url, dir.file("registry.db")).c_str(),
                 static_cast<unsigned long long>(s.records - s.baseline),
                 restSeconds > 0 ? static_cast<double>(s.records - s.baseline) / restSeconds : 0);
    addFigures(figures, backend, s, base, full);
}

}  // namespace

int main(int argc, char** argv) try {
    const Settings s = parse(argc, argv);
    std::vector<Figure> figures;
    if (const auto reclaim = tte::bench::describe(tte::bench::pageoutSchemes()); !reclaim.empty())
        std::fprintf(stderr, "registry_bench: %s\n", reclaim.c_str());
    tte::bench::PageoutMeter pagedOut("the previous lookup pass");
    for (const auto& backend : s.backends) runBackend(backend, s, figures, pagedOut);
    tte::bench::print(figures, s.output);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "registry_bench: %s\n", e.what());
    return 1;
}
