#include "tte/base/hex.h"

#include <gtest/gtest.h>

namespace tte {
namespace {

TEST(Hex, RoundTrip) {
    std::vector<std::uint8_t> bytes{0x00, 0x12, 0xab, 0xff};
    EXPECT_EQ(toHex(bytes), "0012abff");
    auto back = fromHex("0012ABff", "test");
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, bytes);
}

TEST(Hex, IntPadded) {
    EXPECT_EQ(toHex(0xabcdef01u, 8), "abcdef01");
    EXPECT_EQ(toHex(10, 6), "00000a");
    EXPECT_EQ(toHex(0x123456789abcdef0ull, 16), "123456789abcdef0");
}

TEST(Hex, ParseIntExactLength) {
    EXPECT_EQ(*parseHexInt("ABCDEF01", 8, "devid"), 0xabcdef01u);
    auto shortOne = parseHexInt("abc", 8, "devid");
    ASSERT_FALSE(shortOne);
    EXPECT_EQ(shortOne.error().message, "devid: expected 8 hex digits, got 3");
    auto bad = parseHexInt("abcdefg1", 8, "devid");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "devid: 'g' at position 7 is not a hex digit");
}

TEST(Hex, OddLengthRejected) {
    auto r = fromHex("abc", "fingerprint");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalidArgument);
    EXPECT_EQ(r.error().message, "fingerprint: odd number of hex digits (3)");
}

}  // namespace
}  // namespace tte
