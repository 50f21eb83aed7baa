// Several MotherShips on one PostgreSQL: three real tte-mothership processes share one
// throwaway PostgreSQL (tests/support/postgres.h), one OTP-hash key, one DTLS key and one
// HTTPS certificate – what docs/OPERATIONS.md ("Several MotherShips") says a farm needs – and
//   - a claim is exactly-once across them: 64 concurrent claims of one OTP spread over the
//     three get one 200 and 63 × 409; 60 devices each claimed at once through two instances
//     are each mapped once (answers and audit trail counted);
//   - the lockout is shared: wrong OTPs spread over the three hit the one per-device limit;
//   - real tte-device processes enroll over DTLS through a UDP load balancer with
//     source-address affinity (tests/support/udp_proxy.h with several servers), each
//     instance serving some of them;
//   - one instance SIGKILLed under station uploads, claims and CoAP registrations loses no
//     acknowledged request, and the devices whose instance died finish through the balancer.
//   MotherShipFarm.* run in CI (label fault); MotherShipFarm.Soak* under label soak.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "support/device_image.h"
#include "support/mothership.h"
#include "support/postgres.h"
#include "support/sites.h"
#include "support/udp_proxy.h"
#include "tte/base/hex.h"

namespace tte {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::size_t kInstances = 3;
const char* const kControllerIp = "192.0.2.10";

/// The retry budget of docs/PROTOCOL.md §7 ("Retry budget under loss"), as tte-device flags.
const std::vector<std::string> kBudget = {"--timeout-ms", "6000", "--retry-base-ms", "200", "--retry-cap-ms", "2000",
                                          "--max-attempts", "6"};

/// How many answers of each status a set of requests got, per instance too.
struct Tally {
    std::mutex mutex;
    std::map<long, int> byStatus;
    std::map<std::size_t, int> byInstance;
    void add(std::size_t instance, long status) {
        std::lock_guard lock(mutex);
        byStatus[status]++;
        byInstance[instance]++;
    }
};

/// Three MotherShips on one PostgreSQL, each in its own directory (ports file, log).
class MotherShipFarm : public ::testing::Test {
protected:
    void SetUp() override {
        db = pg.newDatabase();
        ASSERT_EQ(test::runShell(ms() + " admin keygen otp --out " + dir.file("otp.key")).exitCode, 0);
        admin("station add --cert " + pki.stationCert + " --name station-1");
        admin("lot set --lot lot-1 --first 00000100 --last 00ffffff");
        for (std::size_t i = 0; i < kInstances; ++i) {
            dirs.push_back(std::make_unique<test::TempDir>("ms" + std::to_string(i)));
            test::writeFile(dirs[i]->file("ms.toml"), config());
            servers.push_back(std::make_unique<test::ServerProcess>(dirs[i]->file("ms.toml"), *dirs[i]));
        }
        live.assign(kInstances, true);
    }

    static std::string ms() { return test::binary("tte-mothership"); }

    /// The same settings for every instance: one database, one OTP-hash key (the hash of an
    /// OTP must be the same whichever instance computes it), one DTLS key (the devices pin its
    /// fingerprint), one HTTPS certificate.
    std::string config() const {
        return "ms_id = 1\nlog_level = \"info\"\n"
               "[https]\nlisten = \"127.0.0.1:0\"\ncert = \"" + pki.tlsCert + "\"\nkey = \"" + pki.tlsKey + "\"\nthreads = 2\n"
               "[coaps]\nlisten = \"127.0.0.1:0\"\ncert = \"" + pki.dtlsCert + "\"\nkey = \"" + pki.dtlsKey + "\"\n"
               "[database]\nurl = \"" + db + "\"\nconnections = 4\n"
               "[otp_hash]\nkey_file = \"" + dir.file("otp.key") + "\"\n"
               "[limits]\nmax_failures_per_device = 5\nmax_failures_per_client = 100000\nwindow_s = 600\nlockout_s = 600\n";
    }

    void admin(const std::string& args) {
        auto r = test::runShell(ms() + " --database '" + db + "' admin " + args);
        ASSERT_EQ(r.exitCode, 0) << args << "\n" << r.output;
    }

