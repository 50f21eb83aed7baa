// The firmware's machine-readable console lines, exactly as tests and people read them.
#include "tte/device/console_lines.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "support/fakes/device.h"

namespace tte::device {
namespace {

TEST(ConsoleLines, BootOk) {
    auto block = test::sampleBlock();
    block.msId = 0x00ABCDEF;
    EXPECT_EQ(std::string(bootOkLine(block).view()),
              "TTE BOOT OK ms=tte-ABCDEF.net devid=abcdef01 urn=urn:dev:ops:32473-Sensor.v1-00000000abcdef01 "
              "msfp=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
}

TEST(ConsoleLines, BootFail) {
    protocol::BlockFault fault;
    EXPECT_EQ(std::string(bootFailLine(protocol::BlockError::crc, fault).view()), "TTE BOOT FAIL reason=crc");
    EXPECT_EQ(std::string(bootFailLine(protocol::BlockError::blank, fault).view()), "TTE BOOT FAIL reason=blank");
    fault.field = "devUrn";
    EXPECT_EQ(std::string(bootFailLine(protocol::BlockError::field, fault).view()),
              "TTE BOOT FAIL reason=field field=devUrn");
}

TEST(ConsoleLines, ControllerAndLed) {
    protocol::ControllerRecord r;
    std::strcpy(r.address, "2001:db8::7");
    r.port = 5684;
    r.sequence = 3;
    std::memset(r.fingerprint, 0x0f, sizeof r.fingerprint);
    std::string fp;
    for (int i = 0; i < 32; ++i) fp += "0f";
    EXPECT_EQ(std::string(controllerLine(r).view()), "TTE CONTROLLER ip=2001:db8::7 port=5684 fp=" + fp + " seq=3");
    EXPECT_EQ(std::string(ledEdgeLine(true, 18446744073709551615ULL).view()), "LED 1 t=18446744073709551615");
    EXPECT_EQ(std::string(ledEdgeLine(false, 0).view()), "LED 0 t=0");
    EXPECT_EQ(std::string(ledGapLine(1234).view()), "LED GAP t=1234");
}

TEST(ConsoleLines, LineCutsAtCapacity) {
    Line line;
    for (int i = 0; i < 100; ++i) line.text("abcd");
    EXPECT_EQ(line.view().size(), Line::kCapacity);
}

}  // namespace
}  // namespace tte::device
