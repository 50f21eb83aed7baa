// DfuSe memory layout strings: parsing, sector look-up, refusal of bad strings and ranges.
#include <gtest/gtest.h>

#include "tte/flasher/memory_layout.h"

namespace tte::flasher {
namespace {

TEST(MemoryLayout, ParsesStm32F405InternalFlash) {
    auto layout = parseMemoryLayout(kStm32F405FlashLayout);
    ASSERT_TRUE(layout) << layout.error().message;
    EXPECT_EQ(layout->name, "Internal Flash");
    ASSERT_EQ(layout->sectors.size(), 12U);
    EXPECT_EQ(layout->sectors[0].address, 0x08000000U);
    EXPECT_EQ(layout->sectors[3].address, 0x0800C000U);
    EXPECT_EQ(layout->sectors[4].address, 0x08010000U);
    EXPECT_EQ(layout->sectors[4].size, 64U * 1024);
    EXPECT_EQ(layout->sectors[5].address, 0x08020000U);
    EXPECT_EQ(layout->sectors[11].end(), 0x08100000U);
    EXPECT_TRUE(layout->sectors[11].readable() && layout->sectors[11].erasable() && layout->sectors[11].writable());
}

TEST(MemoryLayout, ParsesOptionBytesAndMultipleRuns) {
    auto ob = parseMemoryLayout("@Option Bytes  /0x1FFFC000/01*016 e");
    ASSERT_TRUE(ob) << ob.error().message;
    EXPECT_EQ(ob->name, "Option Bytes");
    ASSERT_EQ(ob->sectors.size(), 1U);
    EXPECT_EQ(ob->sectors[0].size, 16U);
    EXPECT_TRUE(ob->sectors[0].readable());
    EXPECT_FALSE(ob->sectors[0].erasable());
    EXPECT_TRUE(ob->sectors[0].writable());
    auto otp = parseMemoryLayout("@OTP Memory /0x1FFF7800/01*512 e,01*016 e");
    ASSERT_TRUE(otp);
    EXPECT_EQ(otp->sectors[1].address, 0x1FFF7A00U);
}

TEST(MemoryLayout, RejectsMalformedStringsWithTheReason) {
    EXPECT_EQ(parseMemoryLayout("Internal Flash /0x0/01*016Kg").error().message,
              "memory layout \"Internal Flash /0x0/01*016Kg\": does not start with '@'");
    EXPECT_EQ(parseMemoryLayout("@X/0x08000000/04*016Kz").error().message,
              "memory layout \"@X/0x08000000/04*016Kz\": unknown memory type 'z'");
    EXPECT_EQ(parseMemoryLayout("@X/0x08000000/04*016Qg").error().message,
              "memory layout \"@X/0x08000000/04*016Qg\": unknown unit 'Q'");
    EXPECT_EQ(parseMemoryLayout("@X/08000000/04*016Kg").error().message,
              "memory layout \"@X/08000000/04*016Kg\": start address \"08000000\" is not 0x-hex");
    EXPECT_EQ(parseMemoryLayout("@X/0xFFFFC000/04*016Kg").error().message,
              "memory layout \"@X/0xFFFFC000/04*016Kg\": memory runs past 4 GiB");
    EXPECT_EQ(parseMemoryLayout("@X/0x08000000/x*016Kg").error().message,
              "memory layout \"@X/0x08000000/x*016Kg\": bad sector count in \"x*016Kg\"");
}

TEST(MemoryLayout, SectorsForARangeAndRefusalOutside) {
    auto layout = parseMemoryLayout(kStm32F405FlashLayout);
    ASSERT_TRUE(layout);
    auto s = layout->sectorsFor(0x08000000, 0x8000 + 1);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->size(), 3U);
    EXPECT_EQ((*s)[2].index, 2);
    auto outside = layout->sectorsFor(0x080FFFFF, 2);
    ASSERT_FALSE(outside);
    EXPECT_EQ(outside.error().code, Errc::outOfRange);
    EXPECT_EQ(outside.error().message, "address 0x08100000 is outside Internal Flash");
    auto ob = parseMemoryLayout("@Option Bytes  /0x1FFFC000/01*016 e");
    ASSERT_TRUE(ob);
    EXPECT_EQ(ob->sectorsFor(0x1FFFC000, 4).error().code, Errc::permissionDenied);
}

}  // namespace
}  // namespace tte::flasher

// Every DFU 1.1 state and status has its spec name and a sentence; unknown values say so.
#include "tte/flasher/dfu.h"

namespace tte::flasher {
namespace {

TEST(DfuNames, EveryStateAndStatusIsNamedAndExplained) {
    EXPECT_EQ(stateName(DfuState::dfuDnloadIdle), "dfuDNLOAD-IDLE");
    EXPECT_EQ(stateName(DfuState::dfuError), "dfuERROR");
    EXPECT_EQ(stateName(11), "state 11");
    for (std::uint8_t s = 1; s <= 15; ++s) {
        EXPECT_EQ(statusName(s).rfind("err", 0), 0U) << int(s);
        EXPECT_FALSE(statusMeaning(s).empty());
    }
    EXPECT_EQ(statusName(16), "status 16");
    // AN3156 host flow: errTARGET means "address not allowed", errVENDOR "read protection active".
    const Error e = statusError({DfuStatus::errTarget, 0, DfuState::dfuError, 0}, "upload block 2");
    EXPECT_EQ(e.code, Errc::outOfRange);
    EXPECT_EQ(e.toString(),
              "upload block 2: the device refused the address: it lies outside the memories its bootloader serves "
              "(errTARGET, state dfuERROR) (DFU errTARGET)");
    const Error rdp = statusError({DfuStatus::errVendor, 0, DfuState::dfuError, 0}, "upload block 2");
    EXPECT_EQ(rdp.code, Errc::permissionDenied);
    EXPECT_EQ(rdp.nativeCode, 11);
    std::uint8_t raw[6];
    encodeStatus({DfuStatus::errWrite, 0x123456, DfuState::dfuError, 0}, raw);
    auto back = decodeStatus(raw, 6);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->pollTimeoutMs, 0x123456U);
    EXPECT_EQ(decodeStatus(raw, 5).error().message, "DFU_GETSTATUS answered 5 bytes, expected 6");
}

}  // namespace
}  // namespace tte::flasher
