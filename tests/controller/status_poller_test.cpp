// StatusPoller with a fake fetcher: backoff, bounded concurrency, final states (msg 7/8).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "tte/controller/status_poller.h"

namespace tte::controller {
namespace {

using nlohmann::json;

std::string intro(int n) {
    char serial[17];
    std::snprintf(serial, sizeof serial, "%016x", 0xab000000u + static_cast<unsigned>(n));
    char fp[65];
    std::snprintf(fp, sizeof fp, "%064x", n + 1);
    return json{{"urn", std::string("urn:dev:ops:32473-Thermo-") + serial}, {"fingerprint", fp},
                {"otp", "123456789abcdef0"}, {"devid", std::string(serial).substr(8)}, {"ms", "tte-000001.net"}}
        .dump();
}

class PollerTest : public ::testing::Test {
protected:
    void SetUp() override {
        store = std::move(*DeviceStore::open(":memory:"));
        service = std::make_unique<ControllerService>(*store, clock, ServiceOptions{std::chrono::hours(24), false});
    }
    ManualClock clock;
    std::unique_ptr<DeviceStore> store;
    std::unique_ptr<ControllerService> service;
};

TEST_F(PollerTest, BackoffDoublesUpToTheCap) {
    StatusPoller p(*store, *service, clock, {}, {4, std::chrono::seconds(1), std::chrono::seconds(10), std::chrono::seconds(60)});
    EXPECT_EQ(p.backoff(1).count(), 10);
    EXPECT_EQ(p.backoff(2).count(), 20);
    EXPECT_EQ(p.backoff(3).count(), 40);
    EXPECT_EQ(p.backoff(4).count(), 60);
    EXPECT_EQ(p.backoff(40).count(), 60);
}

TEST_F(PollerTest, QueriesDueDevicesWithBoundedConcurrencyAndBacksOff) {
    for (int i = 0; i < 5; ++i) ASSERT_EQ(service->introduce(intro(i)).status, 201);
    std::atomic<int> inFlight{0}, maxInFlight{0}, calls{0};
    StatusFetcher fetch = [&](const StatusQuery& q) -> Result<std::string> {
        int now = ++inFlight;
        int seen = maxInFlight.load();
        while (now > seen && !maxInFlight.compare_exchange_weak(seen, now)) {}
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // overlap the queries
        --inFlight;
        ++calls;
        EXPECT_EQ(std::string(q.otp.view()), "123456789abcdef0");
        return std::string("mapped");
    };
    StatusPoller p(*store, *service, clock, fetch, {2, std::chrono::seconds(1), std::chrono::seconds(10), std::chrono::hours(1)});
    EXPECT_EQ(*p.pollOnce(), 2);
    EXPECT_EQ(*p.pollOnce(), 2);
    EXPECT_EQ(*p.pollOnce(), 1);
    EXPECT_EQ(*p.pollOnce(), 0) << "nothing due until the backoff has passed";
    EXPECT_LE(maxInFlight.load(), 2);
    clock.advance(std::chrono::seconds(10));
    EXPECT_EQ(*p.pollOnce(), 2);
    auto list = json::parse(service->devices().body);
    EXPECT_EQ(list["devices"][0]["ms_state"], "mapped");
    EXPECT_EQ(calls.load(), 7);
}

TEST_F(PollerTest, FinalStatesAndFailuresAreRecorded) {
    ASSERT_EQ(service->introduce(intro(0)).status, 201);
    ASSERT_EQ(service->introduce(intro(1)).status, 201);
    StatusFetcher fetch = [&](const StatusQuery& q) -> Result<std::string> {
        if (q.devid == "ab000000") return std::string("registered");
        return fail(Errc::unavailable, "MotherShip down");
    };
    StatusPoller p(*store, *service, clock, fetch, {4, std::chrono::seconds(1), std::chrono::seconds(10), std::chrono::hours(1)});
    EXPECT_EQ(*p.pollOnce(), 2);
    auto list = json::parse(service->devices().body)["devices"];
    EXPECT_EQ(list[0]["ms_state"], "registered");
    EXPECT_EQ(list[1]["ms_state"], "unknown");
    clock.advance(std::chrono::hours(2));
    EXPECT_EQ(*p.pollOnce(), 1) << "a device the MotherShip calls registered is not asked again";
    EXPECT_NE(service->metrics().find("tte_controller_status_queries_failed_total 2\n"), std::string::npos);
}

TEST_F(PollerTest, AFailedQueryKeepsWhatTheMotherShipLastSaid) {
    ASSERT_EQ(service->introduce(intro(0)).status, 201);
    bool up = true;
    StatusFetcher fetch = [&](const StatusQuery&) -> Result<std::string> {
        if (up) return std::string("mapped");
        return fail(Errc::unavailable, "MotherShip down");
    };
    StatusPoller p(*store, *service, clock, fetch, {4, std::chrono::seconds(1), std::chrono::seconds(10), std::chrono::hours(1)});
    EXPECT_EQ(*p.pollOnce(), 1);
    up = false;
    clock.advance(std::chrono::seconds(10));
    EXPECT_EQ(*p.pollOnce(), 1);
    EXPECT_EQ(json::parse(service->devices().body)["devices"][0]["ms_state"], "mapped")
        << "the MotherShip did not answer: its last answer stands (it was overwritten with unknown before)";
    EXPECT_EQ(*p.pollOnce(), 0) << "the failed query counts for the backoff";
    clock.advance(std::chrono::seconds(20));
    up = true;
    EXPECT_EQ(*p.pollOnce(), 1);
    EXPECT_NE(service->metrics().find("tte_controller_status_queries_failed_total 1\n"), std::string::npos);
}

TEST_F(PollerTest, ExpiredIntroductionsAreNotQueried) {
    ASSERT_EQ(service->introduce(intro(0)).status, 201);
    int calls = 0;
    StatusPoller p(*store, *service, clock, [&](const StatusQuery&) -> Result<std::string> { ++calls; return std::string("mapped"); },
                   {4, std::chrono::seconds(1), std::chrono::seconds(10), std::chrono::hours(1)});
    clock.advance(std::chrono::hours(25));
    EXPECT_EQ(*p.pollOnce(), 0);
    EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace tte::controller
