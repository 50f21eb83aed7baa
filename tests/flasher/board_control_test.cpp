// Unique IDs, bootloader serials, option bytes and read-out protection: the data model
// (serial derivation vectors), the simulated bootloader's rules, and BoardControl (identify,
// protect, unprotect) through the DfuTransport seam against it.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim_fixture.h"
#include "tte/flasher/board_control.h"
#include "tte/flasher/dfuse.h"

namespace tte::flasher {
namespace {

using testing::BoardSource;
using testing::makeBoard;
using testing::pattern;
using testing::sampleUid;
using testing::smallImage;

TEST(Stm32Device, BootloaderSerialDerivationVectors) {
    // Published with a disassembly of the F2/F3/F4 system memory (libopencm3 issue #760).
    EXPECT_EQ(dfuSerialOf(sampleUid()), "325E35633334");
    // An all-ones UID gives the serial some F4 bootloaders report: the 32-bit sum carries
    // across the half-words (FFFFFFFF + FFFFFFFF = 1FFFFFFFE), which a 16-bit sum would not.
    EXPECT_EQ(dfuSerialOf(McuUid{{0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}}), std::string(kAllOnesUidSerial));
    EXPECT_EQ(dfuSerialOf(McuUid{{0x0000FFFF, 0xABCD1234, 0x00000001}}), "00010000ABCD");
}

TEST(Stm32Device, UniqueIdTextAndMemoryOrder) {
    const McuUid uid = sampleUid();
    EXPECT_EQ(uid.hex(), "002d00303334510b32313533");
    const auto bytes = uid.bytes();
    EXPECT_EQ(bytes[0], 0x30);  // 0x1FFF7A10 holds the low byte of word 0
    EXPECT_EQ(bytes[11], 0x32);
    EXPECT_EQ(McuUid::fromBytes(bytes), uid);
    EXPECT_EQ(*McuUid::parse("002D00303334510B32313533"), uid);
    EXPECT_EQ(McuUid::parse("002d0030").error().message,
              "MCU unique ID \"002d0030\" has 8 characters, expected 24 hex digits");
    EXPECT_EQ(McuUid::parse("002d00303334510b3231353x").error().code, Errc::invalidArgument);
}

TEST(Stm32Device, OptionBytesAndRdpLevels) {
    EXPECT_EQ(rdpLevelOf(0xAA), RdpLevel::level0);
    EXPECT_EQ(rdpLevelOf(0xCC), RdpLevel::level2);
    for (int b : {0x00, 0x55, 0xA5, 0xBB, 0xFF}) EXPECT_EQ(rdpLevelOf(static_cast<std::uint8_t>(b)), RdpLevel::level1);
    OptionBytes ob = OptionBytes::factoryDefault();
    EXPECT_EQ(ob.rdp(), RdpLevel::level0);
    EXPECT_EQ(ob.writeProtectMask(), 0);
    EXPECT_EQ(ob.describe(), "RDP 0xaa (level 0), USER 0xff (WDG_SW=1 nRST_STOP=1 nRST_STDBY=1 BOR off), no sector "
                             "write-protected");
    ob.setWriteProtectMask(0x0024);
    EXPECT_EQ(ob.raw[8], 0xDB);  // nWRP: 0 = protected
    EXPECT_EQ(ob.raw[9], 0xFF);
    ob.setRdp(RdpLevel::level1);
    EXPECT_EQ(ob.rdpByte(), 0x55);
    EXPECT_EQ(ob.describe(), "RDP 0x55 (level 1), USER 0xff (WDG_SW=1 nRST_STOP=1 nRST_STDBY=1 BOR off), "
                             "write-protected sectors 2 5");
}

// The ROM serves a read only from a start inside one of its memories: the unique ID lies
// just past the OTP memory, so it is read from the lock bytes on.
TEST(SimulatedBootloader, UniqueIdIsReadFromTheOtpLockBytesOn) {
    ManualClock clock;
    auto dev = makeBoard(clock);
    auto otp = openMemory(*dev, "OTP Memory");
    ASSERT_TRUE(otp) << otp.error().toString();
    DfuseSession s(*dev, clock, 0, otp->transferSize);
    ASSERT_TRUE(s.ensureIdle());
    auto direct = s.setAddress(kUidAddress);
    ASSERT_FALSE(direct);
    EXPECT_EQ(direct.error().nativeName, "errTARGET");
    ASSERT_TRUE(s.ensureIdle());
    ASSERT_TRUE(s.setAddress(kOtpLockAddress));
    ASSERT_TRUE(s.abort());
    std::vector<std::uint8_t> buf(48);
    auto n = s.upload(2, buf);
    ASSERT_TRUE(n) << n.error().toString();
    ASSERT_EQ(*n, 48U);
    EXPECT_TRUE(std::all_of(buf.begin(), buf.begin() + 16, [](std::uint8_t b) { return b == 0xFF; }));  // lock bytes
    const auto uid = sampleUid().bytes();
    EXPECT_TRUE(std::equal(uid.begin(), uid.end(), buf.begin() + 16));
    EXPECT_EQ(buf[34] | (buf[35] << 8), 1024);  // flash size register, KiB
}

// One simulated board at 1-1.1 behind BoardControl.
class OneBoard : public ::testing::Test {
protected:
    OneBoard() { source.add(*dev); }
    ManualClock clock;
    std::unique_ptr<SimulatedStm32> dev = makeBoard(clock);
    BoardSource source;
    BoardControl boards{source, clock};
};

TEST_F(OneBoard, IdentifiesABlankBoard) {
    auto info = boards.identify("1-1.1");
    ASSERT_TRUE(info) << info.error().toString();
    EXPECT_EQ(info->uid, sampleUid());
    EXPECT_TRUE(info->serialChecked);
    EXPECT_EQ(info->usb.serial, "325E35633334");
    EXPECT_EQ(info->flashSizeKiB, 1024);
    EXPECT_EQ(info->rdp, RdpLevel::level0);
    EXPECT_EQ(info->options, OptionBytes::factoryDefault());
    EXPECT_EQ(dev->state(), DfuState::dfuIdle);
    EXPECT_EQ(boards.identify("1-1.9").error().message, "port 1-1.9: no board at 1-1.9");
}

TEST(BoardControl, ChecksTheUniqueIdAgainstTheSerialUnlessTheSerialIsAllOnes) {
    ManualClock clock;
    const McuUid other{{0x00410032, 0x3134510c, 0x35363739}};
    // The chip carries `other`, but its bootloader reports the sample's serial.
    SimulatedStm32 liar(clock, testing::simIdentity("1-1.1"));
    liar.flash().setUid(other);
    SimulatedStm32 allOnes(clock, bootloaderIdentity("1-1.2", other, true));
    allOnes.flash().setUid(other);
    BoardSource source;
    source.add(liar);
    source.add(allOnes);
    BoardControl boards(source, clock);
    auto bad = boards.identify("1-1.1");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::corrupt);
    EXPECT_EQ(bad.error().message, "the unique ID read at 0x1fff7a10 (004100323134510c35363739) gives serial "
                                   "3577376B3134, but the bootloader reports 325E35633334: it is not this chip's ID");
    auto unchecked = boards.identify("1-1.2");
    ASSERT_TRUE(unchecked) << unchecked.error().toString();
    EXPECT_EQ(unchecked->uid, other);
    EXPECT_FALSE(unchecked->serialChecked);
}

TEST_F(OneBoard, ProtectLevel1ResetsTheBoardAndThenEveryReadIsRefused) {
    ASSERT_TRUE(dev->flash().program(0x08008000, pattern(2048, 5)));
    std::vector<Progress> seen;
    auto r = boards.protect("1-1.1", RdpLevel::level1, Level2::refuse, [&](const Progress& p) { seen.push_back(p); });
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_TRUE(r->changed);
    EXPECT_EQ(r->before, RdpLevel::level0);
    EXPECT_EQ(r->after, RdpLevel::level1);
    EXPECT_EQ(dev->resets(), 1);           // the option-byte write reset the device
    EXPECT_EQ(source.opens, 2);            // … so it was opened again to confirm
    EXPECT_GE(r->elapsed, std::chrono::milliseconds(250));  // option-byte change (a 16 KiB sector erase)
    EXPECT_EQ(dev->flash().options().rdpByte(), 0x55);
    EXPECT_EQ(dev->flash().options().user(), 0xFF);  // only RDP changed
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().phase, Phase::lock);
    EXPECT_EQ(seen.back().done, 1U);