    /// A read-only query of the shared database through psql: its rows, `|`-separated.
    std::string sql(const std::string& query) {
        auto r = test::runShell("psql '" + db + "' -X -A -t -c \"" + query + "\"");
        EXPECT_EQ(r.exitCode, 0) << query << "\n" << r.output;
        return r.output;
    }

    /// Rows of `query` whose first two columns are (devid, count).
    std::map<std::uint32_t, int> countsByDevice(const std::string& query) {
        std::map<std::uint32_t, int> out;
        std::istringstream lines(sql(query));
        for (std::string line; std::getline(lines, line);) {
            const auto bar = line.find('|');
            if (bar != std::string::npos) out[static_cast<std::uint32_t>(std::stoul(line.substr(0, bar)))] = std::stoi(line.substr(bar + 1));
        }
        return out;
    }
    std::map<std::uint32_t, int> auditCount(const std::string& event) {
        return countsByDevice("SELECT devid, count(*) FROM audit WHERE event = '" + event + "' GROUP BY devid");
    }
    /// Dev ID → state, from the shared database.
    std::map<std::uint32_t, std::string> states() {
        std::map<std::uint32_t, std::string> out;
        std::istringstream lines(sql("SELECT devid, state FROM devices"));
        for (std::string line; std::getline(lines, line);) {
            const auto bar = line.find('|');
            if (bar != std::string::npos) out[static_cast<std::uint32_t>(std::stoul(line.substr(0, bar)))] = line.substr(bar + 1);
        }
        return out;
    }

    /// Uploads signed records (devid, otp, device fingerprint) through instance `i`, 50 a request.
    void upload(const std::vector<std::tuple<std::uint32_t, std::uint64_t, std::string>>& devices, std::size_t i = 0) {
        for (std::size_t at = 0; at < devices.size(); at += 50) {
            json records = json::array();
            for (std::size_t k = at; k < std::min(devices.size(), at + 50); ++k) {
                const auto& [devId, otp, fp] = devices[k];
                records.push_back(test::signedRecord(pki.stationKey, "station-1", devId, otp, fp, ++seq));
            }
            test::HttpCall call{"POST", "/api/v1/records", json{{"records", records}}.dump(), "application/json", "",
                                pki.stationCert, pki.stationKey};
            auto r = test::https(servers[i]->httpsPort(), pki.caCert, call);
            ASSERT_EQ(r.status, 200) << r.body << r.error;
            const auto doc = json::parse(r.body);
            for (const auto& res : doc["results"]) ASSERT_EQ(res["status"], "stored") << res;
        }
    }

    static std::string claimPath(std::uint32_t dev, std::uint64_t otp, const std::string& cip, int cport, const std::string& cfp) {
        return "/.well-known/tte?otp=" + toHex(otp, 16) + ",devid=" + toHex(dev, 8) + ",cip=" + cip +
               ",cport=" + std::to_string(cport) + ",cfingerprint=" + cfp;
    }
    test::HttpResult claim(std::size_t i, std::uint32_t dev, std::uint64_t otp, const std::string& cip = kControllerIp,
                           int cport = 5684, const std::string& cfp = "") {
        return test::https(servers[i]->httpsPort(), pki.caCert,
                           {"POST", claimPath(dev, otp, cip, cport, cfp.empty() ? pki.otherFingerprint : cfp), "", "", "", "", ""});
    }

    /// Runs `count` jobs on `threads` threads, all released at once.
    static void concurrently(std::size_t count, std::size_t threads, const std::function<void(std::size_t)>& job) {
        std::atomic<std::size_t> next{0};
        std::atomic<bool> go{false};
        std::vector<std::thread> pool;
        for (std::size_t t = 0; t < threads; ++t)
            pool.emplace_back([&] {
                while (!go) std::this_thread::yield();
                for (std::size_t k; (k = next++) < count;) job(k);
            });
        go = true;
        for (auto& t : pool) t.join();
    }

    std::vector<std::uint16_t> coapsPorts() const {
        std::vector<std::uint16_t> out;
        for (const auto& s : servers) out.push_back(s->coapsPort());
        return out;
    }

