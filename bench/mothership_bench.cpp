// mothership_bench: a real tte-mothership (SQLite registry, port 0, temp dir) measured from
// outside, each figure against a bound measured in the same run on the same machine:
//  (a) durable claims/s – POST mappings over keep-alive HTTPS from several connections –
//      vs raw SQLite commits/s (WAL, synchronous=FULL, one UPDATE per transaction);
//  (b) CoAP/DTLS enrollments/s (full handshake with the device key + GET ?urn=…, libcoap
//      client) vs raw OpenSSL DTLS 1.2 handshakes/s with the same P-256 keys;
//  (c) a burst: every mapped device enrolling at once, served within 60 s, none lost;
//  (d) server RSS per open CoAP/DTLS session vs the memory of a raw OpenSSL DTLS connection
//      (smaller is better: there and for the burst's time the ratio is bound / value). Both
//      are measured as RSS growth of a fresh process: a server of its own, started for (d)
//      alone, and a child process forked before anything else ran. A process that freed
//      memory before (the bench's 2,000 client sessions, the server's HTTPS claims) reuses its
//      resident free heap and shows a fraction of a connection's cost.
// `--only dtls-memory` runs (d) alone.
#include <curl/curl.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/mothership.h"
#include "mothership_bench.h"
#include "report.h"
#include "tte/base/hex.h"
#include "tte/mothership/crypto.h"
#include "tte/mothership/registry.h"
#include "tte/protocol/crypto.h"
#include "tte/protocol/fingerprint.h"

namespace ms = tte::mothership;
using tte::bench::Figure;
using Seconds = std::chrono::duration<double>;

namespace {

constexpr std::uint32_t kFirstDev = 0x100;
std::uint64_t otpOf(std::size_t i) { return 0x5a00000000000000ULL + i; }

struct Sizes {
    std::size_t devices;      ///< claimed over HTTPS, then all enrolled at once (c)
    int connections;          ///< keep-alive HTTPS client connections
    int rawCommits;
    std::size_t enrollments;  ///< (b)
    std::size_t inFlight;     ///< (b): sessions unanswered at once
    int rawHandshakes;
    std::size_t sessions;     ///< (d)
};

void must(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what);
}

/// Raw SQLite commits/s: one connection, WAL, synchronous=FULL, one conditional UPDATE per
/// transaction (autocommit) – what one durable claim costs the disk at least.
double rawSqliteCommitsPerSecond(const std::string& path, int count) {
    sqlite3* db = nullptr;
    must(sqlite3_open(path.c_str(), &db) == SQLITE_OK, "open " + path);
    const std::string setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                              "CREATE TABLE t (id INTEGER PRIMARY KEY, state TEXT NOT NULL); BEGIN;";
    must(sqlite3_exec(db, setup.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK, "raw sqlite setup");
    for (int i = 0; i < count; ++i) {
        const std::string insert = "INSERT INTO t VALUES (" + std::to_string(i) + ", 'not-mapped')";
        sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr);
    }
    must(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK, "raw sqlite commit");
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "UPDATE t SET state = 'mapped' WHERE id = ? AND state = 'not-mapped'", -1, &st, nullptr);
    int done = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) {
        sqlite3_bind_int(st, 1, i);
        done += sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
        sqlite3_reset(st);
    }
    const double secs = Seconds(std::chrono::steady_clock::now() - start).count();
    sqlite3_finalize(st);
    sqlite3_close(db);
    return done == count ? count / secs : 0;
}