    auto info = boards.identify("1-1.1");
    ASSERT_TRUE(info) << info.error().toString();
    EXPECT_EQ(info->rdp, RdpLevel::level1);
    EXPECT_FALSE(info->uid);
    EXPECT_FALSE(info->options);
    Flasher flasher(clock);
    auto transport = source.open("1-1.1");
    ASSERT_TRUE(transport);
    auto read = flasher.read(**transport, 0x08008000, 16);
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().nativeName, "errVENDOR");
    EXPECT_EQ(read.error().code, Errc::permissionDenied);
    auto write = flasher.write(**transport, smallImage(), WriteOptions{});
    ASSERT_FALSE(write);
    EXPECT_EQ(write.error().nativeName, "errVENDOR");
    // The data is still there, only unreadable.
    EXPECT_EQ(dev->flash().read(0x08008000, 1)[0], pattern(2048, 5)[0]);

    // Asking again changes nothing; level 2 is out of reach from level 1 over DFU.
    auto again = boards.protect("1-1.1", RdpLevel::level1);
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->changed);
    auto two = boards.protect("1-1.1", RdpLevel::level2, Level2::permanentlyAllow);
    ASSERT_FALSE(two);
    EXPECT_EQ(two.error().code, Errc::permissionDenied);
    EXPECT_EQ(two.error().message, "port 1-1.1: the board is at RDP level 1; its bootloader refuses option-byte writes "
                                   "(errVENDOR), so level 2 can only be set from level 0");
    EXPECT_EQ(dev->resets(), 1);
}

