// The whole draft flow with real processes on loopback (draft 2, messages 1-12): a record at
// the MotherShip through the station API, a label PNG with the Enrollment URL as QR code,
// tte-introducer enroll --qr-image (msg 3-5) with the introduction to the Controller (msg 6),
// the Controller's status query (msg 7/8), tte-device fetching its controller over DTLS
// (msg 9/10), storing it and checking in (msg 11/12), and a reboot that talks only to the
// Controller. An introduction to a Controller that is down, queued and flushed later; a
// device that waits for its late introduction within one boot. Then the negative paths:
// wrong MotherShip fingerprint, device key not the recorded one, device never introduced
// (4.04, retried) told apart from a wrong device key (4.03, stops).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/device_image.h"
#include "support/sites.h"
#include "introducer/label_fixture.h"
#include "tte/base/hex.h"
#include "tte/client/https_client.h"
#include "tte/protocol/enrollment_url.h"

namespace tte {
namespace {

using nlohmann::json;

class EnrollmentRound : public ::testing::Test {
protected:
    void SetUp() override {
        controller = test::startController(site.dir.path(), "controller",
                                           {"--ms-cacert", site.pki.caCert, "--ms-connect-to", site.connectTo(),
                                            "--poll-interval", "1", "--poll-backoff", "1"});
    }

    test::TestDevice device(std::uint32_t devId, std::uint64_t otp, const std::string& msFingerprint) {
        return test::makeDeviceImage(site.dir.path(), devId, otp, "127.0.0.1", site.server->coapsPort(), msFingerprint);
    }

    test::RunResult enroll(std::uint32_t devId, std::uint64_t otp, bool notify, std::vector<std::string> env = {},
                           std::vector<std::string> extra = {}) {
        std::string why;
        auto label = site.dir.path() / ("label-" + std::to_string(devId) + ".png");
        auto url = protocol::buildEnrollmentUrl({protocol::MsId{1}, protocol::Otp(otp), protocol::DevId{devId}});
        EXPECT_TRUE(test::writeDeviceLabel(url, devId, label, test::LabelFormat::png, why)) << why;
        std::vector<std::string> a = {(test::binDir() / "tte-introducer").string(), "enroll", "--qr-image", label.string(),
                                      "--cacert", site.pki.caCert, "--connect-to", site.connectTo(), "--controller",
                                      controller.coaps, "--controller-fingerprint", controller.fingerprint};
        if (notify) a.insert(a.end(), {"--notify", controller.notifyUrl(), "--description", "hall 2"});
        a.insert(a.end(), extra.begin(), extra.end());
        return test::run(a, site.dir.path(), "introducer", std::chrono::seconds(60), std::move(env));
    }

    test::RunResult flush(std::vector<std::string> env, const std::string& name) {
        return test::run({(test::binDir() / "tte-introducer").string(), "flush"}, site.dir.path(), name,
                         std::chrono::seconds(60), std::move(env));
    }

    test::RunResult runDevice(const test::TestDevice& d, std::vector<std::string> extra = {}) {
        return runImage(d.image, std::move(extra));
    }

    test::RunResult runImage(const std::filesystem::path& image, std::vector<std::string> extra = {}) {
        std::vector<std::string> a = {(test::binDir() / "tte-device").string(), "run", "--flash", image.string(),
                                      "--timeout-ms", "4000", "--retry-base-ms", "200", "--retry-cap-ms", "1000",
                                      "--max-attempts", "4"};
        a.insert(a.end(), extra.begin(), extra.end());
        return test::run(a, site.dir.path(), "device", std::chrono::seconds(90));
    }

    json devices() {
        auto r = client::httpsRequest(client::HttpsOptions::pinned(controller.fingerprint, std::chrono::seconds(10)), "GET",
                                          "https://" + controller.https + "/tte/v1/devices");
        EXPECT_TRUE(r) << r.error().toString();
        return r ? json::parse(r->body)["devices"] : json::array();
    }

