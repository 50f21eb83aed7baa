// tte-flash end to end against a simulator directory: sim create / replace / remove, list,
// info, uid, pack, write (gang, verify, leave), read, protect, unprotect, bad input as
// one-line errors, two processes on one device.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include "sim_fixture.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/flasher/dfu_file.h"
#include "tte/flasher/stm32_device.h"

namespace tte::flasher {
namespace {

using testing::pattern;
using test::runShell;
using test::TempDir;

std::string tool() {
    const char* bin = std::getenv("TTE_BIN");
    return std::string(bin ? bin : "build/bin") + "/tte-flash";
}

TEST(TteFlash, PackWriteLeaveReadOnSimulatedDevices) {
    TempDir dir;
    const auto sim = (dir.path() / "sim").string();
    ASSERT_EQ(runShell(tool() + " sim create " + sim + " --count 3").exitCode, 0);
    const auto list = runShell(tool() + " --sim " + sim + " list");
    ASSERT_EQ(list.exitCode, 0) << list.output;
    EXPECT_NE(list.output.find("1-1.3        0483:df11  serial "), std::string::npos) << list.output;
    const auto bin = dir.path() / "fw.bin";
    ASSERT_TRUE(writeFileBytes(bin, pattern(40000, 3)));
    const auto dfu = (dir.path() / "fw.dfu").string();
    ASSERT_EQ(runShell(tool() + " pack " + bin.string() + " --address 0x08000000 -o " + dfu).exitCode, 0);
    EXPECT_EQ(runShell("dfu-suffix -c " + dfu).exitCode, 0);
    const auto write = runShell(tool() + " --sim " + sim + " write " + dfu + " --device 1-1.1 --device 1-1.3 --verify --leave");
    ASSERT_EQ(write.exitCode, 0) << write.output;
    EXPECT_NE(write.output.find("1-1.3: ok, 40000 bytes, sectors erased 3, verified, started"), std::string::npos)
        << write.output;
    // 1-1.1 and 1-1.3 run their firmware now; only 1-1.2 is still in DFU mode.
    const auto after = runShell(tool() + " --sim " + sim + " list");
    EXPECT_EQ(after.output.find("1-1.1 "), std::string::npos) << after.output;
    EXPECT_NE(after.output.find("1-1.2 "), std::string::npos) << after.output;
    ASSERT_EQ(runShell(tool() + " sim set " + sim + " 1-1.3 --dfu").exitCode, 0);
    const auto back = dir.path() / "back.bin";
    const auto read = runShell(tool() + " --sim " + sim + " read --device 1-1.3 --address 0x08000000 --length 40000 -o " +
                          back.string());
    ASSERT_EQ(read.exitCode, 0) << read.output;
    EXPECT_EQ(*readFileBytes(back), pattern(40000, 3));
}

TEST(TteFlash, BadInputGivesOneLineReasons) {
    TempDir dir;
    const auto sim = (dir.path() / "sim").string();
    ASSERT_EQ(runShell(tool() + " sim create " + sim + " --count 1").exitCode, 0);
    const auto bad = dir.path() / "bad.dfu";
    auto bytes = *serializeDfuFile(dfuFileForImage(0x08000000, pattern(100, 1)));
    bytes[300] ^= 0xFF;
    ASSERT_TRUE(writeFileBytes(bad, bytes));
    const auto crc = runShell(tool() + " --sim " + sim + " write " + bad.string());
    EXPECT_EQ(crc.exitCode, 1);
    EXPECT_EQ(crc.output.rfind("tte-flash: " + bad.string() + ": DfuSe file: CRC mismatch: suffix says 0x", 0), 0U)
        << crc.output;
    EXPECT_EQ(std::count(crc.output.begin(), crc.output.end(), '\n'), 1);
    const auto outside = dir.path() / "outside.dfu";
    ASSERT_TRUE(writeFileBytes(outside, *serializeDfuFile(dfuFileForImage(0x1FFFC000, pattern(16, 1)))));
    EXPECT_EQ(runShell(tool() + " --sim " + sim + " write " + outside.string()).output,
              "tte-flash: slot 1-1.1: segment at 0x1fffc000: address 0x1fffc000 is outside Internal Flash\n");
    EXPECT_EQ(runShell(tool() + " pack x.bin --address 08x -o y.dfu").output,
              "tte-flash: --address \"08x\" is not a 32-bit number (decimal or 0x-hex)\n");
    EXPECT_EQ(runShell(tool() + " frobnicate").exitCode, 2);
    EXPECT_EQ(runShell(tool() + " --help").exitCode, 0);
}

TEST(TteFlash, WriteProtectedAndReadProtectedDevicesFailAlone) {
    TempDir dir;
    const auto sim = (dir.path() / "sim").string();
    ASSERT_EQ(runShell(tool() + " sim create " + sim + " --count 3").exitCode, 0);
    ASSERT_EQ(runShell(tool() + " sim set " + sim + " 1-1.1 --wrp 0x1").exitCode, 0);
    ASSERT_EQ(runShell(tool() + " sim set " + sim + " 1-1.2 --rdp 1").exitCode, 0);
    const auto dfu = dir.path() / "fw.dfu";
    ASSERT_TRUE(writeFileBytes(dfu, *serializeDfuFile(dfuFileForImage(0x08000000, pattern(5000, 2)))));
    const auto write = runShell(tool() + " --sim " + sim + " write " + dfu.string());
    EXPECT_EQ(write.exitCode, 1);
    EXPECT_NE(write.output.find("tte-flash: slot 1-1.1: verify failed"), std::string::npos) << write.output;
    EXPECT_NE(write.output.find("tte-flash: slot 1-1.2: erase sector at 0x08000000: the device is read-protected "
                                "(RDP level 1)"),
              std::string::npos)
        << write.output;
    EXPECT_NE(write.output.find("1-1.3: ok, 5000 bytes"), std::string::npos) << write.output;
}

/// The "PORT UID" lines of `tte-flash uid`, by port.
std::map<std::string, std::string> uids(const std::string& output) {
    std::map<std::string, std::string> out;
    std::istringstream in(output);
    std::string port;
    std::string uid;
    while (in >> port >> uid) out[port] = uid;
    return out;
}

TEST(TteFlash, UidInfoProtectReadRefusedAndUnprotect) {
    TempDir dir;
    const auto sim = (dir.path() / "sim").string();
    const std::string flash = tool() + " --sim " + sim + " ";
    ASSERT_EQ(runShell(tool() + " sim create " + sim + " --count 2").exitCode, 0);
    const auto ids = runShell(flash + "uid");
    ASSERT_EQ(ids.exitCode, 0) << ids.output;
    const auto byPort = uids(ids.output);
    ASSERT_EQ(byPort.size(), 2U) << ids.output;
    EXPECT_NE(byPort.at("1-1.1"), byPort.at("1-1.2"));
    EXPECT_TRUE(McuUid::parse(byPort.at("1-1.1")));
    const auto info = runShell(flash + "info --device 1-1.1");
    ASSERT_EQ(info.exitCode, 0) << info.output;
    const auto uid = *McuUid::parse(byPort.at("1-1.1"));
    EXPECT_NE(info.output.find("  serial       " + dfuSerialOf(uid) +
                               " (the bootloader's derivation of the unique ID: matches)"),
              std::string::npos)
        << info.output;
    EXPECT_NE(info.output.find("  unique ID    " + uid.hex()), std::string::npos) << info.output;
    EXPECT_NE(info.output.find("  flash size   1024 KiB"), std::string::npos) << info.output;
    EXPECT_NE(info.output.find("  protection   RDP level 0"), std::string::npos) << info.output;

    const auto dfu = dir.path() / "fw.dfu";
    ASSERT_TRUE(writeFileBytes(dfu, *serializeDfuFile(dfuFileForImage(0x08000000, pattern(5000, 7)))));
    ASSERT_EQ(runShell(flash + "write " + dfu.string()).exitCode, 0);

    // Level 2 only with its own flag; unprotect only with --force. Nothing is touched.
    const auto two = runShell(flash + "protect --level 2 --device 1-1.1");
    EXPECT_EQ(two.exitCode, 2);
    EXPECT_EQ(two.output, "tte-flash: RDP level 2 is permanent: the bootloader, the debug port and every later rework "
                          "are gone for good; add --irreversible only if the lot really asks for it\n");
    EXPECT_EQ(runShell(flash + "protect --level 3").exitCode, 2);
    EXPECT_EQ(runShell(flash + "protect").exitCode, 2);
    const auto noForce = runShell(flash + "unprotect --device 1-1.1");
    EXPECT_EQ(noForce.exitCode, 2);
    EXPECT_NE(noForce.output.find("erases the whole flash"), std::string::npos);

    const auto lock = runShell(flash + "protect --level 1 --device 1-1.1");
    ASSERT_EQ(lock.exitCode, 0) << lock.output;
    EXPECT_NE(lock.output.find("1-1.1: RDP level 0 -> level 1 (confirmed: the bootloader now refuses reads)"),
              std::string::npos)
        << lock.output;
    EXPECT_NE(runShell(flash + "protect --level 1 --device 1-1.1").output.find("1-1.1: already at RDP level 1"),
              std::string::npos);
    const auto back = dir.path() / "back.bin";
    const auto refused = runShell(flash + "read --device 1-1.1 --address 0x08000000 --length 5000 -o " + back.string());
    EXPECT_EQ(refused.exitCode, 1);
    EXPECT_NE(refused.output.find("\ntte-flash: reading 0x08000000: upload block 2: the device is read-protected "
                                  "(RDP level 1)"),
              std::string::npos)
        << refused.output;
    EXPECT_NE(refused.output.find("`tte-flash unprotect --force` takes it back to level 0 and erases the flash"),
              std::string::npos)
        << refused.output;
    EXPECT_FALSE(std::filesystem::exists(back));
    const auto locked = runShell(flash + "uid");
    EXPECT_EQ(locked.exitCode, 1);
    EXPECT_NE(locked.output.find("1-1.2 " + byPort.at("1-1.2")), std::string::npos) << locked.output;
    EXPECT_NE(locked.output.find("tte-flash: port 1-1.1: unique ID unreadable: the board is read-protected"),
              std::string::npos)
        << locked.output;
    EXPECT_NE(runShell(flash + "info --device 1-1.1").output.find("  protection   RDP level 1"), std::string::npos);

    const auto unlock = runShell(flash + "unprotect --force --device 1-1.1");
    ASSERT_EQ(unlock.exitCode, 0) << unlock.output;
    EXPECT_NE(unlock.output.find("1-1.1: RDP level 1 -> level 0, flash erased and read back blank, unique ID " +
                                 uid.hex()),
              std::string::npos)
        << unlock.output;
    ASSERT_EQ(runShell(flash + "read --device 1-1.1 --address 0x08000000 --length 5000 -o " + back.string()).exitCode, 0);
    EXPECT_EQ(*readFileBytes(back), std::vector<std::uint8_t>(5000, 0xFF));
    // The other board kept its firmware.
    ASSERT_EQ(runShell(flash + "read --device 1-1.2 --address 0x08000000 --length 5000 -o " + back.string()).exitCode, 0);
    EXPECT_EQ(*readFileBytes(back), pattern(5000, 7));
}

TEST(TteFlash, SimReplaceAndRemoveSwapBoards) {
    TempDir dir;
    const auto sim = (dir.path() / "sim").string();
    const std::string flash = tool() + " --sim " + sim + " ";
    ASSERT_EQ(runShell(tool() + " sim create " + sim + " --count 2").exitCode, 0);
    const auto before = uids(runShell(flash + "uid").output);
    const auto replaced = runShell(flash + "sim replace 1-1.2");
    ASSERT_EQ(replaced.exitCode, 0) << replaced.output;
    EXPECT_EQ(replaced.output.rfind("1-1.2: new blank board, unique ID ", 0), 0U) << replaced.output;
    const auto after = uids(runShell(flash + "uid").output);
    EXPECT_EQ(after.at("1-1.1"), before.at("1-1.1"));
    EXPECT_NE(after.at("1-1.2"), before.at("1-1.2"));
    EXPECT_NE(replaced.output.find(after.at("1-1.2")), std::string::npos);
    ASSERT_EQ(runShell(flash + "sim remove 1-1.2").exitCode, 0);
    const auto list = runShell(flash + "list");
    EXPECT_EQ(list.output.find("1-1.2"), std::string::npos) << list.output;
    EXPECT_EQ(runShell(flash + "sim remove 1-1.2").output, "tte-flash: seat 1-1.2 in " + sim + " is empty\n");
    EXPECT_EQ(runShell(flash + "read --device 1-1.2 --address 0x08000000 --length 4 -o /dev/null").output,
              "tte-flash: no simulated device at port 1-1.2 in " + sim + "\n");
    EXPECT_EQ(runShell(tool() + " sim replace 1-1.2").output,
              "tte-flash: sim replace needs the simulator directory: tte-flash --sim DIR sim replace PORT\n");
    EXPECT_EQ(runShell(flash + "sim replace 1-1.x").output, "tte-flash: \"1-1.x\" is not a port path\n");
    ASSERT_EQ(runShell(flash + "sim replace 1-1.2").exitCode, 0);
    EXPECT_EQ(uids(runShell(flash + "uid").output).size(), 2U);

    // Level 2 takes the board out of DFU mode for good.
    const auto two = runShell(flash + "protect --level 2 --irreversible --device 1-1.2");
    ASSERT_EQ(two.exitCode, 0) << two.output;
    EXPECT_NE(two.output.find("1-1.2: RDP level 0 -> level 2 (permanent; the bootloader no longer starts)"),
              std::string::npos)
        << two.output;
    EXPECT_EQ(runShell(flash + "list").output.find("1-1.2"), std::string::npos);
    EXPECT_EQ(runShell(tool() + " sim set " + sim + " 1-1.2 --dfu").output,
              "tte-flash: the board at 1-1.2 is at RDP level 2: its bootloader never starts again\n");
}

TEST(TteFlash, ConcurrentProcessesNeverInterleaveOnOneDevice) {
    TempDir dir;
    const auto sim = (dir.path() / "sim").string();
    ASSERT_EQ(runShell(tool() + " sim create " + sim + " --count 1").exitCode, 0);
    const auto a = dir.path() / "a.dfu";
    const auto b = dir.path() / "b.dfu";
    ASSERT_TRUE(writeFileBytes(a, *serializeDfuFile(dfuFileForImage(0x08000000, pattern(200000, 1)))));
    ASSERT_TRUE(writeFileBytes(b, *serializeDfuFile(dfuFileForImage(0x08000000, pattern(200000, 2)))));
    const std::string w = tool() + " --sim " + sim + " write --device 1-1.1 ";
    const auto both = runShell("(" + w + a.string() + " > " + (dir.path() / "a.out").string() + " 2>&1; echo a=$? >> " +
                          (dir.path() / "a.out").string() + ") & " + w + b.string() + " 2>&1; echo b=$?; wait; cat " +
                          (dir.path() / "a.out").string());
    // Each process either wrote and verified its whole image or was refused as busy.
    const bool aOk = both.output.find("a=0") != std::string::npos;
    const bool bOk = both.output.find("b=0") != std::string::npos;
    EXPECT_TRUE(aOk || bOk) << both.output;
    if (!(aOk && bOk)) {
        EXPECT_NE(both.output.find("device busy: another process has it open"), std::string::npos) << both.output;
    }
    const auto back = dir.path() / "back.bin";
    ASSERT_EQ(runShell(tool() + " --sim " + sim + " read --address 0x08000000 --length 200000 -o " + back.string()).exitCode, 0);
    const auto got = *readFileBytes(back);
    EXPECT_TRUE(got == pattern(200000, 1) || got == pattern(200000, 2));
}

}  // namespace
}  // namespace tte::flasher