TEST_F(OneBoard, UnprotectMassErasesKeepsWriteProtectionAndReadsLevel0) {
    ASSERT_TRUE(dev->flash().program(0x08000000, pattern(3000, 1)));
    ASSERT_TRUE(dev->flash().program(0x080E0000, pattern(100, 2)));  // sector 11
    dev->flash().setWriteProtected(11, true);
    ASSERT_TRUE(boards.protect("1-1.1", RdpLevel::level1));
    const auto before = clock.now();
    std::vector<Progress> seen;
    auto r = boards.unprotect("1-1.1", [&](const Progress& p) { seen.push_back(p); });
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_TRUE(r->erased);
    EXPECT_EQ(r->before, RdpLevel::level1);
    EXPECT_EQ(r->after.rdp, RdpLevel::level0);
    EXPECT_EQ(r->after.uid, sampleUid());
    EXPECT_TRUE(r->after.serialChecked);
    EXPECT_EQ(dev->resets(), 2);
    // RM0090 §3.7.3: the whole flash is erased, write-protected sectors too; WRP stays.
    EXPECT_TRUE(std::all_of(dev->flash().bytes().begin(), dev->flash().bytes().end(),
                            [](std::uint8_t b) { return b == 0xFF; }));
    EXPECT_EQ(dev->flash().writeProtectMask(), 1U << 11);
    EXPECT_EQ(r->after.options->writeProtectMask(), 1U << 11);
    // A mass erase (8 s typical) plus reading 1 MiB back over full-speed USB.
    EXPECT_GE(clock.now() - before, std::chrono::seconds(9));
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.front().phase, Phase::erase);
    EXPECT_EQ(seen.back().phase, Phase::verify);
    EXPECT_EQ(seen.back().done, 1024U * 1024U);

    // A board at level 0 is left as it is.
    ASSERT_TRUE(dev->flash().program(0x08000000, pattern(16, 3)));
    auto nothing = boards.unprotect("1-1.1");
    ASSERT_TRUE(nothing);
    EXPECT_FALSE(nothing->erased);
    EXPECT_EQ(dev->flash().read(0x08000000, 1)[0], pattern(16, 3)[0]);
}

TEST_F(OneBoard, Level2IsRefusedUnlessPermanentlyAllowedAndThenTheBootloaderIsGone) {
    auto refused = boards.protect("1-1.1", RdpLevel::level2);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::permissionDenied);
    EXPECT_EQ(source.opens, 0);  // refused before the board was touched
    EXPECT_EQ(boards.protect("1-1.1", RdpLevel::level0).error().code, Errc::invalidArgument);
    auto r = boards.protect("1-1.1", RdpLevel::level2, Level2::permanentlyAllow);
    ASSERT_TRUE(r) << r.error().toString();
    EXPECT_EQ(r->after, RdpLevel::level2);
    EXPECT_EQ(dev->flash().options().rdpByte(), 0xCC);
    // RM0090 §3.7.3: no more boot from system memory: the board never enters DFU mode again.
    dev->replug();
    EXPECT_FALSE(dev->present());
    EXPECT_TRUE(dev->runningFirmware());
    EXPECT_EQ(boards.identify("1-1.1").error().code, Errc::notFound);
}

