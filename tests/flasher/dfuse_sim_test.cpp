// The DfuSe host protocol against the simulated STM32F405 ROM bootloader: whole writes,
// the DFU state machine, timing on the manual clock, read and write protection.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim_fixture.h"
#include "tte/flasher/dfuse.h"

namespace tte::flasher {
namespace {

using testing::pattern;
using testing::simIdentity;
using testing::smallImage;

TEST(DfuseSim, WritesVerifiesAndLeaves) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity());
    Flasher flasher(clock);
    const auto image = smallImage();
    std::vector<Progress> seen;
    auto report = flasher.write(dev, image, testing::opts(true, true),
                                [&](const Progress& p) { seen.push_back(p); });
    ASSERT_TRUE(report) << report.error().toString();
    EXPECT_EQ(report->erasedSectors, (std::vector<int>{0, 2}));
    EXPECT_EQ(report->bytesWritten, 5048U);
    ASSERT_EQ(report->verified.size(), 2U);
    EXPECT_EQ(report->verified[0].crc32, crc32(image[0].bytes));
    EXPECT_TRUE(report->left);
    EXPECT_TRUE(dev.runningFirmware());
    EXPECT_FALSE(dev.present());
    const auto fw = dev.flash().read(0x08000000, 3000);
    EXPECT_TRUE(std::equal(fw.begin(), fw.end(), image[0].bytes.begin()));
    const auto blk = dev.flash().read(0x08008000, 2048);
    EXPECT_TRUE(std::equal(blk.begin(), blk.end(), image[1].bytes.begin()));
    // Untouched sectors stay as they were (erased), the rest of sector 0 is erased.
    EXPECT_EQ(dev.flash().read(0x08000000 + 3000, 1)[0], 0xFF);
    // Two sector erases of 16 KiB at 250 ms typical, plus programming and bus time.
    EXPECT_GE(report->elapsed, std::chrono::milliseconds(500));
    EXPECT_LT(report->elapsed, std::chrono::milliseconds(600));
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().phase, Phase::leave);
    EXPECT_TRUE(std::any_of(seen.begin(), seen.end(),
                            [](const Progress& p) { return p.phase == Phase::verify && p.done == p.total; }));
}

TEST(DfuseSim, BlockNumberAddressRule) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity());
    ASSERT_TRUE(dev.claim(0, 0));
    DfuseSession s(dev, clock, 0, SimulatedStm32::kTransferSize);
    ASSERT_TRUE(s.ensureIdle());
    ASSERT_TRUE(s.eraseSector(0x08004000));
    ASSERT_TRUE(s.setAddress(0x08004000));
    const auto data = pattern(16, 7);
    // Block 5 lands at pointer + 3 * wTransferSize.
    ASSERT_TRUE(s.download(5, data));
    const auto at = dev.flash().read(0x08004000 + 3 * 2048, 16);
    EXPECT_TRUE(std::equal(at.begin(), at.end(), data.begin()));
    EXPECT_EQ(dev.flash().read(0x08004000, 1)[0], 0xFF);
}

TEST(DfuseSim, PollsHonouringPollTimeoutAndNaksWhileBusy) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity(), testing::behaviour(FlashTiming::maximum));
    ASSERT_TRUE(dev.claim(0, 0));
    const std::uint8_t erase[] = {0x41, 0x00, 0x00, 0x02, 0x08};  // sector 5 (128 KiB)
    ASSERT_TRUE(dev.controlOut({dfu_request::kTypeOut, dfu_request::kDnload, 0, 0}, erase, std::chrono::seconds(5)));
    DfuseSession s(dev, clock, 0, 2048);
    auto st = s.getStatus();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->state, DfuState::dfuDnbusy);
    EXPECT_EQ(st->pollTimeoutMs, 1000U);  // the device's estimate: the typical time
    const auto t0 = clock.now();
    // Polling early: the device NAKs until its maximum time (2 s) has passed.
    auto again = s.getStatus();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->state, DfuState::dfuDnloadIdle);
    EXPECT_GE(clock.now() - t0, std::chrono::milliseconds(1999));
    EXPECT_EQ(dev.busyTime(), std::chrono::milliseconds(2000));
}

