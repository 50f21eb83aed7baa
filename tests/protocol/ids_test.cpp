// MS ID, host name, Dev ID, OTP and Dev URN (docs/PROTOCOL.md §1), good inputs.
#include "tte/protocol/ids.h"

#include <gtest/gtest.h>

#include <sstream>

namespace tte::protocol {
namespace {

TEST(MsId, HostNameOfTheDraftsExample) {
    EXPECT_EQ(msHostName(MsId{10}), "tte-00000A.net");
    EXPECT_EQ(msHostName(MsId{1}), "tte-000001.net");
    EXPECT_EQ(msHostName(MsId{0xFFFFFF}), "tte-FFFFFF.net");
}

TEST(MsId, ParsesEitherCase) {
    EXPECT_EQ(parseMsHostName("tte-00000A.net", MsIdUse::operational)->value, 10U);
    EXPECT_EQ(parseMsHostName("TTE-00000a.NET", MsIdUse::operational)->value, 10U);
    EXPECT_EQ(parseMsHostName("tte-abcdef.net", MsIdUse::operational)->value, 0xabcdefU);
}

TEST(MsId, ZeroOnlyForExamples) {
    EXPECT_FALSE(makeMsId(0, MsIdUse::operational));
    EXPECT_EQ(makeMsId(0, MsIdUse::example)->value, 0U);
    EXPECT_EQ(parseMsHostName("tte-000000.net", MsIdUse::example)->value, 0U);
    EXPECT_EQ(makeMsId(0x1000000, MsIdUse::example).error().code, Errc::outOfRange);
}

TEST(DevId, HexRoundTrip) {
    EXPECT_EQ(DevId{0xabcdef01}.hex(), "abcdef01");
    EXPECT_EQ(parseDevId("ABCDEF01")->value, 0xabcdef01U);
    EXPECT_EQ(DevId{1}.hex(), "00000001");
}

TEST(Otp, StreamsAsStarsAndParses) {
    const Otp otp = *parseOtp("123456789ABCDEF0");
    EXPECT_EQ(otp.value(), 0x123456789abcdef0ULL);
    EXPECT_EQ(otp.hex(), "123456789abcdef0");
    std::ostringstream os;
    os << otp;
    EXPECT_EQ(os.str(), "***");
    EXPECT_EQ(otp, Otp(0x123456789abcdef0ULL));
}

TEST(DevUrn, ParsesAndTakesTheLow32BitsAsDevId) {
    auto urn = parseDevUrn("urn:dev:ops:32473-Sensor.v1-00000001ABCDEF01");
    ASSERT_TRUE(urn) << urn.error().message;
    EXPECT_EQ(urn->pen, 32473U);
    EXPECT_EQ(urn->product, "Sensor.v1");
    EXPECT_EQ(urn->serial, 0x00000001abcdef01ULL);
    EXPECT_EQ(urn->devId().value, 0xabcdef01U);
    EXPECT_EQ(urn->text, "urn:dev:ops:32473-Sensor.v1-00000001abcdef01");  // canonical serial
}

TEST(DevUrn, MakeWritesTheDevIdAsAnEightDigitSerialAndParsesBack) {
    auto urn = makeDevUrn(32473, "tte_sensor", DevId{0xabcdef01});
    ASSERT_TRUE(urn);
    EXPECT_EQ(urn->text, "urn:dev:ops:32473-tte_sensor-abcdef01");
    EXPECT_EQ(*parseDevUrn(urn->text), *urn);
    EXPECT_EQ(makeDevUrn(32473, "p", DevId{0x2a})->text, "urn:dev:ops:32473-p-0000002a");
    EXPECT_EQ(makeDevUrn(0, "p", DevId{1}).error().message, "Dev URN: PEN 0 is not assigned");
}

TEST(DevUrn, SixteenDigitSerialsStayReadable) {
    // The form makeDevUrn wrote before the 8-digit decision: still parsed, its Dev ID the low
    // 32 bits, its text kept (the URN a device was provisioned with is its name).
    auto urn = parseDevUrn("urn:dev:ops:32473-tte_sensor-00000000ABCDEF01");
    ASSERT_TRUE(urn);
    EXPECT_EQ(urn->devId(), DevId{0xabcdef01});
    EXPECT_EQ(urn->text, "urn:dev:ops:32473-tte_sensor-00000000abcdef01");
    EXPECT_NE(*urn, *makeDevUrn(32473, "tte_sensor", DevId{0xabcdef01}));  // another name for the same Dev ID
}

TEST(Otp, FromEightBigEndianBytes) {
    const std::uint8_t bytes[] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
    EXPECT_EQ(Otp::fromBytes(bytes)->value(), 0x123456789abcdef0ULL);
    EXPECT_FALSE(Otp::fromBytes(std::span(bytes).first(7)));
}

}  // namespace
}  // namespace tte::protocol