TEST_F(OneBoard, ABoardThatDoesNotComeBackOrComesBackAsAnotherIsAnError) {
    source.stayAway = true;
    const auto t0 = clock.now();
    auto gone = boards.protect("1-1.1", RdpLevel::level1);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, Errc::unavailable);
    EXPECT_EQ(gone.error().message.rfind("port 1-1.1: the board did not come back in DFU mode within 10000 ms of its "
                                         "reset",
                                         0),
              0U)
        << gone.error().message;
    EXPECT_GE(clock.now() - t0, std::chrono::seconds(10));

    // Someone swapped the board while it reset: the protect cannot be confirmed on it.
    auto first = makeBoard(clock, sampleUid(), "1-1.2");
    auto second = makeBoard(clock, McuUid{{1, 2, 3}}, "1-1.2");
    BoardSource swapping;
    swapping.add(*first);
    swapping.swap = second.get();
    BoardControl swapped(swapping, clock);
    auto r = swapped.protect("1-1.2", RdpLevel::level1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::conflict);
    EXPECT_EQ(r.error().message,
              "port 1-1.2: a different board (serial 000000040000) came back after the reset of board 325E35633334");
}

// The board vanishes at every transfer of a protect: the result is a clear error, never a
// false "protected", and after a replug the next attempt succeeds.
TEST(BoardControl, UnplugAtEveryTransferOfProtect) {
    // The first USB session (identify, then the option-byte write) has fewer transfers than
    // this; the session after the reset starts without faults.
    int failed = 0;
    for (std::size_t i = 0; i < 60; ++i) {
        SCOPED_TRACE("unplug at transfer " + std::to_string(i));
        ManualClock clock;
        auto dev = makeBoard(clock);
        BoardSource source;
        source.add(*dev);
        dev->setFaults(testing::unplugAt(i));
        BoardControl boards(source, clock);
        auto r = boards.protect("1-1.1", RdpLevel::level1);
        if (r) {
            // Only a fault after the option-byte write took may still end in a confirmed level 1.
            EXPECT_EQ(dev->flash().readProtection(), RdpLevel::level1);
            continue;
        }
        ++failed;
        EXPECT_TRUE(r.error().code == Errc::unavailable || r.error().code == Errc::io) << r.error().toString();
        auto again = boards.protect("1-1.1", RdpLevel::level1);
        ASSERT_TRUE(again) << again.error().toString();
        EXPECT_EQ(dev->flash().readProtection(), RdpLevel::level1);
    }
    EXPECT_GE(failed, 15);
}

// The same for read unprotect, with unplugs and unanswered transfers: never a false "erased",
// never a board left half-way that the next attempt cannot finish.
TEST(BoardControl, UnplugOrTimeoutAtEveryTransferOfUnprotect) {
    int failed = 0;
    for (std::size_t i = 0; i < 60; ++i) {
        for (int kind = 0; kind < 2; ++kind) {
            SCOPED_TRACE((kind == 0 ? "unplug at transfer " : "timeout at transfer ") + std::to_string(i));
            ManualClock clock;
            auto dev = makeBoard(clock);
            ASSERT_TRUE(dev->flash().program(0x08008000, pattern(64, 9)));
            BoardSource source;
            source.add(*dev);
            BoardControl boards(source, clock);
            ASSERT_TRUE(boards.protect("1-1.1", RdpLevel::level1));
            dev->unplug();  // a fresh USB session (the transfer count starts again) …
            ASSERT_TRUE(source.open("1-1.1"));
            dev->setFaults(kind == 0 ? testing::unplugAt(i) : testing::timeoutAt(i));  // … with its fault
            auto r = boards.unprotect("1-1.1");
            if (r) {
                EXPECT_TRUE(r->erased);
            } else {
                ++failed;
                EXPECT_TRUE(r.error().code == Errc::unavailable || r.error().code == Errc::io ||
                            r.error().code == Errc::timeout)
                    << r.error().toString();
                auto again = boards.unprotect("1-1.1");
                ASSERT_TRUE(again) << again.error().toString();
            }
            EXPECT_EQ(dev->flash().readProtection(), RdpLevel::level0);
            EXPECT_EQ(dev->flash().read(0x08008000, 1)[0], 0xFF);
        }
    }
    // The faults fell on the session before the reset (identify, read unprotect); some of them
    // the host recovers from (a lost CLRSTATUS is repeated).
    EXPECT_GE(failed, 15);
}

}  // namespace
}  // namespace tte::flasher
