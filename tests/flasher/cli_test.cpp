// tte-flash end to end against a simulator directory: sim create, list, pack, write (gang,
// verify, leave), read, bad input as one-line errors, two processes on one device.
#include <gtest/gtest.h>

#include <cstdlib>

#include "sim_fixture.h"
#include "test_util.h"
#include "tte/flasher/dfu_file.h"

namespace tte::flasher {
namespace {

using testing::pattern;
using testing::run;
using testing::TempDir;

std::string tool() {
    const char* bin = std::getenv("TTE_BIN");
    return std::string(bin ? bin : "build/bin") + "/tte-flash";
}

TEST(TteFlash, PackWriteLeaveReadOnSimulatedDevices) {
    TempDir dir;
    const auto sim = (dir.path() / "sim").string();
    ASSERT_EQ(run(tool() + " sim create " + sim + " --count 3").exitCode, 0);
    const auto list = run(tool() + " --sim " + sim + " list");
    ASSERT_EQ(list.exitCode, 0) << list.output;
    EXPECT_NE(list.output.find("1-1.3        0483:df11  serial "), std::string::npos) << list.output;
    const auto bin = dir.path() / "fw.bin";
    ASSERT_TRUE(writeFileBytes(bin, pattern(40000, 3)));
    const auto dfu = (dir.path() / "fw.dfu").string();
    ASSERT_EQ(run(tool() + " pack " + bin.string() + " --address 0x08000000 -o " + dfu).exitCode, 0);
    EXPECT_EQ(run("dfu-suffix -c " + dfu).exitCode, 0);
    const auto write = run(tool() + " --sim " + sim + " write " + dfu + " --device 1-1.1 --device 1-1.3 --verify --leave");
    ASSERT_EQ(write.exitCode, 0) << write.output;
    EXPECT_NE(write.output.find("1-1.3: ok, 40000 bytes, sectors erased 3, verified, started"), std::string::npos)
        << write.output;
    // 1-1.1 and 1-1.3 run their firmware now; only 1-1.2 is still in DFU mode.
    const auto after = run(tool() + " --sim " + sim + " list");
    EXPECT_EQ(after.output.find("1-1.1 "), std::string::npos) << after.output;
    EXPECT_NE(after.output.find("1-1.2 "), std::string::npos) << after.output;
    ASSERT_EQ(run(tool() + " sim set " + sim + " 1-1.3 --dfu").exitCode, 0);
    const auto back = dir.path() / "back.bin";
    const auto read = run(tool() + " --sim " + sim + " read --device 1-1.3 --address 0x08000000 --length 40000 -o " +
                          back.string());
    ASSERT_EQ(read.exitCode, 0) << read.output;
    EXPECT_EQ(*readFileBytes(back), pattern(40000, 3));
}

TEST(TteFlash, BadInputGivesOneLineReasons) {
    TempDir dir;
    const auto sim = (dir.path() / "sim").string();
    ASSERT_EQ(run(tool() + " sim create " + sim + " --count 1").exitCode, 0);
    const auto bad = dir.path() / "bad.dfu";
    auto bytes = *serializeDfuFile(dfuFileForImage(0x08000000, pattern(100, 1)));
    bytes[300] ^= 0xFF;
    ASSERT_TRUE(writeFileBytes(bad, bytes));
    const auto crc = run(tool() + " --sim " + sim + " write " + bad.string());
    EXPECT_EQ(crc.exitCode, 1);
    EXPECT_EQ(crc.output.rfind("tte-flash: " + bad.string() + ": DfuSe file: CRC mismatch: suffix says 0x", 0), 0U)
        << crc.output;
    EXPECT_EQ(std::count(crc.output.begin(), crc.output.end(), '\n'), 1);
    const auto outside = dir.path() / "outside.dfu";
    ASSERT_TRUE(writeFileBytes(outside, *serializeDfuFile(dfuFileForImage(0x1FFFC000, pattern(16, 1)))));
    EXPECT_EQ(run(tool() + " --sim " + sim + " write " + outside.string()).output,
              "tte-flash: slot 1-1.1: segment at 0x1fffc000: address 0x1fffc000 is outside Internal Flash\n");
    EXPECT_EQ(run(tool() + " pack x.bin --address 08x -o y.dfu").output,
              "tte-flash: --address \"08x\" is not a 32-bit number (decimal or 0x-hex)\n");
    EXPECT_EQ(run(tool() + " frobnicate").exitCode, 2);
    EXPECT_EQ(run(tool() + " --help").exitCode, 0);
}

TEST(TteFlash, WriteProtectedAndReadProtectedDevicesFailAlone) {
    TempDir dir;
    const auto sim = (dir.path() / "sim").string();
    ASSERT_EQ(run(tool() + " sim create " + sim + " --count 3").exitCode, 0);
    ASSERT_EQ(run(tool() + " sim set " + sim + " 1-1.1 --wrp 0x1").exitCode, 0);
    ASSERT_EQ(run(tool() + " sim set " + sim + " 1-1.2 --rdp 1").exitCode, 0);
    const auto dfu = dir.path() / "fw.dfu";
    ASSERT_TRUE(writeFileBytes(dfu, *serializeDfuFile(dfuFileForImage(0x08000000, pattern(5000, 2)))));
    const auto write = run(tool() + " --sim " + sim + " write " + dfu.string());
    EXPECT_EQ(write.exitCode, 1);
    EXPECT_NE(write.output.find("tte-flash: slot 1-1.1: verify failed"), std::string::npos) << write.output;
    EXPECT_NE(write.output.find("tte-flash: slot 1-1.2: erase sector at 0x08000000: the device is read-protected "
                                "(RDP level 1)"),
              std::string::npos)
        << write.output;
    EXPECT_NE(write.output.find("1-1.3: ok, 5000 bytes"), std::string::npos) << write.output;
}

TEST(TteFlash, ConcurrentProcessesNeverInterleaveOnOneDevice) {
    TempDir dir;
    const auto sim = (dir.path() / "sim").string();
    ASSERT_EQ(run(tool() + " sim create " + sim + " --count 1").exitCode, 0);
    const auto a = dir.path() / "a.dfu";
    const auto b = dir.path() / "b.dfu";
    ASSERT_TRUE(writeFileBytes(a, *serializeDfuFile(dfuFileForImage(0x08000000, pattern(200000, 1)))));
    ASSERT_TRUE(writeFileBytes(b, *serializeDfuFile(dfuFileForImage(0x08000000, pattern(200000, 2)))));
    const std::string w = tool() + " --sim " + sim + " write --device 1-1.1 ";
    const auto both = run("(" + w + a.string() + " > " + (dir.path() / "a.out").string() + " 2>&1; echo a=$? >> " +
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
    ASSERT_EQ(run(tool() + " --sim " + sim + " read --address 0x08000000 --length 200000 -o " + back.string()).exitCode, 0);
    const auto got = *readFileBytes(back);
    EXPECT_TRUE(got == pattern(200000, 1) || got == pattern(200000, 2));
}

}  // namespace
}  // namespace tte::flasher
