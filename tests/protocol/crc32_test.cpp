// CRC-32 against the standard check value and zlib's results.
#include "tte/protocol/freestanding/crc32.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace tte::protocol {
namespace {

std::span<const std::uint8_t> bytesOf(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Crc32, StandardCheckValue) { EXPECT_EQ(crc32(bytesOf("123456789")), 0xCBF43926U); }

TEST(Crc32, EmptyIsZero) { EXPECT_EQ(crc32({}), 0U); }

TEST(Crc32, MatchesZlibForKnownStrings) {
    // python3 -c 'import zlib; print(hex(zlib.crc32(b"The quick brown fox jumps over the lazy dog")))'
    EXPECT_EQ(crc32(bytesOf("The quick brown fox jumps over the lazy dog")), 0x414FA339U);
    const std::vector<std::uint8_t> zeros(32, 0);  // zlib.crc32(bytes(32))
    EXPECT_EQ(crc32(zeros), 0x190A55ADU);
}

TEST(Crc32, UpdateContinues) {
    const auto all = bytesOf("123456789");
    EXPECT_EQ(crc32Update(crc32(all.first(4)), all.subspan(4)), crc32(all));
}

}  // namespace
}  // namespace tte::protocol
