// The MotherShip farm of the multi-MotherShip tests: three real tte-mothership processes on one
// throwaway PostgreSQL behind a UDP balancer with source-address affinity (see
// multi_mothership_test.cpp for what is tested).
#pragma once

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


namespace tte::farm_tests {


using nlohmann::json;
using namespace std::chrono_literals;

inline constexpr std::size_t kInstances = 3;
inline const char* const kControllerIp = "192.0.2.10";

/// The retry budget of docs/PROTOCOL.md §7 ("Retry budget under loss"), as tte-device flags.
inline const std::vector<std::string> kBudget = {"--timeout-ms",   "6000", "--retry-base-ms", "200",
                                                 "--retry-cap-ms", "2000", "--max-attempts",  "6"};

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
        auto r = test::runSql(db, query);
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

}  // namespace tte::farm_tests
