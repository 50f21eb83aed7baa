// The flash image file as the core's NVM seam, and the key conversion from the block.
#include <gtest/gtest.h>

#include "support/device_image.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/device_host/credentials.h"
#include "tte/device_host/flash_image.h"

namespace tte::devicehost {
namespace {

TEST(FlashImage, BlockAndNorProgramming) {
    test::TempDir dir;
    auto dev = test::makeDeviceImage(dir.path(), 0xabcdef01, 0x1122334455667788, "127.0.0.1", 5684, std::string(64, 'c'));
    auto image = FlashImage::open(dev.image);
    ASSERT_TRUE(image) << image.error().toString();
    auto block = protocol::parseBlock(image->block());
    ASSERT_TRUE(block) << block.error().toString();
    EXPECT_EQ(block->devId, 0xabcdef01u);
    EXPECT_EQ(image->contents().size(), protocol::kNvmSize);
    EXPECT_EQ(image->contents()[0], 0xFF);
    std::uint8_t data[2] = {0x0F, 0xF0};
    EXPECT_EQ(image->program(0, data), device::NvmStatus::ok);
    std::uint8_t clash[1] = {0xF0};  // 0x0F & 0xF0 = 0x00 != 0xF0: NOR flash cannot set bits
    EXPECT_EQ(image->program(0, clash), device::NvmStatus::failed);
    EXPECT_EQ(image->program(protocol::kNvmSize - 1, data), device::NvmStatus::outOfRange);
    // The writes reached the file: a "reboot" reads them back.
    auto again = FlashImage::open(dev.image);
    EXPECT_EQ(again->contents()[0], 0x00);
    EXPECT_EQ(again->contents()[1], 0xF0);
    protocol::wipeBlock(*block);
}

TEST(FlashImage, RefusesWrongSizes) {
    test::TempDir dir;
    std::ofstream(dir.path() / "small.bin") << "abc";
    auto r = FlashImage::open(dir.path() / "small.bin");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, (dir.path() / "small.bin").string() + ": 3 bytes, expected a 1 MiB flash image");
    EXPECT_EQ(FlashImage::open(dir.path() / "none.bin").error().code, Errc::notFound);
}

TEST(Credentials, ScalarGivesTheCertificatesKey) {
    test::TempDir dir;
    auto dev = test::makeDeviceImage(dir.path(), 0x01, 0x02, "127.0.0.1", 5684, std::string(64, 'c'));
    auto image = FlashImage::open(dev.image);
    auto block = protocol::parseBlock(image->block());
    ASSERT_TRUE(block);
    auto pem = ecPrivateKeyPem(std::span<const std::uint8_t, 32>(block->privateKey, 32));
    ASSERT_TRUE(pem) << pem.error().toString();
    EXPECT_EQ(protocol::fingerprintFromPem(pem->view())->hex(), dev.fingerprint);
    std::uint8_t zero[32] = {};
    EXPECT_EQ(ecPrivateKeyDer(std::span<const std::uint8_t, 32>(zero, 32)).error().message,
              "device private key is not a valid P-256 scalar");
    protocol::wipeBlock(*block);
}

}  // namespace
}  // namespace tte::devicehost
