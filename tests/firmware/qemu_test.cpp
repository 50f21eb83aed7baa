// The firmware image booted in QEMU's netduinoplus2 (STM32F405): a provisioned device prints
// its identity and blinks its LED frame at 15 bit/s (decoded here from the console mirror of
// the LED edges with the introducer's decoder); a stored controller is shown; a corrupted, a
// blank and a mis-filled block fail with the exact reason. QEMU runs with -icount sleep=off so
// the SysTick runs in virtual time and the ~12 s of one transmission take about a second;
// each run is killed as soon as its output is complete (at most 15 s).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "support/fakes/device.h"
#include "support/qemu.h"
#include "tte/base/clock.h"
#include "tte/flasher/flasher.h"
#include "tte/flasher/stm32_sim.h"
#include "tte/protocol/freestanding/controller_record.h"
#include "tte/protocol/freestanding/crc32.h"
#include "tte/protocol/led.h"

namespace tte::device {
namespace {

using namespace qemu;

std::uint64_t timeOf(const std::string& line) { return std::stoull(line.substr(line.find("t=") + 2)); }

/// Done when two gaps were seen and the first edge after the second one: a whole
/// transmission (gap + frame) and the following gap are then on record.
bool transmissionComplete(const std::vector<std::string>& lines) {
    int gaps = 0;
    for (const auto& l : lines) {
        if (l.rfind("LED GAP", 0) == 0) ++gaps;
        else if (gaps >= 2 && l.rfind("LED ", 0) == 0) return true;
    }
    return false;
}

TEST(FirmwareQemu, ProvisionedDevicePrintsItsIdentityAndBlinksItsFrame) {
    const auto blockData = test::sampleBlock();
    const auto block = test::encode(blockData);
    const auto lines = boot(flashImage(&block), transmissionComplete);
    ASSERT_GE(lines.size(), 3u);
    EXPECT_EQ(lines[0],
              "TTE BOOT OK ms=tte-000001.net devid=abcdef01 urn=urn:dev:ops:32473-Sensor.v1-00000000abcdef01 "
              "msfp=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
    EXPECT_EQ(lines[1], "TTE CONTROLLER none");
    // The LED level of every millisecond from the first gap to the first edge after the second.
    std::vector<float> trace;
    std::uint64_t start = 0;
    bool on = false;
    int gaps = 0;
    std::vector<std::uint64_t> edgeTimes;
    for (const auto& l : lines) {
        if (l.rfind("LED ", 0) != 0) continue;
        const std::uint64_t t = timeOf(l);
        if (gaps == 0 && l.rfind("LED GAP", 0) == 0) {
            start = t;
            gaps = 1;
            continue;
        }
        if (gaps == 0) continue;
        ASSERT_GE(t, start + trace.size()) << l;
        trace.resize(t - start, on ? 0.9f : 0.1f);
        if (l.rfind("LED GAP", 0) == 0) {
            ++gaps;
            EXPECT_FALSE(on) << "the LED is off in the gap";
        } else {
            on = l == "LED 1 t=" + std::to_string(t);
            edgeTimes.push_back(t - start);
        }
    }
    // 15 bit/s on the tick: every edge lies on a bit boundary floor(i * 1000 / 15).
    for (const std::uint64_t t : edgeTimes) {
        const std::uint64_t bit = (t * 15 + 14) / 1000;
        EXPECT_EQ(t, bit * 1000 / 15) << "edge at +" << t << " ms is not on a 15 bit/s boundary";
    }
    const auto frame = protocol::decodeLedTrace(trace, 1000.0);
    ASSERT_TRUE(frame.has_value()) << frame.error().message;
    EXPECT_EQ(frame->msId, blockData.msId);
    EXPECT_EQ(frame->devId, blockData.devId);
    EXPECT_EQ(frame->otp, blockData.otp);
}

TEST(FirmwareQemu, ShowsTheNewestStoredController) {
    const auto block = test::encode(test::sampleBlock());
    Image image = flashImage(&block);
    for (std::uint32_t seq = 1; seq <= 2; ++seq) {
        protocol::ControllerRecord r;
        r.sequence = seq;
        r.port = static_cast<std::uint16_t>(5683 + seq);
        std::strcpy(r.address, seq == 1 ? "192.0.2.1" : "2001:db8::2");
        std::memset(r.fingerprint, static_cast<int>(0x10 * seq), sizeof r.fingerprint);
        std::array<std::uint8_t, protocol::kControllerRecordSize> bytes{};
        const char* field = nullptr;
        ASSERT_EQ(protocol::encodeControllerRecord(r, bytes, field), protocol::RecordError::ok);
        std::copy(bytes.begin(), bytes.end(), image.begin() + static_cast<long>(kNvmOffset + 128 * (seq - 1)));
    }
    image[kNvmOffset + 256 + 7] = 0x00;  // a torn third record: ignored
    const auto lines =
        boot(image, [](const auto& l) { return hasLineStarting(l, "TTE CONTROLLER"); });
    std::string fp;
    for (int i = 0; i < 32; ++i) fp += "20";
    EXPECT_EQ(lineStarting(lines, "TTE CONTROLLER"), "TTE CONTROLLER ip=2001:db8::2 port=5685 fp=" + fp + " seq=2");
}

TEST(FirmwareQemu, CorruptedBlockFailsWithCrc) {
    auto block = test::encode(test::sampleBlock());
    block[300] ^= 0x40;  // a bit of the private key
    const auto lines = bootUntilBootLine(flashImage(&block));
    EXPECT_EQ(lineStarting(lines, "TTE BOOT"), "TTE BOOT FAIL reason=crc");
}

TEST(FirmwareQemu, BlankBlockFailsWithBlank) {
    const auto lines = bootUntilBootLine(flashImage(nullptr));
    EXPECT_EQ(lineStarting(lines, "TTE BOOT"), "TTE BOOT FAIL reason=blank");
}

TEST(FirmwareQemu, BadFieldNamesTheField) {
    auto block = test::encode(test::sampleBlock());
    block[12] ^= 0x01;  // Dev ID no longer the URN's low 32 bits; CRC made right again
    const std::uint32_t crc = protocol::crc32(std::span<const std::uint8_t>(block).first(2044));
    for (int i = 0; i < 4; ++i) block[2044 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
    const auto lines = bootUntilBootLine(flashImage(&block));
    EXPECT_EQ(lineStarting(lines, "TTE BOOT"), "TTE BOOT FAIL reason=field field=devId");
}

TEST(FirmwareQemu, BootsWhatTheStationFlashesOverDfuSe) {
    // The station's path: firmware and block downloaded by the DfuSe flasher into the
    // simulated STM32F405 ROM bootloader (NVM sector erased too), then that flash booted.
    tte::ManualClock clock;
    flasher::SimulatedStm32 device(clock, flasher::UsbIdentity{flasher::kStVendorId, flasher::kStDfuProductId, 0x2200,
                                                               "1-1.1", "3276384C3034", "STM32  BOOTLOADER"});
    const auto block = test::encode(test::sampleBlock());
    const std::vector<flasher::Segment> segments = {{0x08000000, firmwareBin()},
                                                     {0x08008000, Image(block.begin(), block.end())}};
    flasher::WriteOptions options;
    options.alsoErase = {{0x0800C000, 0x4000}};
    flasher::Flasher writer(clock);
    const auto report = writer.write(device, segments, options);
    ASSERT_TRUE(report.has_value()) << report.error().message;
    const auto flash = device.flash().bytes();
    const auto lines = bootUntilBootLine(Image(flash.begin(), flash.end()));
    EXPECT_EQ(lineStarting(lines, "TTE BOOT").rfind("TTE BOOT OK ms=tte-000001.net devid=abcdef01 urn=", 0), 0u)
        << lineStarting(lines, "TTE BOOT");
}

TEST(FirmwareQemu, LedDisabledSaysSo) {
    auto data = test::sampleBlock();
    data.flags = 0;
    const auto block = test::encode(data);
    const auto lines = boot(flashImage(&block), [](const auto& l) { return hasLineStarting(l, "TTE LED"); });
    ASSERT_GE(lines.size(), 3u);
    EXPECT_EQ(lines[2], "TTE LED disabled");  // after the boot and controller lines
}

}  // namespace
}  // namespace tte::device