    test::Postgres pg;
    std::string db;
    test::TempDir dir{"farm"};
    test::Pki pki = test::makePki(dir);
    std::vector<std::unique_ptr<test::TempDir>> dirs;
    std::vector<std::unique_ptr<test::ServerProcess>> servers;
    std::vector<bool> live;
    std::uint64_t seq = 0;
};

/// 64 claims of one OTP at once, spread over the three instances: exactly one 200.
TEST_F(MotherShipFarm, OneOtpClaimedConcurrentlyThroughAllInstancesWinsOnce) {
    constexpr std::uint32_t dev = 0x100;
    constexpr std::uint64_t otp = 0x0123456789abcdefULL;
    upload({{dev, otp, pki.deviceFingerprint}});
    if (HasFatalFailure()) return;
    Tally tally;
    std::mutex mutex;
    std::vector<std::string> bodies;
    concurrently(64, 64, [&](std::size_t k) {
        // Each claimer names its own Controller port, so the winner is known from the row.
        auto r = claim(k % kInstances, dev, otp, kControllerIp, static_cast<int>(1000 + k));
        tally.add(k % kInstances, r.status);
        std::lock_guard lock(mutex);
        if (r.status != 200 && r.status != 409) bodies.push_back(std::to_string(r.status) + " " + r.body + r.error);
    });
    for (const auto& b : bodies) ADD_FAILURE() << "unexpected answer: " << b;
    std::printf("64 concurrent claims of one OTP over %zu instances: %d × 200, %d × 409\n", kInstances, tally.byStatus[200],
                tally.byStatus[409]);
    EXPECT_EQ(tally.byStatus[200], 1) << "a second 200 is a second Controller for the device";
    EXPECT_EQ(tally.byStatus[409], 63);
    for (std::size_t i = 0; i < kInstances; ++i) EXPECT_GE(tally.byInstance[i], 21) << "instance " << i;
    // The database agrees: one mapping, one audit entry, 63 conflicts audited.
    EXPECT_EQ(auditCount("mapped")[dev], 1);
    EXPECT_EQ(auditCount("claim-conflict")[dev], 63);
    EXPECT_EQ(states()[dev], "mapped");
}

/// Many devices, each claimed at once through two different instances: each mapped once.
TEST_F(MotherShipFarm, ManyDevicesClaimedOverAllInstancesAreEachMappedOnce) {
    constexpr std::uint32_t first = 0x200, count = 60;
    std::vector<std::tuple<std::uint32_t, std::uint64_t, std::string>> devices;
    for (std::uint32_t d = first; d < first + count; ++d) devices.emplace_back(d, 0x5000000000000000ULL + d * 7919ULL, pki.deviceFingerprint);
    upload(devices);
    if (HasFatalFailure()) return;
    std::mutex mutex;
    std::map<std::uint32_t, std::vector<long>> answers;
    Tally tally;
    concurrently(2 * count, 16, [&](std::size_t k) {
        const std::uint32_t dev = first + static_cast<std::uint32_t>(k / 2);
        const std::size_t instance = (k / 2 + k % 2) % kInstances;  // two different instances per device
        auto r = claim(instance, dev, 0x5000000000000000ULL + dev * 7919ULL);
        tally.add(instance, r.status);
        std::lock_guard lock(mutex);
        answers[dev].push_back(r.status);
    });
    const auto mapped = auditCount("mapped");
    const auto st = states();
    std::size_t once = 0;
    for (std::uint32_t d = first; d < first + count; ++d) {
        auto a = answers[d];
        std::sort(a.begin(), a.end());
        EXPECT_EQ(a, (std::vector<long>{200, 409})) << "device " << toHex(d, 8);
        EXPECT_EQ(mapped.count(d) ? mapped.at(d) : 0, 1) << "device " << toHex(d, 8) << " mapping audited";
        EXPECT_EQ(st.at(d), "mapped");
        once += a == std::vector<long>{200, 409};
    }
    std::printf("%u devices, each claimed at once through two of %zu instances: %zu mapped exactly once "
                "(answers per instance: %d, %d, %d)\n",
                count, kInstances, once, tally.byInstance[0], tally.byInstance[1], tally.byInstance[2]);
}

/// Wrong OTPs for one Dev ID spread over the instances reach the one shared limit (5).
TEST_F(MotherShipFarm, WrongOtpsSpreadOverInstancesHitOneSharedLockout) {
    constexpr std::uint32_t dev = 0x300;
    constexpr std::uint64_t otp = 0x1111222233334444ULL;
    upload({{dev, otp, pki.deviceFingerprint}});
    if (HasFatalFailure()) return;
    // Five failures, no instance seeing more than two of them.
    for (std::size_t k = 0; k < 5; ++k) {
        auto r = claim(k % kInstances, dev, otp ^ (k + 1));
        EXPECT_EQ(r.status, 404) << "failure " << k + 1 << " at instance " << k % kInstances << ": " << r.body;
    }
    // The sixth try, at the instance that has seen only one failure itself, is refused – and
    // so is the right OTP, at every instance.
    auto r = claim(2, dev, otp ^ 6);
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_FALSE(r.headers["retry-after"].empty());
    for (std::size_t i = 0; i < kInstances; ++i) {
        auto right = claim(i, dev, otp);
        EXPECT_EQ(right.status, 429) << "the right OTP at instance " << i << " during the lockout: " << right.body;
    }
    EXPECT_EQ(auditCount("otp-wrong")[dev], 5);
    EXPECT_EQ(states()[dev], "not-mapped");
    std::printf("wrong OTPs over %zu instances: 5 × 404, then 429 at every instance (shared limit 5)\n", kInstances);
}

/// A device enrolling: its image (pinning the farm's DTLS key, reaching it at the balancer).
struct DeviceRun {
    test::TestDevice device;
    std::unique_ptr<test::Process> process;
    int code = -1;
    std::string out;
};

class MotherShipFarmDtls : public MotherShipFarm {
protected:
    void SetUp() override {
        MotherShipFarm::SetUp();
        if (HasFatalFailure()) return;
        controller = test::startController(dir.path(), "controller", {"--no-status-queries", "--accept-unintroduced"});
        ASSERT_FALSE(controller.coaps.empty());
        controllerPort = static_cast<std::uint16_t>(std::stoul(controller.coaps.substr(controller.coaps.rfind(':') + 1)));
        balancer = std::make_unique<test::UdpProxy>(coapsPorts(), test::LinkFaults{}, 1);
    }

