// The .dfu that the build packs with `tte-flash pack` (and that the station and the demo
// flash) holds exactly tte-firmware.bin at 0x08000000, and a device flashed from it boots.
#include <gtest/gtest.h>

#include "support/fakes/device.h"
#include "support/qemu.h"
#include "tte/flasher/dfu_file.h"

namespace tte::device {
namespace {

using namespace qemu;

TEST(FirmwareDfu, HoldsTheImageAtTheFlashStartAndBoots) {
    const auto bytes = flasher::readFileBytes(env("TTE_FIRMWARE_DFU"));
    ASSERT_TRUE(bytes.has_value()) << bytes.error().message;
    const auto file = flasher::parseDfuFile(*bytes);
    ASSERT_TRUE(file.has_value()) << file.error().message;
    ASSERT_EQ(file->targets.size(), 1u);
    EXPECT_EQ(file->targets[0].altSetting, 0);  // Internal Flash
    ASSERT_EQ(file->targets[0].elements.size(), 1u);
    const auto& element = file->targets[0].elements[0];
    EXPECT_EQ(element.address, 0x08000000u);
    EXPECT_EQ(element.bytes, firmwareBin());

    Image image(kFlashSize, 0xFF);
    std::copy(element.bytes.begin(), element.bytes.end(), image.begin());
    const auto block = test::encode(test::sampleBlock());
    std::copy(block.begin(), block.end(), image.begin() + kBlockOffset);
    const auto lines = bootUntilBootLine(image);
    EXPECT_EQ(lineStarting(lines, "TTE BOOT").rfind("TTE BOOT OK ms=tte-000001.net devid=abcdef01 ", 0), 0u)
        << lineStarting(lines, "TTE BOOT");
}

}  // namespace
}  // namespace tte::device
