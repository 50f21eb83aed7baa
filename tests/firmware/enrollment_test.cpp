// The enrollment state machine (draft 2 messages 9-12, docs/PROTOCOL.md §7-§9) over fake
// transport, NVM, clock and random: the flow, the retry rules and bounds, the stops, the
// power cut at every byte of the controller write, and the second boot.
#include "tte/device/enrollment.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/fakes/device.h"
#include "tte/device/backoff.h"
#include "tte/device/controller_log.h"

namespace tte::device {
namespace {

const std::string kControllerFp = "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf";
const std::string kUrn = "urn:dev:ops:32473-Sensor.v1-00000000abcdef01";

test::Reply mapped() {
    return {TransportStatus::answered, kCoapContent,
            nlohmann::json::to_cbor(nlohmann::json{{"cip", "192.0.2.50"}, {"cport", 5690}, {"cfingerprint", kControllerFp}}),
            kContentFormatCbor};
}
test::Reply code(std::uint8_t c) { return {TransportStatus::answered, c, {}, kNoContentFormat}; }
test::Reply silence() { return {TransportStatus::noAnswer, 0, {}, kNoContentFormat}; }

struct Device {
    test::ManualClock clock;
    test::ScriptedRandom random;
    test::ScriptedTransport transport{clock};
    test::FakeNvm nvm;
    std::array<std::uint8_t, protocol::kBlockSize> block = test::encode(test::sampleBlock());
    EnrollmentConfig config{{100, 1000, 0}, {50, 400, 0}};