/// Claims every device over `connections` keep-alive HTTPS connections (libcurl, the server
/// key pinned); claims/s when every one was answered 200, else 0.
double claimsPerSecond(std::uint16_t port, const std::string& spkiPin, std::size_t devices, int connections) {
    std::atomic<std::size_t> ok{0};
    std::vector<std::thread> clients;
    const std::string connectTo = "tte-000001.net:443:127.0.0.1:" + std::to_string(port);
    const std::string controller = ",cip=192.0.2.1,cport=5684,cfingerprint=" + std::string(64, 'c');
    const auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < connections; ++t) {
        clients.emplace_back([&, t] {
            CURL* c = curl_easy_init();
            curl_slist* connect = curl_slist_append(nullptr, connectTo.c_str());
            curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect);
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);  // self-signed: the key is pinned instead
            curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, spkiPin.c_str());
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, +[](char*, size_t s, size_t n, void*) { return s * n; });
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
            curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
            for (std::size_t i = static_cast<std::size_t>(t); i < devices; i += static_cast<std::size_t>(connections)) {
                const std::string url = "https://tte-000001.net/.well-known/tte?otp=" + tte::toHex(otpOf(i), 16) +
                                        ",devid=" + tte::toHex(kFirstDev + static_cast<std::uint32_t>(i), 8) + controller;
                curl_easy_setopt(c, CURLOPT_URL, url.c_str());
                long status = 0;
                if (curl_easy_perform(c) == CURLE_OK && curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
                    status == 200)
                    ok++;
            }
            curl_slist_free_all(connect);
            curl_easy_cleanup(c);
        });
    }
    for (auto& th : clients) th.join();
    const double secs = Seconds(std::chrono::steady_clock::now() - start).count();
    if (ok != devices) std::fprintf(stderr, "mothership_bench: %zu of %zu claims answered 200\n", ok.load(), devices);
    return ok == devices ? static_cast<double>(devices) / secs : 0;
}

/// Stores the devices (one station record each) before the server starts: parallel writers,
/// so the registry's group commit keeps this short.
void insertDevices(const std::string& dbUrl, const std::string& deviceFp, const ms::OtpHasher& hasher,
                   std::size_t devices) {
    auto reg = ms::openRegistry(dbUrl, 2);
    must(reg.has_value(), "open registry");
    must((*reg)->setLotQuota("bench", kFirstDev, kFirstDev + static_cast<std::uint32_t>(devices)).has_value(), "quota");
    std::atomic<std::size_t> stored{0};
    std::vector<std::thread> writers;
    for (std::size_t t = 0; t < 32; ++t) {
        writers.emplace_back([&, t] {
            for (std::size_t i = t; i < devices; i += 32) {
                ms::DeviceRow d;
                d.devId = kFirstDev + static_cast<std::uint32_t>(i);
                d.urn = tte::test::devUrn(d.devId);
                d.fingerprint = deviceFp;
                const auto h = hasher.hash(d.devId, otpOf(i)).value();
                d.otpHash.assign(h.begin(), h.end());
                d.lot = "bench";
                d.station = "bench";
                d.recordId = "bench-" + std::to_string(i);
                d.recordDigest = tte::protocol::sha256Hex(d.recordId);  // hex, as the registry stores it (bytes)
                stored += (*reg)->insertDevice(d, 0).has_value();
            }
        });
    }
    for (auto& t : writers) t.join();
    must(stored == devices, "storing the bench devices");
}

/// The claim of every stored device, made in the registry before a server opens it (for (d),
/// whose server must answer 2.05 without the HTTPS claims that came first in the full run).
void claimDevices(const std::string& dbUrl, std::size_t devices) {
    auto reg = ms::openRegistry(dbUrl, 2);
    must(reg.has_value(), "open registry");
    const ms::ControllerAddress controller{"192.0.2.1", 5684, std::string(64, 'c')};
    for (std::size_t i = 0; i < devices; ++i)
        must((*reg)->claim(kFirstDev + static_cast<std::uint32_t>(i), controller, "", "bench", 0).has_value(), "claim");
}

std::vector<std::string> urnsOf(std::size_t count) {
    std::vector<std::string> urns;
    for (std::size_t i = 0; i < count; ++i) urns.push_back(tte::test::devUrn(kFirstDev + static_cast<std::uint32_t>(i)));
    return urns;
}

/// rawDtlsBytesPerConnection() in a child forked now, before this process has threads or has
/// freed much: the child's RSS grows as a fresh server's does. Bytes, 0 when it failed.
double rawDtlsBytesInFreshProcess(const tte::bench::KeyPair& server, const tte::bench::KeyPair& client, int count) {
    int fds[2];
    must(pipe(fds) == 0, "pipe");
    const pid_t pid = fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
        close(fds[0]);
        const double bytes = tte::bench::rawDtlsBytesPerConnection(server, client, count);
        _exit(write(fds[1], &bytes, sizeof bytes) == sizeof bytes ? 0 : 1);
    }
    close(fds[1]);
    double bytes = 0;
    const bool read = ::read(fds[0], &bytes, sizeof bytes) == sizeof bytes;
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return read && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? bytes : 0;
}