    /// `count` devices from `first`: records stored, each claimed for the Controller (through
    /// the instances in turn), images made to reach the MotherShip at the balancer.
    void prepareDevices(std::uint32_t first, std::uint32_t count) {
        std::vector<std::tuple<std::uint32_t, std::uint64_t, std::string>> records;
        for (std::uint32_t d = first; d < first + count; ++d) {
            DeviceRun run;
            run.device = test::makeDeviceImage(dir.path(), d, 0x7000000000000000ULL + d, "127.0.0.1", balancer->port(),
                                               pki.dtlsFingerprint);
            records.emplace_back(d, run.device.otp, run.device.fingerprint);
            devices.push_back(std::move(run));
        }
        upload(records);
        for (auto& [d, otp, fp] : records) {
            auto r = claim(d % kInstances, d, otp, "127.0.0.1", controllerPort, controller.fingerprint);
            ASSERT_EQ(r.status, 200) << r.body << r.error;
        }
    }

    void startDevices() {
        for (auto& d : devices) {
            std::vector<std::string> argv = {(test::binDir() / "tte-device").string(), "run", "--flash", d.device.image.string()};
            argv.insert(argv.end(), kBudget.begin(), kBudget.end());
            d.process = std::make_unique<test::Process>(argv, dir.path(), "device-" + toHex(d.device.devId, 8));
        }
    }

    /// Waits for every device's end; how many checked in with the Controller.
    std::size_t finishDevices() {
        EXPECT_TRUE(test::waitFor([&] {
            for (auto& d : devices)
                if (!d.process->exited()) return false;
            return true;
        }, 120s)) << "a tte-device outlived its retry budget";
        std::size_t checkedIn = 0;
        const std::string line = "outcome=checked-in controller=127.0.0.1:" + std::to_string(controllerPort) +
                                 " controller-fingerprint=" + controller.fingerprint + " from=mothership";
        for (auto& d : devices) {
            d.code = d.process->exited() ? d.process->status() : -1;
            d.out = d.process->out();
            const bool ok = d.code == 0 && d.out.find(line) != std::string::npos;
            EXPECT_TRUE(ok) << "device " << toHex(d.device.devId, 8) << " did not check in:\n" << d.out << d.process->err();
            checkedIn += ok;
        }
        return checkedIn;
    }

