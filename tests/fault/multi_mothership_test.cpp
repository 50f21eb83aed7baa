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
//   - one instance SIGKILLed under load loses nothing (multi_mothership_kill_test.cpp).
//   The farm itself: mothership_farm.h. All run in CI (label fault) but the Soak* case (label soak).
#include <gtest/gtest.h>

#include "mothership_farm.h"

namespace tte {
namespace {

using namespace farm_tests;

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

}  // namespace
}  // namespace tte
