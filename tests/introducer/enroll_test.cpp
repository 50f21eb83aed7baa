// The introducer's flows (enroll.h, box.h) over fakes of the MotherShip and the Controller:
// enrolling, the draft 4 warning with the status, message 6 sent, queued or refused, the
// command line's words, and a box enrolled, stopped half way and resumed.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/introducer/box.h"
#include "tte/introducer/enroll.h"

namespace tte::introducer {
namespace {

const std::string kFp(64, 'c');

/// A MotherShip that knows devices by Dev ID; each map() answers as `answers` says.
class FakeMotherShip final : public MotherShipApi {
public:
    Result<protocol::MappingResponse> map(const protocol::EnrollmentUrl& url, const ControllerTarget& controller) override {
        ++maps;
        lastController = controller.ip;
        if (auto it = failures.find(url.devId.value); it != failures.end()) return std::unexpected(it->second);
        if (mapped.contains(url.devId.value) || preEnrolled.contains(url.devId.value))
            return fail(Errc::conflict, "the OTP was already used");
        mapped.insert(url.devId.value);
        return protocol::MappingResponse{*protocol::makeDevUrn(32473, "t", url.devId), *protocol::parseFingerprint(kFp)};
    }
    Result<protocol::StatusResponse> status(const protocol::EnrollmentUrl& url) override {
        auto state = states.find(url.devId.value);
        protocol::StatusResponse out{*protocol::makeDevUrn(32473, "t", url.devId), *protocol::parseFingerprint(kFp),
                                     state == states.end() ? protocol::EnrollmentState::registered : state->second,
                                     std::nullopt};
        if (auto p = preEnrolled.find(url.devId.value); p != preEnrolled.end()) {
            out.state = protocol::EnrollmentState::preEnrolled;
            out.preEnrolledTo = p->second;
        }
        return out;
    }
    std::set<std::uint32_t> mapped;
    std::map<std::uint32_t, protocol::Fingerprint> preEnrolled;  ///< devid → the Controller its station mapped it to
    std::map<std::uint32_t, protocol::EnrollmentState> states;  ///< what status() says (default registered)
    std::map<std::uint32_t, Error> failures;
    int maps = 0;
    std::string lastController;
};

class FakeSender final : public IntroductionSender {
public:
    Status send(const NotifyTarget&, const protocol::Introduction& intro) override {
        if (failure) return std::unexpected(*failure);
        sent.push_back(intro.toJson());
        return {};
    }
    std::optional<Error> failure;
    std::vector<std::string> sent;
};

const protocol::EnrollmentUrl kUrl{protocol::MsId{1}, protocol::Otp(0x1122334455667788), protocol::DevId{0x100}};

ControllerTarget target() { return *controllerTargetOf("192.0.2.9:5685", kFp, "hall"); }

TEST(Enroll, APreEnrolledDeviceIsNoUsedOtp) {
    FakeMotherShip ms;
    FakeSender sender;
    const auto cfp = *protocol::parseFingerprint(std::string(64, 'c'));
    ms.preEnrolled[kUrl.devId.value] = cfp;
    auto plan = introducePlanOf("https://192.0.2.9:8444/tte/v1/introductions", nullptr, false, target().fingerprint);
    auto r = enroll(kUrl, target(), *plan, ms, sender);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->alreadyUsed);  // no draft 4 warning
    ASSERT_TRUE(r->preEnrolledTo);
    EXPECT_EQ(*r->preEnrolledTo, cfp);
    EXPECT_TRUE(sender.sent.empty());  // its station introduced it
    // Without a Controller of one's own: only the status is asked.
    auto st = checkPreEnrolled(ms, kUrl);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(st->preEnrolledTo, cfp);
    ms.preEnrolled.clear();
    ms.states[kUrl.devId.value] = protocol::EnrollmentState::notMapped;
    EXPECT_EQ(checkPreEnrolled(ms, kUrl).error().message,
              "the device is not pre-enrolled (its state is not-mapped): give --controller and --controller-fingerprint to "
              "enroll it");
    EXPECT_EQ(controllerTargetOf("192.0.2.9:5685", kFp, "", "data:text/html,x").error().message,
              "--controller-web: must be an http:// or https:// URL");
    EXPECT_EQ(controllerTargetOf("192.0.2.9:5685", kFp, "", "https://192.0.2.9:8444/")->web, "https://192.0.2.9:8444/");
}

TEST(Enroll, MapsAndIntroduces) {
    FakeMotherShip ms;
    FakeSender sender;
    auto plan = introducePlanOf("https://192.0.2.9:8444/tte/v1/introductions", nullptr, false, target().fingerprint);
    ASSERT_TRUE(plan);
    auto r = enroll(kUrl, target(), *plan, ms, sender);
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_FALSE(r->alreadyUsed);
    EXPECT_EQ(r->mapped->urn.devId(), kUrl.devId);
    EXPECT_TRUE(r->introduction.sent);
    ASSERT_EQ(sender.sent.size(), 1u);
    auto intro = protocol::Introduction::fromJson(sender.sent[0]);
    ASSERT_TRUE(intro) << intro.error().message;
    EXPECT_EQ(intro->otp, kUrl.otp);
    EXPECT_EQ(intro->description, "hall");
    EXPECT_EQ(ms.lastController, "192.0.2.9");
}

TEST(Enroll, ANotFoundOfARevokedDeviceSaysRevoked) {
    FakeMotherShip ms;
    FakeSender sender;
    ms.failures.emplace(0x100, Error{Errc::notFound, "the MotherShip knows no device with this Dev ID and OTP", {}, 0, {}});
    ms.states.emplace(0x100, protocol::EnrollmentState::revoked);
    auto revoked = enroll(kUrl, target(), {}, ms, sender);
    ASSERT_FALSE(revoked);
    EXPECT_EQ(revoked.error().code, Errc::permissionDenied);
    EXPECT_EQ(revoked.error().message, "the MotherShip refused: the device is revoked");
    ms.states.erase(0x100);  // the status says something else: the 404 stands
    auto unknown = enroll(kUrl, target(), {}, ms, sender);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, Errc::notFound);
    EXPECT_TRUE(sender.sent.empty());
}