    /// Every device is registered in the shared database, its registration audited once.
    void expectRegisteredOnce() {
        const auto st = states();
        const auto registered = auditCount("registered");
        for (const auto& d : devices) {
            SCOPED_TRACE("device " + toHex(d.device.devId, 8));
            EXPECT_EQ(st.count(d.device.devId) ? st.at(d.device.devId) : "", "registered");
            EXPECT_EQ(registered.count(d.device.devId) ? registered.at(d.device.devId) : 0, 1);
        }
    }

    test::ControllerProcess controller;
    std::uint16_t controllerPort = 0;
    std::unique_ptr<test::UdpProxy> balancer;
    std::vector<DeviceRun> devices;
};

/// Real devices enroll over DTLS through the balancer; every instance serves some of them.
TEST_F(MotherShipFarmDtls, DevicesEnrollThroughTheBalancer) {
    constexpr std::uint32_t count = 12;
    prepareDevices(0x400, count);
    if (HasFatalFailure()) return;
    const auto start = std::chrono::steady_clock::now();
    startDevices();
    const auto checkedIn = finishDevices();
    const auto flows = balancer->flowsPerServer();
    std::printf("%zu of %u devices checked in through the balancer in %.1f s; flows per instance: %llu, %llu, %llu\n",
                checkedIn, count, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                static_cast<unsigned long long>(flows[0]), static_cast<unsigned long long>(flows[1]),
                static_cast<unsigned long long>(flows[2]));
    EXPECT_EQ(checkedIn, count);
    for (std::size_t i = 0; i < kInstances; ++i) EXPECT_GT(flows[i], 0u) << "instance " << i << " served no device";
    EXPECT_EQ(balancer->counters().serversLost, 0u);
    expectRegisteredOnce();
}

/// What the farm acknowledged while one instance was killed, and what went wrong.
struct Ledger {
    std::mutex mutex;
    std::condition_variable changed;
    std::map<std::uint32_t, std::uint64_t> stored;  ///< upload answered "stored"
    std::set<std::uint32_t> claimed;                ///< claim answered 200
    std::set<std::uint32_t> claimedUnseen;          ///< 409 after a claim cut off by the kill
    std::set<std::uint32_t> claiming;               ///< a claimer has it
    std::set<std::uint32_t> registered;             ///< CoAP GET through the balancer answered 2.05
    std::vector<std::string> errors;
    std::atomic<std::uint64_t> acks{0};
    std::atomic<std::uint64_t> cutOff{0};  ///< requests that got no answer (their instance died)
};

class MotherShipFarmKill : public MotherShipFarmDtls {
protected:
    /// The next live instance, in turn.
    std::size_t pick(std::atomic<std::size_t>& turn) {
        for (;;) {
            const std::size_t i = turn++ % kInstances;
            std::lock_guard lock(liveMutex);
            if (live[i]) return i;
        }
    }

    void uploader(const std::atomic<bool>& stop) {
        std::atomic<std::size_t> turn{0};
        std::uint32_t next = 0x10000;
        while (!stop) {
            json records = json::array();
            std::vector<std::pair<std::uint32_t, std::uint64_t>> batch;
            for (int k = 0; k < 4; ++k, ++next) {
                batch.emplace_back(next, 0x3000000000000000ULL + next * 104729ULL);
                records.push_back(test::signedRecord(pki.stationKey, "station-1", next, batch.back().second, pki.deviceFingerprint, ++uploadSeq));
            }
            test::HttpCall call{"POST", "/api/v1/records", json{{"records", records}}.dump(), "application/json", "",
                                pki.stationCert, pki.stationKey};
            auto r = test::https(servers[pick(turn)]->httpsPort(), pki.caCert, call);
            if (r.status == 0) {
                ledger.cutOff++;
                continue;
            }
            auto doc = json::parse(r.body, nullptr, false);
            std::lock_guard lock(ledger.mutex);
            if (r.status != 200 || doc.is_discarded()) {
                ledger.errors.push_back("upload answered " + std::to_string(r.status) + ": " + r.body);
                continue;
            }
            for (std::size_t k = 0; k < batch.size(); ++k) {
                if (doc["results"][k]["status"] != "stored") ledger.errors.push_back("not stored: " + doc["results"][k].dump());
                else ledger.stored[batch[k].first] = batch[k].second;
            }
            ledger.acks++;
            ledger.changed.notify_all();
        }
    }

