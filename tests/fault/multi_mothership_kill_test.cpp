// Several MotherShips on one PostgreSQL, one SIGKILLed under load: station uploads, claims and
// CoAP registrations through the balancer go on at the other two; no acknowledged request is
// lost, none is done twice, and the devices whose instance died finish through the balancer.
// MotherShipFarmKill.OneInstance… runs in CI (label fault), MotherShipFarmKill.Soak… under soak.
#include <gtest/gtest.h>

#include "ack_ledger.h"
#include "mothership_farm.h"

namespace tte {
namespace {

using namespace farm_tests;

/// What the farm acknowledged while one instance was killed, and what went wrong.
struct Ledger : test::AckLedger {
    std::set<std::uint32_t> claiming;      ///< a claimer has it
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
            if (!ledger.uploaded(test::https(servers[pick(turn)]->httpsPort(), pki.caCert, call), batch)) ledger.cutOff++;
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
        while (auto next = ledger.nextToRegister(stop)) {
            auto r = test::coapGet(balancer->port(), pki.deviceCert, pki.deviceKey, pki.dtlsFingerprint, test::devUrn(*next));
            if (!ledger.registrationAnswered(*next, r.code)) ledger.cutOff++;
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
