// Crash consistency of the real tte-mothership: while station uploads (HTTPS, mutual TLS),
// claims (HTTPS POST, message 4/5) and CoAP registrations (DTLS, message 9/10) are in flight,
// the process is SIGKILLed at a seeded random point – after the k-th acknowledged request –
// restarted, and the registry checked through the admin CLI and the database: every request
// answered 2xx / 2.05 before the kill is there, and nothing is half-written (a mapping without
// its audit entry, a Controller without a mapped state, a registered mark without its entry).
//   MotherShipKill.TenKills runs in CI; MotherShipKill.Soak300Kills under label soak.
//   TTE_FAULT_SEED replays another seed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "ack_ledger.h"
#include "support/sites.h"
#include "tte/base/hex.h"

namespace tte {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::uint32_t kFirstDevice = 0x10000;
const char* const kControllerIp = "192.0.2.10";
constexpr int kControllerPort = 5684;

using Ledger = test::AckLedger;

class MotherShipKill : public ::testing::Test {
protected:
    void SetUp() override {
        site.admin("lot set --lot lot-2 --first 00010000 --last 00ffffff");
        const char* s = std::getenv("TTE_FAULT_SEED");
        rng.seed(s ? std::strtoull(s, nullptr, 0) : 20240525);
    }

    /// Station uploads of 4 records each, new Dev IDs every time.
    void uploader(std::uint16_t port, const std::atomic<bool>& stop) {
        std::mt19937_64 otps(nextDevice);
        while (!stop) {
            nlohmann::json records = nlohmann::json::array();
            std::vector<std::pair<std::uint32_t, std::uint64_t>> batch;
            for (int i = 0; i < 4; ++i) {
                const std::uint32_t dev = nextDevice++;
                const std::uint64_t otp = otps();
                batch.emplace_back(dev, otp);
                records.push_back(test::signedRecord(site.pki.stationKey, "station-1", dev, otp, site.pki.deviceFingerprint, ++seq, "lot-2"));
            }
            test::HttpCall call{"POST", "/api/v1/records", json{{"records", records}}.dump(), "application/json", "",
                                site.pki.stationCert, site.pki.stationKey};
            ledger.uploaded(test::https(port, site.pki.caCert, call), batch);  // no answer: killed mid-request
        }
    }

    /// Claims of stored, unclaimed devices, oldest first.
    void claimer(std::uint16_t port, const std::atomic<bool>& stop) {
        while (!stop) {
            std::optional<std::pair<std::uint32_t, std::uint64_t>> next;
            {
                std::unique_lock lock(ledger.mutex);
                ledger.changed.wait(lock, [&] {
                    for (auto [dev, otp] : ledger.stored)
                        if (!ledger.claimed.count(dev) && !ledger.claimedUnseen.count(dev)) {
                            next = std::make_pair(dev, otp);
                            break;
                        }
                    return stop || next;
                });
            }
            if (!next) return;
            const auto path = "/.well-known/tte?otp=" + toHex(next->second, 16) + ",devid=" + toHex(next->first, 8) +
                              ",cip=" + kControllerIp + ",cport=" + std::to_string(kControllerPort) +
                              ",cfingerprint=" + site.pki.otherFingerprint;
            auto r = test::https(port, site.pki.caCert, {"POST", path, "", "", "", "", ""});
            std::lock_guard lock(ledger.mutex);
            if (r.status == 200) {
                ledger.claimed.insert(next->first);
                ledger.acks++;
                ledger.changed.notify_all();
            } else if (r.status == 409) {
                ledger.claimedUnseen.insert(next->first);  // the claim before the kill was committed
            } else if (r.status != 0) {
                ledger.errors.push_back("claim of " + toHex(next->first, 8) + " answered " + std::to_string(r.status) + ": " + r.body);
            }
        }
    }

    /// The devices' CoAP GET of their Controller, for claimed, unregistered devices.
    void registrar(std::uint16_t port, const std::atomic<bool>& stop) {
        while (auto next = ledger.nextToRegister(stop)) {
            auto r = test::coapGet(port, site.pki.deviceCert, site.pki.deviceKey, site.pki.dtlsFingerprint, test::devUrn(*next));
            ledger.registrationAnswered(*next, r.code);
        }
    }