    void claimer(const std::atomic<bool>& stop) {
        std::atomic<std::size_t> turn{1};
        std::optional<std::pair<std::uint32_t, std::uint64_t>> next;
        while (!stop) {
            if (!next) {
                std::unique_lock lock(ledger.mutex);
                ledger.changed.wait(lock, [&] {
                    for (auto [dev, otp] : ledger.stored)
                        if (!ledger.claimed.count(dev) && !ledger.claimedUnseen.count(dev) && !ledger.claiming.count(dev)) {
                            next = std::make_pair(dev, otp);
                            break;
                        }
                    return stop || next;
                });
                if (!next) return;
                ledger.claiming.insert(next->first);  // one claimer per device
            }
            auto r = claim(pick(turn), next->first, next->second);
            std::lock_guard lock(ledger.mutex);
            if (r.status == 0) {
                ledger.cutOff++;
                cutOffClaims.insert(next->first);
                continue;  // the same claim again, at a live instance
            }
            if (r.status == 200) {
                ledger.claimed.insert(next->first);
                ledger.acks++;
                ledger.changed.notify_all();
            } else if (r.status == 409 && cutOffClaims.count(next->first)) {
                ledger.claimedUnseen.insert(next->first);
            } else {
                ledger.errors.push_back("claim of " + toHex(next->first, 8) + " answered " + std::to_string(r.status) + ": " + r.body);
            }
            ledger.claiming.erase(next->first);
            next.reset();
        }
    }

    /// The devices' CoAP GET, through the balancer (each GET a new source port, a new flow).
    void registrar(const std::atomic<bool>& stop) {
        while (!stop) {
            std::optional<std::uint32_t> next;
            {
                std::unique_lock lock(ledger.mutex);
                ledger.changed.wait(lock, [&] {
                    for (auto dev : ledger.claimed)
                        if (!ledger.registered.count(dev)) {
                            next = dev;
                            break;
                        }
                    return stop || next;
                });
            }
            if (!next) return;
            auto r = test::coapGet(balancer->port(), pki.deviceCert, pki.deviceKey, pki.dtlsFingerprint, test::devUrn(*next));
            std::lock_guard lock(ledger.mutex);
            if (r.code == 205) {
                ledger.registered.insert(*next);
                ledger.acks++;
            } else if (r.code == 0) {
                ledger.cutOff++;
            } else {
                ledger.errors.push_back("CoAP GET of " + toHex(*next, 8) + " answered " + std::to_string(r.code));
            }
        }
    }