TEST(Enroll, AnUsedOtpIsNoErrorButAWarningWithTheStatus) {
    FakeMotherShip ms;
    FakeSender sender;
    ms.mapped.insert(0x100);
    auto r = enroll(kUrl, target(), {}, ms, sender);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->alreadyUsed);
    ASSERT_TRUE(r->status);
    EXPECT_EQ(r->status->state, protocol::EnrollmentState::registered);
    EXPECT_TRUE(sender.sent.empty());
    ms.failures.emplace(0x100, Error{Errc::notFound, "no device", {}, 0, {}});
    EXPECT_EQ(enroll(kUrl, target(), {}, ms, sender).error().code, Errc::notFound);
}

TEST(Enroll, AnIntroductionThatWasNotDeliveredIsQueuedWhateverTheReason) {
    test::TempDir dir;
    IntroductionQueue queue(dir.path() / "queue");
    FakeMotherShip ms;
    FakeSender sender;
    sender.failure = Error{Errc::unavailable, "no route", {}, 0, {}};
    auto plan = introducePlanOf("https://192.0.2.9:8444/tte/v1/introductions", &queue, false, target().fingerprint);
    const protocol::Introduction intro{*protocol::makeDevUrn(32473, "t", kUrl.devId), *protocol::parseFingerprint(kFp),
                                       kUrl.otp, kUrl.devId, kUrl.ms, ""};
    auto o = introduce(*plan, intro, sender);
    EXPECT_FALSE(o.sent);
    EXPECT_EQ(o.sendError->message, "no route");
    EXPECT_TRUE(o.queued);
    EXPECT_EQ(o.queuedFile, queue.dir() / (protocol::msHostName(kUrl.ms) + "-" + kUrl.devId.hex() + ".json"));
    EXPECT_EQ(queue.entries()->size(), 1u);
    // Refused for good (409) is kept as well: the OTP is spent, the data must survive.
    sender.failure = Error{Errc::conflict, "introduced with another key", {}, 0, {}};
    o = introduce(*plan, intro, sender);
    EXPECT_TRUE(o.queued);
    EXPECT_EQ(o.sendError->code, Errc::conflict);
    EXPECT_EQ(queue.entries()->size(), 1u) << "one file per device";
    plan->later = true;  // queued without trying
    sender.failure.reset();
    o = introduce(*plan, intro, sender);
    EXPECT_TRUE(o.queued);
    EXPECT_FALSE(o.sendError);
    EXPECT_TRUE(sender.sent.empty());
    EXPECT_EQ(queue.entries()->size(), 1u);
}