TEST(DfuseSim, StateMachineStallsRequestsOutOfPlace) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity());
    ASSERT_TRUE(dev.claim(0, 0));
    const auto t = std::chrono::milliseconds(100);
    // CLRSTATUS is only valid in dfuERROR.
    auto r = dev.controlOut({dfu_request::kTypeOut, dfu_request::kClrStatus, 0, 0}, {}, t);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().nativeName, "LIBUSB_ERROR_PIPE");
    EXPECT_EQ(dev.state(), DfuState::dfuError);
    EXPECT_EQ(dev.status(), DfuStatus::errStalledPkt);
    ASSERT_TRUE(dev.controlOut({dfu_request::kTypeOut, dfu_request::kClrStatus, 0, 0}, {}, t));
    EXPECT_EQ(dev.state(), DfuState::dfuIdle);
    // A zero-length download in dfuIDLE is a protocol error, as is block 1.
    EXPECT_FALSE(dev.controlOut({dfu_request::kTypeOut, dfu_request::kDnload, 0, 0}, {}, t));
    EXPECT_EQ(dev.state(), DfuState::dfuError);
    DfuseSession s(dev, clock, 0, 2048);
    ASSERT_TRUE(s.ensureIdle());
    const std::uint8_t one[] = {1};
    EXPECT_FALSE(dev.controlOut({dfu_request::kTypeOut, dfu_request::kDnload, 1, 0}, one, t));
    ASSERT_TRUE(s.ensureIdle());
    // Upload of block 0 lists the DfuSe commands and ends in dfuIDLE on a short frame.
    std::uint8_t cmds[16] = {};
    auto n = dev.controlIn({dfu_request::kTypeIn, dfu_request::kUpload, 0, 0}, cmds, t);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 4U);
    EXPECT_EQ(cmds[1], 0x21);
    EXPECT_EQ(cmds[2], 0x41);
    EXPECT_EQ(dev.state(), DfuState::dfuIdle);
}

TEST(DfuseSim, SetAddressOutsideFlashIsErrTarget) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity());
    ASSERT_TRUE(dev.claim(0, 0));
    DfuseSession s(dev, clock, 0, 2048);
    auto st = s.setAddress(0x20000000);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::outOfRange);
    EXPECT_EQ(st.error().nativeName, "errTARGET");
    EXPECT_EQ(st.error().domain, "DFU");
    EXPECT_EQ(dev.state(), DfuState::dfuError);
    ASSERT_TRUE(s.ensureIdle());
    EXPECT_EQ(dev.state(), DfuState::dfuIdle);
}

TEST(DfuseSim, ReadProtectedDeviceIsReportedNotFixed) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity());
    dev.flash().setReadProtection(RdpLevel::level1);
    Flasher flasher(clock);
    auto read = flasher.read(dev, 0x08000000, 64);
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, Errc::permissionDenied);
    EXPECT_EQ(read.error().nativeName, "errVENDOR");
    EXPECT_EQ(read.error().message,
              "reading 0x08000000: upload block 2: the device is read-protected (RDP level 1): its STM32 bootloader "
              "refuses to read, erase or write memory until read protection is removed, which erases the flash "
              "(errVENDOR, state dfuERROR)");
    auto write = flasher.write(dev, smallImage(), WriteOptions{});
    ASSERT_FALSE(write);
    EXPECT_EQ(write.error().code, Errc::permissionDenied);
    EXPECT_EQ(write.error().nativeName, "errVENDOR");
    EXPECT_NE(write.error().message.find("erase sector at 0x08000000"), std::string::npos) << write.error().message;
    // Still protected: nothing sent the read-unprotect command (which would mass-erase the part).
    EXPECT_EQ(dev.flash().readProtection(), RdpLevel::level1);
    EXPECT_EQ(dev.resets(), 0);
}

