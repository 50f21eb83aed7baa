// The libcoap DTLS transport against a real libcoap DTLS server (the Controller's), with
// the server key pinned: the right pin gets an answer, a wrong pin is refused at the handshake.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/device_image.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/base/clock.h"
#include "tte/controller/identity.h"
#include "tte/controller/servers.h"
#include "tte/controller/service.h"
#include "tte/device_host/coap_transport.h"
#include "tte/device_host/flash_image.h"
#include "tte/protocol/controller_messages.h"

namespace tte::devicehost {
namespace {

class TransportTest : public ::testing::Test {
protected:
    void SetUp() override {
        id = std::move(*controller::loadOrCreateIdentity(dir.path() / "ctl"));
        store = std::move(*controller::DeviceStore::open(":memory:"));
        service = std::make_unique<controller::ControllerService>(*store, clock, controller::ServiceOptions{});
        auto identity = server::certifiedKeyFromPem(id.certPem, id.keyPem);
        ASSERT_TRUE(identity) << identity.error().toString();
        auto s = controller::makeCoapServer(*service, std::move(*identity), {"127.0.0.1", 0});
        ASSERT_TRUE(s) << s.error().toString();
        coap = std::move(*s);
        coap->start();
        port = coap->port();
        dev = test::makeDeviceImage(dir.path(), 0xabcdef01, 0x1122334455667788, "127.0.0.1", 1, std::string(64, 'c'));
        image = std::make_unique<FlashImage>(std::move(*FlashImage::open(dev.image)));
        block = *protocol::parseBlock(image->block());
    }
    void TearDown() override { protocol::wipeBlock(block); }

    device::TransportResult checkin(const device::Fingerprint& pin) {
        CoapTransport transport({std::chrono::milliseconds(5000), {}, {}});
        device::Credentials self{std::span<const std::uint8_t, 32>(block.privateKey, 32),
                                 std::span<const std::uint8_t>(block.cert, block.certLength)};
        auto body = protocol::Checkin{*protocol::parseDevUrn(dev.urn)}.toCbor();
        device::Endpoint ep{"127.0.0.1", port};
        buffer.size = 0;
        return transport.post(self, ep, pin, device::kCheckinPath, device::kContentFormatCbor, body, buffer);
    }

    device::Fingerprint pinOf(const std::string& hex) {
        device::Fingerprint fp{};
        auto bytes = fromHex(hex, "fp");
        std::copy(bytes->begin(), bytes->end(), fp.begin());
        return fp;
    }

    test::TempDir dir;
    ManualClock clock;
    controller::Identity id;
    std::unique_ptr<controller::DeviceStore> store;
    std::unique_ptr<controller::ControllerService> service;
    std::unique_ptr<server::CoapServer> coap;
    std::uint16_t port = 0;
    test::TestDevice dev;
    std::unique_ptr<FlashImage> image;
    protocol::ProvisioningBlock block;
    std::array<std::uint8_t, 256> storage{};
    device::Buffer buffer{storage, 0};
};

TEST_F(TransportTest, PinnedServerAnswers) {
    auto r = checkin(pinOf(id.fingerprint));
    EXPECT_EQ(r.status, device::TransportStatus::answered);
    EXPECT_EQ(r.code, device::kCoapNotFound);  // not introduced yet
    EXPECT_EQ(std::string(reinterpret_cast<char*>(storage.data()), buffer.size),
              "not introduced yet: no introduction for this device key");
    nlohmann::json intro = {{"urn", dev.urn}, {"fingerprint", dev.fingerprint}, {"otp", "1122334455667788"},
                            {"devid", "abcdef01"}, {"ms", "tte-000001.net"}};
    ASSERT_EQ(service->introduce(intro.dump()).status, 201);
    auto ok = checkin(pinOf(id.fingerprint));
    EXPECT_EQ(ok.status, device::TransportStatus::answered);
    EXPECT_EQ(ok.code, device::kCoapChanged);
}

TEST_F(TransportTest, WrongPinIsRefusedAtTheHandshake) {
    auto r = checkin(pinOf(std::string(64, '0')));
    EXPECT_EQ(r.status, device::TransportStatus::peerMismatch);
    EXPECT_NE(service->metrics().find("tte_controller_checkins_refused_total 0\n"), std::string::npos)
        << "the request never reached the controller";
}

TEST_F(TransportTest, NobodyListeningIsNoAnswer) {
    coap->stop();
    CoapTransport transport({std::chrono::milliseconds(1500), {}, {}});
    device::Credentials self{std::span<const std::uint8_t, 32>(block.privateKey, 32),
                             std::span<const std::uint8_t>(block.cert, block.certLength)};
    std::uint8_t payload[1] = {0};
    auto r = transport.post(self, {"127.0.0.1", port}, pinOf(id.fingerprint), device::kCheckinPath, device::kContentFormatCbor,
                            payload, buffer);
    EXPECT_EQ(r.status, device::TransportStatus::noAnswer);
}

}  // namespace
}  // namespace tte::devicehost