    /// One round: load on the running MotherShip, SIGKILL after a random number of acks, restart.
    void killRound() {
        const auto https = site.server->httpsPort(), coaps = site.server->coapsPort();
        std::atomic<bool> stop{false};
        const auto target = ledger.acks + 3 + rng() % 25;
        std::thread workers[] = {std::thread([&] { uploader(https, stop); }), std::thread([&] { claimer(https, stop); }),
                                 std::thread([&] { registrar(coaps, stop); })};
        const bool reached = test::waitFor([&] { return ledger.acks >= target; }, 60s);
        const int status = site.server->kill(SIGKILL);
        {
            std::lock_guard lock(ledger.mutex);
            stop = true;
            ledger.changed.notify_all();
        }
        for (auto& t : workers) t.join();
        EXPECT_TRUE(reached) << "the MotherShip stopped acknowledging requests:\n" << site.server->log();
        EXPECT_EQ(status, 128 + SIGKILL);
        site.start();
    }

    /// Everything acknowledged is there; nothing is half-written.
    void checkRegistry() {
        EXPECT_EQ(site.sql("PRAGMA integrity_check"), "ok\n");
        auto rows = site.registryRows();
        auto mapped = site.auditCount("mapped"), registeredAudit = site.auditCount("registered");
        std::lock_guard lock(ledger.mutex);
        for (const auto& e : ledger.errors) ADD_FAILURE() << e;
        ledger.errors.clear();
        std::vector<std::string> lost;
        for (auto [dev, otp] : ledger.stored)
            if (!rows.count(dev)) lost.push_back("stored record " + toHex(dev, 8) + " missing");
        for (auto dev : ledger.claimed)
            if (!rows.count(dev) || rows[dev]["state"] == "not-mapped") lost.push_back("claim of " + toHex(dev, 8) + " lost");
        for (auto dev : ledger.registered)
            if (!rows.count(dev) || rows[dev]["state"] != "registered") lost.push_back("registration of " + toHex(dev, 8) + " lost");
        lostTotal += lost.size();
        for (const auto& l : lost) ADD_FAILURE() << "acknowledged, then lost in a kill: " << l;
        for (auto& [dev, row] : rows) {
            if (dev < kFirstDevice) continue;
            SCOPED_TRACE(row.dump());
            const std::string state = row["state"];
            if (state == "not-mapped") {
                EXPECT_TRUE(row["cip"].is_null() && row["cport"].is_null() && row["cfingerprint"].is_null());
                EXPECT_EQ(mapped[dev], 0);
                EXPECT_EQ(registeredAudit[dev], 0);
                continue;
            }
            EXPECT_TRUE(state == "mapped" || state == "registered");
            EXPECT_EQ(row["cip"], kControllerIp);
            EXPECT_EQ(row["cport"], kControllerPort);
            EXPECT_EQ(row["cfingerprint"], site.pki.otherFingerprint);
            EXPECT_EQ(mapped[dev], 1) << "a mapping is committed with its audit entry, once";
            EXPECT_EQ(registeredAudit[dev], state == "registered" ? 1 : 0);
        }
    }

    void killRepeatedly(int kills) {
        int survived = 0;
        for (; survived < kills && !HasFailure(); ++survived) {
            killRound();
            checkRegistry();
        }
        std::lock_guard lock(ledger.mutex);
        std::printf("kills survived: %d; acknowledged before the kills: %zu records stored, %zu claims, %zu CoAP "
                    "registrations (%zu claims committed whose answer a kill cut off); acknowledged requests lost: %zu\n",
                    survived, ledger.stored.size(), ledger.claimed.size(), ledger.registered.size(), ledger.claimedUnseen.size(),
                    lostTotal);
        EXPECT_EQ(survived, kills);
        EXPECT_GT(ledger.registered.size(), 0u);
    }

    test::MotherShipSite site;
    Ledger ledger;
    std::mt19937_64 rng;
    std::uint32_t nextDevice = kFirstDevice;
    std::uint64_t seq = 1000;
    std::size_t lostTotal = 0;
};

TEST_F(MotherShipKill, TenKills) { killRepeatedly(10); }

TEST_F(MotherShipKill, Soak300Kills) { killRepeatedly(300); }

}  // namespace
}  // namespace tte
