// parseBlock()/serializeBlock() messages and setText() (docs/PROTOCOL.md §9).
#include "tte/protocol/block.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tte/protocol/freestanding/crc32.h"

namespace tte::protocol {
namespace {

ProvisioningBlock validBlock() {
    ProvisioningBlock b;
    b.msId = 1;
    b.devId = 0xabcdef01;
    b.msPort = 5684;
    EXPECT_TRUE(setText(b.msAddress, "tte-000001.net", "MS address"));
    EXPECT_TRUE(setText(b.devUrn, "urn:dev:ops:32473-Sensor-00000000abcdef01", "Dev URN"));
    b.msFingerprint[0] = 1;
    b.privateKey[0] = 1;
    b.certLength = 2;
    b.cert[0] = 0x30;
    return b;
}

std::string messageOf(std::span<const std::uint8_t> raw) {
    auto r = parseBlock(raw);
    return r ? "(accepted)" : r.error().message;
}

TEST(BlockHosted, RoundTripsAndNamesEachFailure) {
    auto raw = serializeBlock(validBlock());
    ASSERT_TRUE(raw);
    auto back = parseBlock(*raw);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_STREQ(back->msAddress, "tte-000001.net");

    EXPECT_EQ(messageOf(std::span(*raw).first(100)), "provisioning block: 100 bytes, expected 2048");
    std::vector<std::uint8_t> blank(kBlockSize, 0xFF);
    EXPECT_EQ(messageOf(blank), "provisioning block: blank (erased flash)");
    EXPECT_EQ(parseBlock(blank).error().code, Errc::notFound);
    auto bad = *raw;
    bad[2] = 'X';
    EXPECT_EQ(messageOf(bad), "provisioning block: bad magic (expected TTEB)");
    bad = *raw;
    bad[4] = 3;
    EXPECT_EQ(messageOf(bad), "provisioning block: version 3 is not supported (expected 1, or 2 for DTLS-PSK)");
    EXPECT_EQ(parseBlock(bad).error().code, Errc::unsupported);
    bad = *raw;
    bad[4] = 2;  // the mode is read after the CRC: a version-2 block with a good CRC, no PSK flag
    const std::uint32_t crc = crc32(std::span<const std::uint8_t>(bad).first(2044));
    for (int i = 0; i < 4; ++i) bad[2044 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
    EXPECT_EQ(messageOf(bad), "provisioning block: version 2 without the PSK flag");
    EXPECT_EQ(parseBlock(bad).error().code, Errc::corrupt);
    bad = *raw;
    bad[7] = 0x10;
    EXPECT_EQ(messageOf(bad), "provisioning block: size field 4096, expected 2048");
    bad = *raw;
    bad[100] ^= 1;
    const std::uint32_t stored = crc32(std::span<const std::uint8_t>(*raw).first(2044));
    const std::uint32_t computed = crc32(std::span<const std::uint8_t>(bad).first(2044));
    char expected[96];
    std::snprintf(expected, sizeof expected, "provisioning block: CRC mismatch (stored 0x%08x, computed 0x%08x)",
                  stored, computed);
    EXPECT_EQ(messageOf(bad), expected);
    EXPECT_EQ(parseBlock(bad).error().code, Errc::corrupt);
}

TEST(BlockHosted, RefusesToSerializeABadField) {
    ProvisioningBlock b = validBlock();
    b.devId = 2;
    EXPECT_EQ(serializeBlock(b).error().message, "provisioning block: invalid field devId");
}

TEST(BlockHosted, SetTextChecksTheField) {
    char field[8];
    EXPECT_EQ(setText(field, "12345678", "MS address").error().message, "MS address: longer than 7 bytes");
    EXPECT_EQ(setText(field, "", "MS address").error().message, "MS address: empty");
    EXPECT_EQ(setText(field, "a b", "MS address").error().message,
              "MS address: only printable ASCII without spaces is allowed");
    ASSERT_TRUE(setText(field, "1234567", "MS address"));
    EXPECT_STREQ(field, "1234567");
}

}  // namespace
}  // namespace tte::protocol
