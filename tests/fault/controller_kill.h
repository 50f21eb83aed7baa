// The controller kill test's fixture: a real tte-controller and tte-mothership, the workers that
// load them, the kill rounds and the checks after each restart (defined in controller_kill_*.cpp).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "controller_kill_ledger.h"
#include "support/sites.h"

namespace tte::controller_kill_tests {

class ControllerKill : public ::testing::Test {
protected:
    void SetUp() override;

    // The kill rounds (controller_kill_test.cpp).
    /// The Controller on port 0 over the state directory, asking the real MotherShip about its
    /// devices (--poll-interval 1 --poll-backoff 1), with a short TTL in every third start and
    /// the MotherShip out of its reach (a closed port) in every fourth.
    void start();

    /// One round: load on the running Controller, SIGKILL after a random number of acks, start again.
    void killRound();

    /// After every other kill of a start with the short TTL: the Controller stays down until
    /// the pending introduction that expires first has expired (at most kShortTtl seconds), so
    /// that expiries while it is down do not depend on where the kill fell.
    void keepDownUntilAnExpiry();

    /// `kills` rounds of killRound and checkStore, stopping at the first failure; prints what they did.
    void killRepeatedly(int kills);

    // The load on the Controller: introductions and check-ins (controller_kill_requests.cpp).
    /// A new device of `kind`: seeded OTP, its key (files or PSKs) and what the MotherShip will hear of it.
    Device makeDevice(Kind kind);

    /// Message 6: new devices (certificate, PSK, or one that waits), the ones a kill cut off
    /// sent again, and now and then one that checked in sent again.
    void introducer(const test::ControllerProcess& c, const std::atomic<bool>& stop);

    /// The device a check-in goes to (the ledger is locked): a cut one again; else a fresh
    /// introduced device; one whose introduction expired (also one refused before: it must stay
    /// refused); a checked-in device again; or one nobody introduced.
    std::optional<std::pair<Device, Why>> nextCheckin(std::uint64_t i);

    /// Message 11: introduced devices check in (certificate or PSK), also once their
    /// introduction expired; devices nobody introduced too; check-ins a kill cut off are sent
    /// again, checked-in devices check in again.
    void checker(const test::ControllerProcess& c, const std::atomic<bool>& stop);

    // The real MotherShip steps of the devices (controller_kill_mothership.cpp).
    /// The station upload of `d`'s record (PROTOCOL §10): not-mapped at the MotherShip.
    bool upload(const Device& d);

    /// When the next MotherShip step of a device is due: 0.1–0.7 s on, so the poller (every
    /// second) sees some of the states in between.
    std::chrono::steady_clock::time_point stepAfter();

    /// Moves devices through the MotherShip along their plans: claims (message 4/5), CoAP
    /// registrations (message 9/10) and station revocations. The MotherShip is never killed,
    /// so each step is answered; the state is noted as possible before the request is sent.
    void motherShipWorker(const test::ControllerProcess& c, const std::atomic<bool>& stop);

    // The checks after each restart (controller_kill_checks.cpp).
    /// `sqlite3 -readonly` on the Controller's database; its output.
    std::string sql(const std::string& query);

    /// What the poller stored for an introduced device: unknown or a state the MotherShip had,
    /// forward only, frozen once the introduction expired before a start.
    void checkMotherShipState(const std::string& urn, const Device& d, const std::string& msState);

    /// Everything acknowledged is there, as sent; nothing is half-written.
    void checkStore();

    test::TempDir dir{"controller-kill"};
    test::MotherShipSite site{test::MotherShipSiteOptions{1000000}};  // the poller asks about unknown Dev IDs too
    test::ControllerProcess controller;
    std::string firstFingerprint;
    Ledger ledger;
    std::mutex rngMutex;
    std::mt19937_64 rng;
    std::uint64_t seed = 0;
    std::uint32_t nextDevice = 0x10000;
    std::size_t lostTotal = 0;
    std::set<std::string> otpSearched;  ///< devices whose OTP was looked for in the files (once each)
    std::set<std::string> forgetDue;    ///< OTPs the poller forgot before the last check
    std::vector<std::string> checkedInIntroduced;  ///< introduced devices answered 2.04 (sent again now and then)
    std::mutex msMutex;
    std::condition_variable msWake;
    // Per start.
    int starts = 0, unreachableStarts = 0, shortTtlStarts = 0, heldDown = 0;
    bool shortTtl = false, msReachable = true;
    std::int64_t startedAt = 0, readyAtMs = 0;
    // What the checks saw.
    std::map<std::string, std::string> lastMsState, frozen;
    std::set<std::pair<std::string, std::string>> statusSeen;
    std::map<std::string, int> statusAnswers;
    std::set<std::string> expiredWhileDown, expiredOtpsForgotten;
};

}  // namespace tte::controller_kill_tests