TEST(Enroll, CommandLineWordsAreChecked) {
    EXPECT_EQ(controllerTargetOf("192.0.2.9:5685", "abc", "").error().message,
              "--controller-fingerprint: fingerprint: expected 64 hex digits, got 3");
    EXPECT_EQ(controllerTargetOf("ctl:5685", kFp, "").error().message, "controller address 'ctl' is not an IPv4 or IPv6 address");
    const auto fp = *protocol::parseFingerprint(kFp);
    EXPECT_EQ(introducePlanOf("", nullptr, true, fp).error().message, "--later needs --notify URL");
    EXPECT_EQ(introducePlanOf("http://x", nullptr, false, fp).error().message, "--notify must be an https:// URL");
    EXPECT_EQ(introducePlanOf("https://x", nullptr, true, fp).error().message, "--later needs a queue");
    const std::string oneSource = "give exactly one of --qr-image, --url, --url-file, --led-video, --led-capture";
    LabelSource capture;
    capture.ledCapture = "capture.txt";
    LabelSource video;
    video.ledVideo = "led.mp4";
    EXPECT_EQ(labelText(capture).error().message, oneSource);  // an LED holds no label text
    EXPECT_EQ(labelText(video).error().message, oneSource);
    LabelSource two;
    two.url = "u";
    two.urlFile = "f";
    EXPECT_EQ(enrollmentUrlFrom(two).error().message, oneSource);
    two = video;
    two.url = "u";
    EXPECT_EQ(enrollmentUrlFrom(two).error().message, oneSource);
    two = video;
    two.ledCapture = "capture.txt";
    EXPECT_EQ(enrollmentUrlFrom(two).error().message, oneSource);
    LabelSource good;
    good.url = protocol::buildEnrollmentUrl(kUrl);
    auto url = enrollmentUrlFrom(good);
    ASSERT_TRUE(url) << url.error().message;
    EXPECT_EQ(url->otp, kUrl.otp);
}

TEST(EnrollBox, EnrollsEachDeviceAndResumesWhereItStopped) {
    test::TempDir dir;
    const std::uint8_t lotKey[32] = {7};
    const protocol::BoxUrl box{protocol::MsId{1}, protocol::deriveBoxSecret(lotKey, 3), protocol::DevId{0x200},
                               protocol::DevId{0x203}};
    FakeMotherShip ms;
    FakeSender sender;
    ms.failures.emplace(0x202, Error{Errc::unavailable, "MotherShip down", {}, 0, {}});
    // A revoked device's mapping is answered 404, like an unknown one (PROTOCOL §6); its status says revoked.
    ms.failures.emplace(0x203, Error{Errc::notFound, "the MotherShip knows no device with this Dev ID and OTP", {}, 0, {}});
    ms.states.emplace(0x203, protocol::EnrollmentState::revoked);
    const BoxOptions options{target(), dir.path() / "box.json", {}};
    std::vector<std::size_t> progress;
    auto first = enrollBox(box, options, ms, sender, [&](std::size_t i, std::size_t n, const BoxDeviceResult&) {
        progress.push_back(i * 10 + n);
    });
    ASSERT_TRUE(first) << first.error().toString();
    ASSERT_EQ(first->size(), 4u);
    EXPECT_EQ((*first)[0].outcome, "mapped");
    EXPECT_EQ((*first)[2].outcome, "failed");
    EXPECT_EQ((*first)[3].outcome, "revoked");
    EXPECT_EQ((*first)[3].message, "the MotherShip refused: the device is revoked");
    EXPECT_EQ(progress, (std::vector<std::size_t>{14, 24, 34, 44}));
    ms.failures.erase(0x202);
    const int before = ms.maps;
    auto again = enrollBox(box, options, ms, sender);
    ASSERT_TRUE(again);
    EXPECT_EQ(ms.maps, before + 1);  // only the failed one is tried again
    EXPECT_TRUE((*again)[0].skipped);
    EXPECT_EQ((*again)[2].outcome, "mapped");
    // The OTPs are the box's: each device's derived from the box secret (docs/PROTOCOL.md §4).
    const protocol::BoxUrl other{protocol::MsId{1}, protocol::deriveBoxSecret(lotKey, 4), protocol::DevId{0x200},
                                 protocol::DevId{0x203}};
    EXPECT_EQ(enrollBox(other, options, ms, sender).error().code, Errc::conflict);  // another box's state file
}

}  // namespace
}  // namespace tte::introducer