/// Where the bench finds tte-mothership: $TTE_BIN, else next to this program.
void locateBinaries() {
    if (std::getenv("TTE_BIN") != nullptr) return;
    const auto self = std::filesystem::read_symlink("/proc/self/exe").parent_path();
    setenv("TTE_BIN", self.c_str(), 0);
}

/// `--only dtls-memory` (this bench's own flag), taken out of argv before the shared options
/// are parsed; true when it was there.
bool takeOnlyDtlsMemory(int& argc, char** argv) {
    bool only = false;
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc && std::strcmp(argv[i + 1], "dtls-memory") == 0) {
            only = true;
            ++i;
        } else {
            argv[kept++] = argv[i];
        }
    }
    argc = kept;
    return only;
}

}  // namespace

int main(int argc, char** argv) try {
    const bool onlyMemory = takeOnlyDtlsMemory(argc, argv);
    const auto options = tte::bench::parseOptions(argc, argv);
    const Sizes n = options.smoke ? Sizes{40, 4, 40, 8, 4, 8, 10} : Sizes{10000, 16, 1000, 1000, 16, 1000, 2000};
    locateBinaries();
    tte::test::TempDir dir;
    const auto f = [&](const char* name) { return dir.file(name); };
    const tte::bench::KeyPair tls{f("tls.pem"), f("tls.key")}, dtls{f("dtls.pem"), f("dtls.key")},
        device{f("device.pem"), f("device.key")};
    for (const auto* k : {&tls, &dtls, &device})
        must(ms::writeSelfSignedP256(k->key, k->cert, "tte-000001.net", 30).has_value(), "key generation");
    // (d)'s bound first, while this process has no threads to fork with.
    const double rawPerConnection = rawDtlsBytesInFreshProcess(dtls, device, static_cast<int>(n.sessions)) / 1024;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    must(ms::writeNewKeyFile(f("otp.key"), false).has_value(), "OTP-hash key");
    const auto hasher = ms::OtpHasher::fromFile(f("otp.key")).value();
    const auto deviceFp = tte::protocol::fingerprintFromPem(tte::test::readText(device.cert))->hex();
    const auto dtlsFp = tte::protocol::fingerprintFromPem(tte::test::readText(dtls.cert))->hex();
    const auto tlsFp = tte::protocol::fingerprintFromPem(tte::test::readText(tls.cert)).value();
    const auto config = [&](const char* name, const std::string& dbUrl) {
        tte::test::writeFile(f(name),
                          "ms_id = 1\nlog_level = \"warn\"\n"
                          "[https]\nlisten = \"127.0.0.1:0\"\ncert = \"" + tls.cert + "\"\nkey = \"" + tls.key + "\"\n"
                          "[coaps]\nlisten = \"127.0.0.1:0\"\ncert = \"" + dtls.cert + "\"\nkey = \"" + dtls.key + "\"\n"
                          // Every device of the bench comes from 127.0.0.1: the per-address limit
                          // of new handshakes (8/s, docs/SECURITY.md threat 7) is lifted for them.
                          "handshakes_per_address_per_s = 1000000\n"
                          "[database]\nurl = \"" + dbUrl + "\"\n[otp_hash]\nkey_file = \"" + f("otp.key") + "\"\n");
        return f(name);
    };
    const auto urns = urnsOf(n.devices);
    std::vector<Figure> figures;

    {  // (d): a server of its own, its devices claimed in its registry before it starts
        const std::string sessionsDb = "sqlite://" + f("sessions.db");
        insertDevices(sessionsDb, deviceFp, hasher, n.sessions + 1);
        claimDevices(sessionsDb, n.sessions + 1);
        tte::test::ServerProcess server(config("sessions.toml", sessionsDb), dir);
        tte::bench::DeviceFleet fleet(server.coapsPort(), device, dtlsFp);
        must(fleet.enroll({urns.front()}, 1, std::chrono::seconds(10), false).served == 1, "first enrollment");
        const std::size_t rssBefore = tte::bench::residentBytes(server.pid());
        const std::vector<std::string> held(urns.begin() + 1, urns.begin() + 1 + static_cast<long>(n.sessions));
        const auto open = fleet.enroll(held, 64, std::chrono::seconds(60), true);
        const std::size_t rssAfter = tte::bench::residentBytes(server.pid());
        std::fprintf(stderr, "mothership_bench: %zu sessions: %d open (served), %d refused, %d retried, %.1f s; RSS %zu -> %zu KiB\n",
                     held.size(), open.served, open.refused, open.retried, open.seconds, rssBefore / 1024, rssAfter / 1024);
        fleet.abandon();
        must(server.stop() == 0, "tte-mothership (sessions) did not stop cleanly:\n" + server.log());
        const double perSession = open.served == static_cast<int>(n.sessions) && rssAfter > rssBefore
                                      ? static_cast<double>(rssAfter - rssBefore) / static_cast<double>(n.sessions) / 1024
                                      : 0;
        // Smaller is better here: the ratio is bound / value, so that ≥ target is good as elsewhere.
        figures.push_back({"server RSS per open CoAP/DTLS session (" + std::to_string(n.sessions) + ")", perSession,
                           "KiB", "raw OpenSSL DTLS server connection KiB", rawPerConnection,
                           perSession > 0 ? rawPerConnection / perSession : 0, 0.5});
    }
    if (onlyMemory) {
        curl_global_cleanup();
        tte::bench::print(figures, options);
        return 0;
    }

    const std::string dbUrl = "sqlite://" + f("registry.db");
    insertDevices(dbUrl, deviceFp, hasher, n.devices);
    tte::test::ServerProcess server(config("ms.toml", dbUrl), dir);

    const double claims = claimsPerSecond(server.httpsPort(), "sha256//" + tte::protocol::base64Encode(tlsFp.bytes), n.devices,
                                          n.connections);
    const double commits = rawSqliteCommitsPerSecond(f("raw.db"), n.rawCommits);
    figures.insert(figures.begin(), {"claims/s (durable, keep-alive HTTPS, " + std::to_string(n.connections) + " conns)", claims,
                       "ops/s", "raw sqlite commits/s (WAL, sync=FULL)", commits, commits > 0 ? claims / commits : 0, 1});

    tte::bench::DeviceFleet fleet(server.coapsPort(), device, dtlsFp);
    // The devices (d) held open are registered here too, as when (d) ran on this server: (b)
    // then measures the GETs of registered devices (answered at once), as in earlier runs.
    const std::vector<std::string> registered(urns.begin(), urns.begin() + 1 + static_cast<long>(n.sessions));
    must(fleet.enroll(registered, 64, std::chrono::seconds(60), false).served == static_cast<int>(registered.size()),
         "registering the devices of (d)");
    const std::vector<std::string> rateUrns(urns.begin(), urns.begin() + static_cast<long>(n.enrollments));
    const auto rate = fleet.enroll(rateUrns, n.inFlight, std::chrono::seconds(120), false);
    const double enrollPerSecond = rate.served == static_cast<int>(n.enrollments) ? rate.served / rate.seconds : 0;
    const double rawDtls = tte::bench::rawDtlsHandshakesPerSecond(dtls, device, n.rawHandshakes);
    figures.push_back({"CoAP/DTLS enrollments/s (handshake+GET, " + std::to_string(n.inFlight) + " in flight)",
                       enrollPerSecond, "ops/s", "raw OpenSSL DTLS 1.2 handshakes/s", rawDtls,
                       rawDtls > 0 ? enrollPerSecond / rawDtls : 0, 0.7});

    const auto burst = fleet.enroll(urns, urns.size(), std::chrono::seconds(60), false);
    std::fprintf(stderr, "mothership_bench: burst of %zu devices: %d served, %d refused, %d retried, %.1f s\n",
                 urns.size(), burst.served, burst.refused, burst.retried, burst.seconds);
    figures.push_back({"devices served, all " + std::to_string(urns.size()) + " at once", static_cast<double>(burst.served),
                       "devices", "devices enrolling", static_cast<double>(urns.size()),
                       static_cast<double>(burst.served) / static_cast<double>(urns.size()), 1});
    figures.push_back({"time to serve the burst", burst.seconds, "s", "limit s (ratio = limit / time)", 60,
                       burst.seconds > 0 ? 60 / burst.seconds : 0, 1});
    fleet.abandon();  // sessions still under way end here, before the server goes
    const int exit = server.stop();
    must(exit == 0, "tte-mothership did not stop cleanly (status " + std::to_string(exit) + "):\n" + server.log());
    curl_global_cleanup();
    tte::bench::print(figures, options);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "mothership_bench: %s\n", e.what());
    return 1;
}