TEST(DfuseSim, WriteProtectedSectorIsFoundByVerify) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity());
    const auto old = pattern(2048, 99);
    ASSERT_TRUE(dev.flash().program(0x08008000, old));
    dev.flash().setWriteProtected(2, true);
    Flasher flasher(clock);
    auto r = flasher.write(dev, smallImage(), testing::opts(true));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::corrupt);
    EXPECT_NE(r.error().message.find("first difference at 0x08008000 (sector 2, write-protected or faulty flash)"),
              std::string::npos)
        << r.error().message;
    // The erase "succeeded" and left the old data.
    const auto now = dev.flash().read(0x08008000, 2048);
    EXPECT_TRUE(std::equal(now.begin(), now.end(), old.begin()));
}

TEST(DfuseSim, WriteProtectedSectorWithErrWriteBehaviour) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity(), testing::behaviour(FlashTiming::typical, true));
    dev.flash().setWriteProtected(0, true);
    Flasher flasher(clock);
    auto r = flasher.write(dev, smallImage(), WriteOptions{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io);
    EXPECT_EQ(r.error().nativeName, "errWRITE");
    EXPECT_EQ(r.error().message,
              "writing 0x08000000: download block 2: the device could not write the memory (write-protected sector "
              "or flash fault) (errWRITE, state dfuERROR)");
}

TEST(DfuseSim, RefusesImagesOutsideTheFlashLayoutBeforeTouchingTheDevice) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity());
    Flasher flasher(clock);
    std::vector<Segment> optionBytes{{0x1FFFC000, {0xAA, 0x55}}};
    auto r = flasher.write(dev, optionBytes, WriteOptions{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::outOfRange);
    EXPECT_EQ(r.error().message, "segment at 0x1fffc000: address 0x1fffc000 is outside Internal Flash");
    std::vector<Segment> pastEnd{{0x080FFF00, pattern(512, 1)}};
    EXPECT_EQ(flasher.write(dev, pastEnd, WriteOptions{}).error().message,
              "segment at 0x080fff00: address 0x08100000 is outside Internal Flash");
    std::vector<Segment> overlap{{0x08000000, pattern(100, 1)}, {0x08000010, pattern(10, 2)}};
    EXPECT_EQ(flasher.write(dev, overlap, WriteOptions{}).error().message,
              "segments at 0x08000000 and 0x08000010 overlap");
    EXPECT_EQ(dev.transferCount(), 0U);
}

TEST(DfuseSim, ErasesOnlyTouchedSectorsAndAlsoEraseRanges) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity());
    ASSERT_TRUE(dev.flash().program(0x08010000, pattern(16, 3)));  // sector 4: must survive
    ASSERT_TRUE(dev.flash().program(0x0800C000, pattern(16, 4)));  // sector 3: erased on request
    Flasher flasher(clock);
    WriteOptions alsoErase;
    alsoErase.alsoErase = {{0x0800C000, 0x4000}};
    auto r = flasher.write(dev, smallImage(), alsoErase);
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->erasedSectors, (std::vector<int>{0, 2, 3}));
    EXPECT_EQ(dev.flash().read(0x0800C000, 1)[0], 0xFF);
    EXPECT_EQ(dev.flash().read(0x08010000, 1)[0], pattern(16, 3)[0]);
}

TEST(DfuseSim, ReadsBackWhatWasWritten) {
    ManualClock clock;
    SimulatedStm32 dev(clock, simIdentity());
    const auto data = pattern(5000, 11);
    ASSERT_TRUE(dev.flash().program(0x08020000, data));
    Flasher flasher(clock);
    auto r = flasher.read(dev, 0x08020000, 5000);
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(*r, data);
    EXPECT_EQ(dev.state(), DfuState::dfuIdle);
    EXPECT_EQ(flasher.read(dev, 0x080FFFFF, 2).error().message, "address 0x08100000 is outside Internal Flash");
}

TEST(DfuseSim, FlashOnlyClearsBitsWithoutErase) {
    Stm32Flash flash;
    const std::uint8_t a[] = {0xF0};
    const std::uint8_t b[] = {0x0F};
    ASSERT_TRUE(flash.program(0x08000000, a));
    ASSERT_TRUE(flash.program(0x08000000, b));
    EXPECT_EQ(flash.read(0x08000000, 1)[0], 0x00);
    flash.eraseSector(0);
    EXPECT_EQ(flash.read(0x08000000, 1)[0], 0xFF);
}

}  // namespace
}  // namespace tte::flasher