    /// Load on the three, SIGKILL of instance 1 after `before` acks, `after` more acks on the
    /// two left; real devices enrolling through the balancer all the while.
    void killOneUnderLoad(std::uint64_t before, std::uint64_t after, std::uint32_t deviceCount) {
        prepareDevices(0x800, deviceCount);
        if (HasFatalFailure()) return;
        std::atomic<bool> stop{false};
        const auto start = std::chrono::steady_clock::now();
        std::vector<std::thread> workers;
        workers.emplace_back([&] { uploader(stop); });
        for (int k = 0; k < 2; ++k) workers.emplace_back([&] { claimer(stop); });
        for (int k = 0; k < 2; ++k) workers.emplace_back([&] { registrar(stop); });
        const bool reached = test::waitFor([&] { return ledger.acks >= before; }, 60s);
        // The devices start now, and the kill comes once each has sent its first datagram:
        // those given to instance 1 are in the middle of their handshake or request.
        const auto flowsBefore = balancer->counters().flows;
        startDevices();
        EXPECT_TRUE(test::waitFor([&] { return balancer->counters().flows >= flowsBefore + deviceCount; }, 30s));
        const auto flowsAtKill = balancer->flowsPerServer()[1];
        // Killed with requests in flight; the HTTPS clients (their own "load balancer") stop
        // choosing it only afterwards, so some requests find it dead and go elsewhere.
        const int status = servers[1]->kill(SIGKILL);
        {
            std::lock_guard lock(liveMutex);
            live[1] = false;
        }
        const auto ackedAtKill = ledger.acks.load();
        const bool continued = test::waitFor([&] { return ledger.acks >= ackedAtKill + after; }, 60s);
        {
            std::lock_guard lock(ledger.mutex);
            stop = true;
            ledger.changed.notify_all();
        }
        for (auto& t : workers) t.join();
        EXPECT_TRUE(reached) << "the farm stopped acknowledging before the kill";
        EXPECT_TRUE(continued) << "the two instances left stopped acknowledging after the kill";
        EXPECT_EQ(status, 128 + SIGKILL);
        const auto checkedIn = finishDevices();
        const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        // Everything acknowledged is in the shared database, nothing twice.
        const auto st = states();
        const auto mapped = auditCount("mapped"), registeredAudit = auditCount("registered");
        std::size_t lost = 0;
        std::lock_guard lock(ledger.mutex);
        for (const auto& e : ledger.errors) ADD_FAILURE() << e;
        const auto missing = [&](const std::string& what, std::uint32_t dev) {
            ADD_FAILURE() << "acknowledged, then lost in the kill: " << what << " " << toHex(dev, 8);
            ++lost;
        };
        for (auto [dev, otp] : ledger.stored)
            if (!st.count(dev)) missing("stored record", dev);
        for (auto dev : ledger.claimed)
            if (!st.count(dev) || st.at(dev) == "not-mapped" || !mapped.count(dev)) missing("claim", dev);
        for (auto dev : ledger.registered)
            if (!st.count(dev) || st.at(dev) != "registered" || !registeredAudit.count(dev)) missing("registration", dev);
        for (auto [dev, n] : mapped) EXPECT_EQ(n, 1) << "device " << toHex(dev, 8) << " mapped " << n << " times";
        for (auto [dev, n] : registeredAudit) EXPECT_EQ(n, 1) << "device " << toHex(dev, 8) << " registration audited " << n << " times";
        expectRegisteredOnce();
        const auto c = balancer->counters();
        std::printf("one of %zu instances SIGKILLed after %llu acknowledged requests (it held %llu flows), "
                    "%llu more on the two left; acknowledged: %zu records stored, %zu claims, %zu CoAP registrations "
                    "(%zu claims cut off and found committed), %llu requests cut off; acknowledged requests lost: %zu; "
                    "devices checked in through the balancer: %zu of %u (%llu flows moved to a live instance); %.1f s\n",
                    kInstances, static_cast<unsigned long long>(ackedAtKill), static_cast<unsigned long long>(flowsAtKill),
                    static_cast<unsigned long long>(after), ledger.stored.size(), ledger.claimed.size(),
                    ledger.registered.size(), ledger.claimedUnseen.size(),
                    static_cast<unsigned long long>(ledger.cutOff.load()), lost, checkedIn, deviceCount,
                    static_cast<unsigned long long>(c.flowsMoved), elapsed);
        EXPECT_EQ(checkedIn, deviceCount);
        EXPECT_EQ(c.serversLost, 1u) << "the balancer did not take the dead instance out";
        EXPECT_EQ(balancer->liveServers(), (std::vector<bool>{true, false, true}));
        EXPECT_GT(ledger.registered.size(), 0u);
    }

    Ledger ledger;
    std::mutex liveMutex;
    std::set<std::uint32_t> cutOffClaims;
    std::uint64_t uploadSeq = 100000;
};

TEST_F(MotherShipFarmKill, OneInstanceKilledUnderLoadLosesNothing) { killOneUnderLoad(40, 40, 12); }

TEST_F(MotherShipFarmKill, SoakOneInstanceKilledUnderHeavyLoad) { killOneUnderLoad(400, 400, 60); }

}  // namespace
}  // namespace tte
