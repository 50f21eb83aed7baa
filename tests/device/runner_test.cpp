// tte-device's runner (runner.h) over the core's fakes: the lines it prints, two boots of a
// real flash image (the MotherShip's answer stored, then the Controller from NVM), the image
// shown without its secrets, and the exported credentials.
#include "tte/device_host/runner.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "support/device_image.h"
#include "support/fakes/device.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/protocol/mothership_messages.h"

namespace tte::devicehost {
namespace {

const std::string kMsFp(64, 'a');
const std::string kControllerFp(64, 'b');

std::vector<std::uint8_t> controllerAnswer() {
    return protocol::ControllerInfo{"192.0.2.50", 5690, *protocol::parseFingerprint(kControllerFp)}.toCbor();
}

TEST(Runner, LinesAreExact) {
    device::Progress p{device::Step::motherShipAnswer, 2, device::TransportStatus::answered, 0x84, 0, ""};
    EXPECT_EQ(progressLine(1, p), "boot 1: mothership-answer attempt=2 transport=answered code=4.04");
    p = {device::Step::retryWait, 2, device::TransportStatus::noAnswer, 0, 1500, ""};
    EXPECT_EQ(progressLine(3, p), "boot 3: retry-wait attempt=2 wait-ms=1500");
    EXPECT_EQ(coapCodeText(0x45), "2.05");
    EXPECT_EQ(coapCodeText(0xA0), "5.00");
    EXPECT_STREQ(transportName(device::TransportStatus::peerMismatch), "peer-fingerprint-mismatch");
}

TEST(Runner, BootsFromTheMotherShipThenFromNvm) {
    test::TempDir dir;
    const auto dev = test::makeDeviceImage(dir.path(), 0xabcdef01, 0x1122334455667788, "127.0.0.1", 5684, kMsFp);
    device::test::ManualClock clock;
    device::test::ScriptedRandom random;
    device::test::ScriptedTransport transport(clock);
    transport.getReplies.push_back({device::TransportStatus::answered, device::kCoapContent, controllerAnswer(),
                                    device::kContentFormatCbor});
    transport.postReplies.push_back({device::TransportStatus::answered, device::kCoapChanged, {}, device::kNoContentFormat});
    transport.postReplies.push_back({device::TransportStatus::answered, device::kCoapChanged, {}, device::kNoContentFormat});
    std::ostringstream out;
    auto r = runBoots({dev.image, 2000, 3600000, 0, 2}, transport, clock, random, out);
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->outcome, device::Outcome::checkedIn);
    EXPECT_TRUE(r->controllerFromNvm);
    const std::string text = out.str();
    EXPECT_NE(text.find("boot 1: outcome=checked-in controller=192.0.2.50:5690 controller-fingerprint=" + kControllerFp +
                        " from=mothership mothership-queries=1 checkin-attempts=1"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("boot 2: controller-from-nvm"), std::string::npos) << text;
    EXPECT_NE(text.find("boot 2: outcome=checked-in"), std::string::npos) << text;
    EXPECT_EQ(transport.requests[0].query, "urn=" + dev.urn);

    std::ostringstream shown;
    ASSERT_TRUE(showFlash(dev.image, shown));
    EXPECT_NE(shown.str().find("dev-id: abcdef01\ndev-urn: " + dev.urn + "\nms-address: 127.0.0.1:5684\nms-fingerprint: " +
                               kMsFp),
              std::string::npos)
        << shown.str();
    EXPECT_NE(shown.str().find("controller: 192.0.2.50:5690"), std::string::npos) << shown.str();
    EXPECT_EQ(shown.str().find("1122334455667788"), std::string::npos) << "the OTP is never shown";
    EXPECT_EQ(*blockMotherShip(dev.image), std::make_pair(std::string("127.0.0.1"), std::uint16_t{5684}));
}

TEST(Runner, ExportsTheCredentialsItPins) {
    test::TempDir dir;
    const auto dev = test::makeDeviceImage(dir.path(), 0x2a, 1, "127.0.0.1", 5684, kMsFp);
    ASSERT_TRUE(exportCredentials(dev.image, dir.path() / "out"));
    EXPECT_EQ(test::readText(dir.path() / "out" / "mothership.fingerprint"), kMsFp + "\n");
    EXPECT_EQ(test::readText(dir.path() / "out" / "device.crt.pem"), dev.certPem);
    EXPECT_EQ(protocol::fingerprintFromPem(test::readText(dir.path() / "out" / "device.key.pem"))->hex(), dev.fingerprint);
    const auto perms = std::filesystem::status(dir.path() / "out" / "device.key.pem").permissions();
    EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all), std::filesystem::perms::none);
    EXPECT_EQ(exportCredentials(dir.path() / "none.bin", dir.path() / "x").error().code, Errc::notFound);
}

}  // namespace
}  // namespace tte::devicehost