    std::string msState(std::uint32_t devId, std::uint64_t otp) {
        auto r = test::https(site.server->httpsPort(), site.pki.caCert,
                               {"GET", "/.well-known/tte/status?otp=" + toHex(otp, 16) + ",devid=" + toHex(devId, 8), "", "", "", "", ""});
        return r.status == 200 ? json::parse(r.body)["state"].get<std::string>() : "http " + std::to_string(r.status);
    }

    test::MotherShipSite site;
    test::ControllerProcess controller;
};

TEST_F(EnrollmentRound, LabelToControllerAndRebootSkipsTheMotherShip) {
    constexpr std::uint32_t dev = 0x100;
    constexpr std::uint64_t otp = 0x8badf00d12345678ULL;
    auto d = device(dev, otp, site.pki.dtlsFingerprint);
    site.upload({{dev, otp, d.fingerprint}});
    EXPECT_EQ(msState(dev, otp), "not-mapped");

    auto e = enroll(dev, otp, true);
    ASSERT_EQ(e.code, 0) << e.out << e.err;
    EXPECT_NE(e.out.find("introduced to the controller"), std::string::npos) << e.out << e.err;
    EXPECT_EQ(msState(dev, otp), "mapped");
    ASSERT_EQ(devices().size(), 1u);
    EXPECT_EQ(devices()[0]["state"], "introduced");
    // msg 7/8: the Controller asks the MotherShip about the device it has not heard from.
    EXPECT_TRUE(test::waitFor([&] { return devices()[0]["ms_state"] == "mapped"; }, std::chrono::seconds(20)))
        << devices().dump();

    auto first = runDevice(d);
    ASSERT_EQ(first.code, 0) << first.out << first.err;
    EXPECT_NE(first.out.find("boot 1: outcome=checked-in controller=" + controller.coaps + " controller-fingerprint=" +
                             controller.fingerprint + " from=mothership mothership-queries=1"),
              std::string::npos) << first.out;
    auto list = devices();
    EXPECT_EQ(list[0]["state"], "registered");
    EXPECT_FALSE(list[0]["last_seen"].is_null());
    EXPECT_EQ(msState(dev, otp), "registered");

    auto show = test::run({(test::binDir() / "tte-device").string(), "show", "--flash", d.image.string()}, site.dir.path(), "show");
    EXPECT_NE(show.out.find("controller: " + controller.coaps), std::string::npos) << show.out;

    // Reboots with the MotherShip gone: the device goes straight to its Controller.
    site.stop();
    auto reboot = runDevice(d, {"--reboot-loop", "2"});
    ASSERT_EQ(reboot.code, 0) << reboot.out << reboot.err;
    for (int boot : {1, 2}) {
        auto prefix = "boot " + std::to_string(boot) + ": ";
        EXPECT_NE(reboot.out.find(prefix + "controller-from-nvm"), std::string::npos) << reboot.out;
        EXPECT_NE(reboot.out.find(prefix + "outcome=checked-in"), std::string::npos) << reboot.out;
        EXPECT_NE(reboot.out.find("from=nvm mothership-queries=0"), std::string::npos) << reboot.out;
    }
    EXPECT_EQ(reboot.out.find("query-mothership"), std::string::npos) << reboot.out;
}

TEST_F(EnrollmentRound, IntroductionToAControllerThatIsDownIsQueuedFlushedAndTheDeviceChecksIn) {
    constexpr std::uint32_t dev = 0x120;
    constexpr std::uint64_t otp = 0x0ddba11cafe5eed5ULL;
    auto d = device(dev, otp, site.pki.dtlsFingerprint);
    site.upload({{dev, otp, d.fingerprint}});
    const test::ControllerProcess where = {nullptr, controller.https, controller.coaps, controller.fingerprint};
    controller.proc.reset();  // the Controller is down while the installer enrolls the device

    // No --queue: the default place, $XDG_STATE_HOME/tte/introductions.
    const std::vector<std::string> env = {"XDG_STATE_HOME=" + (site.dir.path() / "xdg").string()};
    const auto queued = site.dir.path() / "xdg" / "tte" / "introductions" / "tte-000001.net-00000120.json";
    auto e = enroll(dev, otp, true, env);
    EXPECT_EQ(e.code, 4) << "incomplete\n" << e.out << e.err;
    EXPECT_NE(e.err.find("introduction not sent: POST " + where.notifyUrl()), std::string::npos) << e.err;
    EXPECT_NE(e.out.find("introduction queued in " + queued.string() + " (send it with: tte-introducer flush)"),
              std::string::npos) << e.out;
    EXPECT_EQ(msState(dev, otp), "mapped") << "the OTP is spent";
    ASSERT_TRUE(std::filesystem::exists(queued));
    EXPECT_EQ(std::filesystem::status(queued).permissions(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    EXPECT_EQ(std::filesystem::status(queued.parent_path()).permissions(), std::filesystem::perms::owner_all);
    EXPECT_EQ((e.out + e.err).find(toHex(otp, 16)), std::string::npos) << "the OTP is never printed";

    auto down = flush(env, "flush-down");
    EXPECT_EQ(down.code, 4) << down.out << down.err;
    EXPECT_NE(down.out.find("kept      tte-000001.net-00000120.json urn:dev:ops:"), std::string::npos) << down.out;
    EXPECT_TRUE(std::filesystem::exists(queued));

    controller = test::startController(site.dir.path(), "controller",
                                       {"--ms-cacert", site.pki.caCert, "--ms-connect-to", site.connectTo()}, "", &where);
    ASSERT_EQ(controller.fingerprint, where.fingerprint);
    auto up = flush(env, "flush-up");
    EXPECT_EQ(up.code, 0) << up.out << up.err;
    EXPECT_NE(up.out.find("sent      tte-000001.net-00000120.json urn:dev:ops:"), std::string::npos) << up.out;
    EXPECT_NE(up.out.find("sent 1, still queued 0 in " + queued.parent_path().string()), std::string::npos) << up.out;
    EXPECT_FALSE(std::filesystem::exists(queued));
    auto again = flush(env, "flush-again");
    EXPECT_EQ(again.code, 0) << again.out << again.err;
    EXPECT_NE(again.out.find("sent 0, still queued 0"), std::string::npos) << again.out;
    ASSERT_EQ(devices().size(), 1u);
    EXPECT_EQ(devices()[0]["state"], "introduced");
    EXPECT_EQ(devices()[0]["description"], "hall 2");

    auto r = runDevice(d);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("outcome=checked-in controller=" + where.coaps), std::string::npos) << r.out;
    EXPECT_EQ(devices()[0]["state"], "registered");
}

TEST_F(EnrollmentRound, DeviceRefusesAMotherShipWithAnotherFingerprint) {
    constexpr std::uint32_t dev = 0x110;
    auto d = device(dev, 0x1111, std::string(64, 'e'));  // the block pins a key the MotherShip does not have
    site.upload({{dev, 0x1111, d.fingerprint}});
    ASSERT_EQ(enroll(dev, 0x1111, false).code, 0);
    auto r = runDevice(d);
    EXPECT_EQ(r.code, 3) << "tte-device: a boot that did not check in";
    EXPECT_NE(r.out.find("mothership-answer attempt=1 transport=peer-fingerprint-mismatch"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("outcome=gave-up"), std::string::npos) << r.out;
    EXPECT_EQ(msState(dev, 0x1111), "mapped") << "the device never got its controller";
}

TEST_F(EnrollmentRound, MotherShipRefusesADeviceKeyThatIsNotTheRecordedOne) {
    constexpr std::uint32_t dev = 0x111;
    auto d = device(dev, 0x2222, site.pki.dtlsFingerprint);
    site.upload({{dev, 0x2222, site.pki.otherFingerprint}});  // the record names another key
    ASSERT_EQ(enroll(dev, 0x2222, false).code, 0);
    auto r = runDevice(d);
    EXPECT_EQ(r.code, 3) << "tte-device: a boot that did not check in";
    EXPECT_NE(r.out.find("mothership-answer attempt=1 transport=answered code=4.03"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("outcome=mothership-forbidden"), std::string::npos) << r.out;
    EXPECT_EQ(msState(dev, 0x2222), "mapped");
}

TEST_F(EnrollmentRound, ControllerTellsNotIntroducedYetFromAWrongKey) {
    constexpr std::uint32_t dev = 0x112;
    auto d = device(dev, 0x3333, site.pki.dtlsFingerprint);
    site.upload({{dev, 0x3333, d.fingerprint}});
    ASSERT_EQ(enroll(dev, 0x3333, false).code, 0);  // mapped at the MotherShip, no message 6
    auto r = runDevice(d);  // --max-attempts 4: the device would wait for its introduction forever
    EXPECT_EQ(r.code, 3) << "tte-device: a boot that did not check in";
    EXPECT_NE(r.out.find("checkin-answer attempt=1 transport=answered code=4.04 detail=not-introduced-yet"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("checkin-answer attempt=4 transport=answered code=4.04"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("outcome=gave-up detail=not-introduced-yet"), std::string::npos) << r.out;
    EXPECT_EQ(devices().size(), 0u);
    EXPECT_EQ(msState(dev, 0x3333), "registered") << "the MotherShip did its part";

    // The Controller introduced to the URN with another key: a wrong key, the device stops at once.
    json intro = {{"urn", d.urn}, {"fingerprint", site.pki.otherFingerprint},
                  {"otp", toHex(0x3333, 16)}, {"devid", toHex(dev, 8)}, {"ms", "tte-000001.net"}};
    auto post = client::httpsRequest(client::HttpsOptions::pinned(controller.fingerprint, std::chrono::seconds(10)), "POST",
                                     controller.notifyUrl(), intro.dump(), "application/json");
    ASSERT_TRUE(post) << post.error().toString();
    ASSERT_EQ(post->status, 201) << post->body;
    auto wrong = runDevice(d);
    EXPECT_EQ(wrong.code, 3);
    EXPECT_NE(wrong.out.find("checkin-answer attempt=1 transport=answered code=4.03"), std::string::npos) << wrong.out;
    EXPECT_EQ(wrong.out.find("checkin-answer attempt=2"), std::string::npos) << wrong.out;
    EXPECT_NE(wrong.out.find("outcome=controller-forbidden"), std::string::npos) << wrong.out;
}

TEST_F(EnrollmentRound, DeviceStartedBeforeItsIntroductionRegistersOnceFlushDeliversIt) {
    constexpr std::uint32_t dev = 0x121;
    constexpr std::uint64_t otp = 0x5eed0f1a7e1e77e5ULL;
    auto d = device(dev, otp, site.pki.dtlsFingerprint);
    site.upload({{dev, otp, d.fingerprint}});
    const std::vector<std::string> env = {"XDG_STATE_HOME=" + (site.dir.path() / "xdg").string()};
    auto e = enroll(dev, otp, true, env, {"--later"});  // message 6 kept for later
    ASSERT_EQ(e.code, 0) << e.out << e.err;
    EXPECT_NE(e.out.find("introduction queued in "), std::string::npos) << e.out;

    // One boot, waiting as long as it takes (no --max-attempts), backoff 200 ms doubling to 1 s.
    test::Process boot({(test::binDir() / "tte-device").string(), "run", "--flash", d.image.string(), "--timeout-ms", "4000",
                        "--retry-base-ms", "200", "--retry-cap-ms", "1000"},
                       site.dir.path(), "device-waiting");
    ASSERT_TRUE(test::waitFor([&] { return boot.out().find("checkin-answer attempt=2 transport=answered code=4.04") != std::string::npos || boot.exited(); },
                              std::chrono::seconds(60)))
        << boot.out() << boot.err();
    ASSERT_FALSE(boot.exited()) << "the device must wait for its introduction\n" << boot.out() << boot.err();
    EXPECT_NE(boot.out().find("detail=not-introduced-yet"), std::string::npos) << boot.out();
    EXPECT_EQ(devices().size(), 0u);

    auto f = flush(env, "flush");
    ASSERT_EQ(f.code, 0) << f.out << f.err;
    EXPECT_NE(f.out.find("sent 1, still queued 0"), std::string::npos) << f.out;
    EXPECT_EQ(boot.wait(std::chrono::seconds(60)), 0) << boot.out() << boot.err();
    EXPECT_NE(boot.out().find("boot 1: outcome=checked-in controller=" + controller.coaps), std::string::npos) << boot.out();
    EXPECT_EQ(boot.out().find("boot 2:"), std::string::npos) << "no reboot";
    EXPECT_EQ(boot.out().find("query-mothership attempt=2"), std::string::npos) << "the MotherShip was asked once";
    ASSERT_EQ(devices().size(), 1u);
    EXPECT_EQ(devices()[0]["state"], "registered");
}

// PROTOCOL §11 (draft 5.3): a DTLS-PSK device. Its record carries the device–MotherShip PSK;
// the introducer sends a fresh device–Controller PSK with the mapping and, told the device uses
// DTLS-PSK, in message 6; the MotherShip hands it to the device inside their DTLS-PSK session;
// the device checks in with it, and reboots straight to the Controller.
TEST_F(EnrollmentRound, PskDeviceEnrollsAndChecksIn) {
    constexpr std::uint32_t dev = 0x130;
    constexpr std::uint64_t otp = 0x0badc0de5eed1234ULL;
    auto d = test::makePskDeviceImage(site.dir.path(), dev, otp, "127.0.0.1", site.server->coapsPort(),
                                      site.pki.dtlsFingerprint);
    site.uploadPsk(dev, otp, d.fingerprint, d.pskHex);
    EXPECT_EQ(msState(dev, otp), "not-mapped");
    EXPECT_EQ(site.sql("SELECT length(psk_wrapped) FROM devices WHERE devid = " + std::to_string(dev)), "120\n");
    EXPECT_EQ(site.sql("SELECT instr(psk_wrapped, '" + d.pskHex + "') FROM devices WHERE devid = " + std::to_string(dev)),
              "0\n") << "the PSK is kept wrapped";

    auto e = enroll(dev, otp, true);
    ASSERT_EQ(e.code, 0) << e.out << e.err;
    EXPECT_EQ(msState(dev, otp), "mapped");
    EXPECT_EQ(site.sql("SELECT length(cpsk_wrapped) FROM devices WHERE devid = " + std::to_string(dev)), "120\n");
    ASSERT_EQ(devices().size(), 1u);
    EXPECT_EQ(devices()[0]["fingerprint"], d.fingerprint);

    auto first = runImage(d.image);
    ASSERT_EQ(first.code, 0) << first.out << first.err;
    EXPECT_NE(first.out.find("boot 1: outcome=checked-in controller=" + controller.coaps), std::string::npos) << first.out;
    EXPECT_NE(first.out.find("from=mothership mothership-queries=1"), std::string::npos) << first.out;
    EXPECT_EQ(devices()[0]["state"], "registered");
    EXPECT_EQ(msState(dev, otp), "registered");
    for (const auto& text : {first.out, first.err, e.out, e.err}) {
        EXPECT_EQ(text.find(d.pskHex), std::string::npos) << "no PSK in any output";
    }

    site.stop();  // the reboot uses the Controller PSK from the device's NVM only
    auto reboot = runImage(d.image);
    ASSERT_EQ(reboot.code, 0) << reboot.out << reboot.err;
    EXPECT_NE(reboot.out.find("from=nvm mothership-queries=0"), std::string::npos) << reboot.out;
    EXPECT_NE(reboot.out.find("outcome=checked-in"), std::string::npos) << reboot.out;
}

// A wrong PSK fails the DTLS handshake: the MotherShip never answers a device whose block holds
// another PSK than its record, and the Controller never takes a check-in with another PSK than
// the one introduced. Neither is told apart from a lost datagram (there is no CoAP answer).
TEST_F(EnrollmentRound, AWrongPskIsRefusedByTheMotherShipAndTheController) {
    constexpr std::uint32_t dev = 0x131;
    constexpr std::uint64_t otp = 0x1234abcd5678ef90ULL;
    auto d = test::makePskDeviceImage(site.dir.path(), dev, otp, "127.0.0.1", site.server->coapsPort(),
                                      site.pki.dtlsFingerprint);
    // The record names another PSK than the block holds.
    std::filesystem::create_directories(site.dir.path() / "other");
    auto other = test::makePskDeviceImage(site.dir.path() / "other", dev, otp, "127.0.0.1", 1, site.pki.dtlsFingerprint);
    site.uploadPsk(dev, otp, other.fingerprint, other.pskHex);
    ASSERT_EQ(enroll(dev, otp, true).code, 0);
    auto refused = runImage(d.image);
    EXPECT_EQ(refused.code, 3) << refused.out << refused.err;
    EXPECT_NE(refused.out.find("mothership-answer attempt=1 transport=no-answer"), std::string::npos) << refused.out;
    EXPECT_NE(refused.out.find("outcome=gave-up"), std::string::npos) << refused.out;
    EXPECT_EQ(msState(dev, otp), "mapped") << "no 2.05 went to the wrong key";

    // The right device (its block's PSK is the recorded one), but the Controller was given
    // another device–Controller PSK for it since: its check-in handshake fails.
    constexpr std::uint32_t dev2 = 0x132;
    constexpr std::uint64_t otp2 = 0x99aa88bb77cc66ddULL;
    auto d2 = test::makePskDeviceImage(site.dir.path(), dev2, otp2, "127.0.0.1", site.server->coapsPort(),
                                       site.pki.dtlsFingerprint);
    site.uploadPsk(dev2, otp2, d2.fingerprint, d2.pskHex);
    ASSERT_EQ(enroll(dev2, otp2, true).code, 0);
    json intro = {{"urn", d2.urn}, {"fingerprint", d2.fingerprint}, {"otp", toHex(otp2, 16)}, {"devid", toHex(dev2, 8)},
                  {"ms", "tte-000001.net"}, {"psk", std::string(63, '0') + "1"}};
    auto post = client::httpsRequest(client::HttpsOptions::pinned(controller.fingerprint, std::chrono::seconds(10)), "POST",
                                     controller.notifyUrl(), intro.dump(), "application/json");
    ASSERT_TRUE(post) << post.error().toString();
    ASSERT_EQ(post->status, 201) << post->body;
    auto wrong = runImage(d2.image);
    EXPECT_EQ(wrong.code, 3) << wrong.out << wrong.err;
    EXPECT_NE(wrong.out.find("checkin-answer attempt=1 transport=no-answer"), std::string::npos) << wrong.out;
    EXPECT_EQ(msState(dev2, otp2), "registered") << "the MotherShip did its part";
    auto list = devices();
    ASSERT_EQ(list.size(), 2u);
    for (const auto& dv : list) EXPECT_EQ(dv["state"], "introduced") << dv;
}

TEST_F(EnrollmentRound, MsAddressOverrideReachesTheMotherShipForTests) {
    constexpr std::uint32_t dev = 0x113;
    // The block names a port where nothing listens; the clearly labelled test flag redirects.
    auto d = test::makeDeviceImage(site.dir.path(), dev, 0x4444, "127.0.0.1", 9, site.pki.dtlsFingerprint);
    site.upload({{dev, 0x4444, d.fingerprint}});
    ASSERT_EQ(enroll(dev, 0x4444, true).code, 0);
    auto r = runDevice(d, {"--ms-address", "127.0.0.1:" + std::to_string(site.server->coapsPort())});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("TEST OVERRIDE: MotherShip 127.0.0.1:9 is reached at 127.0.0.1:"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tte