    EnrollmentResult boot() {
        Enrollment enrollment({transport, nvm, clock, random, nullptr}, config);
        return enrollment.run(block);
    }
};

TEST(Enrollment, FirstBootAsksTheMotherShipStoresAndChecksIn) {
    Device d;
    d.transport.getReplies = {code(kCoapNotFound), silence(), mapped()};
    d.transport.postReplies = {code(kCoapChanged)};
    const EnrollmentResult r = d.boot();
    EXPECT_STREQ(outcomeName(r.outcome), "checked-in");
    EXPECT_FALSE(r.controllerFromNvm);
    EXPECT_EQ(r.motherShipQueries, 3u);
    EXPECT_EQ(r.checkinAttempts, 1u);
    ASSERT_EQ(d.transport.requests.size(), 4u);
    const auto& get = d.transport.requests[0];
    EXPECT_FALSE(get.post);
    EXPECT_EQ(get.host, "127.0.0.1");
    EXPECT_EQ(get.port, 5684);
    EXPECT_EQ(get.path, "/.well-known/tte");
    EXPECT_EQ(get.query, "urn=" + kUrn);
    EXPECT_EQ(get.accept, kContentFormatCbor);
    EXPECT_EQ(get.pinned[0], 0xA0);
    EXPECT_EQ(get.pinned[31], 0xBF);
    EXPECT_EQ(get.certificateSize, 5u);
    const auto& post = d.transport.requests[3];
    EXPECT_TRUE(post.post);
    EXPECT_EQ(post.host, "192.0.2.50");
    EXPECT_EQ(post.port, 5690);
    EXPECT_EQ(post.path, "/tte/v1/checkin");
    EXPECT_EQ(post.contentFormat, kContentFormatCbor);
    EXPECT_EQ(post.pinned[0], 0xC0);
    EXPECT_EQ(nlohmann::json::from_cbor(post.payload), nlohmann::json({{"urn", kUrn}}));
    protocol::ControllerRecord stored;
    ASSERT_TRUE(loadController(d.nvm, stored));
    EXPECT_STREQ(stored.address, "192.0.2.50");
    EXPECT_EQ(stored.port, 5690);
    EXPECT_EQ(stored.sequence, 1u);
}

TEST(Enrollment, SecondBootSkipsTheMotherShip) {
    Device d;
    d.transport.getReplies = {mapped()};
    d.transport.postReplies = {code(kCoapChanged), code(kCoapChanged)};
    ASSERT_EQ(d.boot().outcome, Outcome::checkedIn);
    d.transport.requests.clear();
    const EnrollmentResult second = d.boot();
    EXPECT_EQ(second.outcome, Outcome::checkedIn);
    EXPECT_TRUE(second.controllerFromNvm);
    EXPECT_EQ(second.motherShipQueries, 0u);
    ASSERT_EQ(d.transport.requests.size(), 1u);
    EXPECT_TRUE(d.transport.requests[0].post);
    EXPECT_EQ(d.transport.requests[0].host, "192.0.2.50");
}

TEST(Enrollment, NotMappedRetriesWithCappedExponentialBackoff) {
    Device d;
    d.random.fallback = 0xFFFFFFFF;  // the top of every jitter range: the bound itself
    for (int i = 0; i < 8; ++i) {
        d.transport.getReplies.push_back(i % 2 == 0 ? code(kCoapNotFound) : silence());
    }
    d.transport.getReplies.push_back(mapped());
    d.transport.postReplies = {code(kCoapChanged)};
    ASSERT_EQ(d.boot().outcome, Outcome::checkedIn);
    // min(cap, base * 2^n) with base 100, cap 1000.
    const std::vector<std::uint64_t> expected = {100, 200, 400, 800, 1000, 1000, 1000, 1000};
    EXPECT_EQ(d.clock.sleeps, expected);
    // The requests went out at those times, so nothing else waited.
    EXPECT_EQ(d.transport.requests[8].atMs - d.transport.requests[0].atMs, 5500u);
}

TEST(Enrollment, JitterStaysWithinTheBounds) {
    Device d;
    d.random.values = {0, 0x80000000, 0x40000000, 0xFFFFFFFF, 12345};
    for (int i = 0; i < 5; ++i) d.transport.getReplies.push_back(code(kCoapNotFound));
    d.transport.getReplies.push_back(mapped());
    d.transport.postReplies = {code(kCoapChanged)};
    ASSERT_EQ(d.boot().outcome, Outcome::checkedIn);
    ASSERT_EQ(d.clock.sleeps.size(), 5u);
    EXPECT_EQ(d.clock.sleeps[0], 0u);
    EXPECT_EQ(d.clock.sleeps[1], 100u);   // half of 200
    EXPECT_EQ(d.clock.sleeps[2], 100u);   // a quarter of 400
    EXPECT_EQ(d.clock.sleeps[3], 800u);
    for (std::size_t n = 0; n < d.clock.sleeps.size(); ++n) {
        EXPECT_LE(d.clock.sleeps[n], backoffBoundMs(d.config.motherShip, static_cast<std::uint32_t>(n)));
    }
}

TEST(Enrollment, PeerMismatchAndOversizedAnswersAreRetried) {
    Device d;
    auto huge = mapped();
    huge.payload.resize(4096, 0);
    d.transport.getReplies = {{TransportStatus::peerMismatch, 0, {}, kNoContentFormat}, huge, mapped()};
    d.transport.postReplies = {code(kCoapChanged)};
    const EnrollmentResult r = d.boot();
    EXPECT_EQ(r.outcome, Outcome::checkedIn);
    EXPECT_EQ(r.motherShipQueries, 3u);
}

struct StepRecorder final : Observer {
    void onProgress(const Progress& p) override {
        steps += std::to_string(static_cast<int>(p.step)) + ":" + std::to_string(p.attempt) + " ";
        if (p.step == Step::badAnswer) details.push_back(p.detail);
    }
    std::string steps;
    std::vector<std::string> details;
};

TEST(Enrollment, ReportsEveryStep) {
    Device d;
    auto broken = mapped();
    broken.payload.push_back(0);
    d.transport.getReplies = {code(kCoapNotFound), broken, mapped()};
    d.transport.postReplies = {code(kCoapChanged)};
    StepRecorder recorder;
    Enrollment enrollment({d.transport, d.nvm, d.clock, d.random, &recorder}, d.config);
    ASSERT_EQ(enrollment.run(d.block).outcome, Outcome::checkedIn);
    // blockVerified, (query, answer, wait) x2, query, answer, stored, checkin, answer
    EXPECT_EQ(recorder.steps, "0:0 2:1 3:1 5:1 2:2 3:2 4:2 5:2 2:3 3:3 6:1 7:1 8:1 ");
    EXPECT_EQ(recorder.details, std::vector<std::string>{"trailing-bytes"});
}

TEST(Enrollment, ForbiddenStopsAtOnce) {
    Device d;
    d.transport.getReplies = {code(kCoapNotFound), code(kCoapForbidden), mapped()};
    const EnrollmentResult r = d.boot();
    EXPECT_STREQ(outcomeName(r.outcome), "mothership-forbidden");
    EXPECT_EQ(r.lastCode, kCoapForbidden);
    EXPECT_EQ(r.motherShipQueries, 2u);
    EXPECT_EQ(d.transport.requests.size(), 2u);
    EXPECT_EQ(d.nvm.programmed, 0u);
}

TEST(Enrollment, OtherClientErrorsStopToo) {
    Device d;
    d.transport.getReplies = {code(kCoapBadRequest)};
    EXPECT_EQ(d.boot().outcome, Outcome::motherShipRejected);
    Device e;
    e.transport.getReplies = {code(coapCode(5, 3)), code(kCoapNotAcceptable)};
    EXPECT_EQ(e.boot().outcome, Outcome::motherShipRejected);  // 5.03 was retried first
    EXPECT_EQ(e.transport.requests.size(), 2u);
}

TEST(Enrollment, GivesUpAfterMaxAttempts) {
    Device d;
    d.config.motherShip.maxAttempts = 4;
    const EnrollmentResult r = d.boot();  // the transport never answers
    EXPECT_STREQ(outcomeName(r.outcome), "gave-up");
    EXPECT_EQ(r.motherShipQueries, 4u);
    EXPECT_EQ(d.clock.sleeps.size(), 3u);
}

TEST(Enrollment, ABadAnswerIsRetried) {
    Device d;
    auto broken = mapped();
    broken.payload.pop_back();
    auto json = mapped();
    json.contentFormat = kContentFormatJson;
    d.transport.getReplies = {broken, json, mapped()};
    d.transport.postReplies = {code(kCoapChanged)};
    const EnrollmentResult r = d.boot();
    EXPECT_EQ(r.outcome, Outcome::checkedIn);
    EXPECT_EQ(r.motherShipQueries, 3u);
}

TEST(Enrollment, CheckinRetriesOnSilenceAndStopsOnForbidden) {
    Device d;
    d.transport.getReplies = {mapped()};
    d.transport.postReplies = {silence(), code(coapCode(5, 0)), code(kCoapForbidden)};
    const EnrollmentResult r = d.boot();
    EXPECT_STREQ(outcomeName(r.outcome), "controller-forbidden");
    EXPECT_EQ(r.checkinAttempts, 3u);
    EXPECT_EQ(d.clock.sleeps.size(), 2u);
    EXPECT_LE(d.clock.sleeps[0], 50u);
    EXPECT_LE(d.clock.sleeps[1], 100u);
}

/// Keeps the check-in answers' details as the console would show them.
struct CheckinDetails final : Observer {
    void onProgress(const Progress& p) override {
        if (p.step == Step::checkinAnswer) details.emplace_back(p.detail);
    }
    std::vector<std::string> details;
};

TEST(Enrollment, CheckinWaitsForALateIntroductionWithTheBackoffOfTheMotherShipQuery) {
    Device d;
    d.config.controller = d.config.motherShip;  // the firmware and tte-device use one policy for both
    d.transport.getReplies = {mapped()};
    d.transport.postReplies = {code(kCoapNotFound), code(kCoapNotFound), code(kCoapNotFound),
                               code(kCoapNotFound), code(kCoapNotFound), code(kCoapChanged)};
    CheckinDetails seen;
    Enrollment enrollment({d.transport, d.nvm, d.clock, d.random, &seen}, d.config);
    const EnrollmentResult r = enrollment.run(d.block);  // random 0xFFFFFFFF: each wait is its bound
    EXPECT_EQ(r.outcome, Outcome::checkedIn);
    EXPECT_STREQ(r.detail, "");
    EXPECT_EQ(r.checkinAttempts, 6u);
    EXPECT_EQ(d.clock.sleeps, (std::vector<std::uint64_t>{100, 200, 400, 800, 1000}));  // base 100, doubling, cap 1000
    for (std::uint32_t n = 0; n < 5; ++n) EXPECT_EQ(d.clock.sleeps[n], backoffBoundMs(d.config.motherShip, n));
    EXPECT_EQ(seen.details, (std::vector<std::string>{"not-introduced-yet", "not-introduced-yet", "not-introduced-yet",
                                                       "not-introduced-yet", "not-introduced-yet", ""}));
    EXPECT_EQ(d.transport.requests.size(), 7u) << "one MotherShip query, then only check-ins: no reboot";
}

TEST(Enrollment, AWrongKeyAfterNotYetStops) {
    Device d;
    d.transport.getReplies = {mapped()};
    d.transport.postReplies = {code(kCoapNotFound), code(kCoapNotFound), code(kCoapForbidden), code(kCoapChanged)};
    const EnrollmentResult r = d.boot();
    EXPECT_STREQ(outcomeName(r.outcome), "controller-forbidden");
    EXPECT_STREQ(r.detail, "");
    EXPECT_EQ(r.lastCode, kCoapForbidden);
    EXPECT_EQ(r.checkinAttempts, 3u);
    EXPECT_EQ(d.clock.sleeps.size(), 2u);
}

TEST(Enrollment, WaitingForTheIntroductionEndsWithMaxAttempts) {
    Device d;
    d.config.controller.maxAttempts = 3;
    d.transport.getReplies = {mapped()};
    d.transport.postReplies = {code(kCoapNotFound), code(kCoapNotFound), code(kCoapNotFound), code(kCoapChanged)};
    const EnrollmentResult r = d.boot();
    EXPECT_STREQ(outcomeName(r.outcome), "gave-up");
    EXPECT_STREQ(r.detail, "not-introduced-yet");
    EXPECT_EQ(r.lastCode, kCoapNotFound);
    EXPECT_EQ(r.checkinAttempts, 3u);
    EXPECT_EQ(d.clock.sleeps.size(), 2u);
}

TEST(Enrollment, BadBlockStopsBeforeAnyRequest) {
    Device d;
    d.block[100] ^= 0x01;
    EnrollmentResult r = d.boot();
    EXPECT_EQ(r.outcome, Outcome::blockInvalid);
    EXPECT_STREQ(protocol::blockErrorName(r.blockError), "crc");
    d.block.fill(0xFF);
    r = d.boot();
    EXPECT_STREQ(protocol::blockErrorName(r.blockError), "blank");
    EXPECT_TRUE(d.transport.requests.empty());
}

TEST(Enrollment, PowerCutAtEveryByteOfTheControllerWrite) {
    for (std::size_t cut = 0; cut <= protocol::kControllerRecordSize; ++cut) {
        Device d;
        d.nvm.powerCutAfter = cut;
        d.transport.getReplies = {mapped()};
        d.transport.postReplies = {code(kCoapChanged)};
        const EnrollmentResult first = d.boot();
        const bool complete = cut == protocol::kControllerRecordSize;
        EXPECT_EQ(first.outcome, complete ? Outcome::checkedIn : Outcome::nvmFailed) << "cut after " << cut;
        // Reboot: a torn record is ignored and the MotherShip is asked again; a complete one
        // takes the device straight to its Controller.
        d.transport.requests.clear();
        d.transport.getReplies = {mapped()};
        d.transport.postReplies = {code(kCoapChanged)};
        const EnrollmentResult second = d.boot();
        EXPECT_EQ(second.outcome, Outcome::checkedIn) << cut;
        EXPECT_EQ(second.controllerFromNvm, complete) << cut;
        EXPECT_EQ(second.motherShipQueries, complete ? 0u : 1u) << cut;
        EXPECT_STREQ(second.controller.address, "192.0.2.50");
        EXPECT_EQ(second.controller.port, 5690);
    }
}

}  // namespace
}  // namespace tte::device
