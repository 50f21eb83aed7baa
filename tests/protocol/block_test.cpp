// Provisioning block layout, round trip and every failure kind of the strict parser (§9).
#include "tte/protocol/freestanding/block.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "tte/protocol/freestanding/crc32.h"

namespace tte::protocol {
namespace {

using Bytes = std::array<std::uint8_t, kBlockSize>;

ProvisioningBlock validBlock() {
    ProvisioningBlock b;
    b.msId = 1;
    b.devId = 0xabcdef01;
    b.msPort = 5684;
    b.flags = kBlockFlagLed;
    std::strcpy(b.msAddress, "127.0.0.1");
    for (std::size_t i = 0; i < 32; ++i) b.msFingerprint[i] = static_cast<std::uint8_t>(i + 1);
    std::strcpy(b.devUrn, "urn:dev:ops:32473-Sensor.v1-00000000abcdef01");
    b.otp = 0x123456789abcdef0ULL;
    b.privateKey[31] = 7;
    b.certLength = 3;
    b.cert[0] = 0x30;
    b.cert[1] = 0x01;
    b.cert[2] = 0x00;
    return b;
}

Bytes encoded(const ProvisioningBlock& b) {
    Bytes out{};
    EXPECT_EQ(encodeBlock(b, out), BlockError::ok);
    return out;
}

void fixCrc(Bytes& raw) {
    const std::uint32_t c = crc32(std::span<const std::uint8_t>(raw).first(2044));
    for (int i = 0; i < 4; ++i) raw[2044 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(c >> (8 * i));
}

std::string decodeFault(const Bytes& raw) {
    ProvisioningBlock b;
    BlockFault fault;
    const BlockError e = decodeBlock(raw, b, fault);
    std::string s = blockErrorName(e);
    if (e == BlockError::field) s += std::string(":") + fault.field;
    return s;
}

TEST(Block, LayoutMatchesTheDocument) {
    const Bytes raw = encoded(validBlock());
    EXPECT_EQ(std::string(raw.begin(), raw.begin() + 4), "TTEB");
    EXPECT_EQ(raw[4], 1);  // version, little-endian
    EXPECT_EQ(raw[5], 0);
    EXPECT_EQ(raw[6], 0x00);  // 2048 = 0x0800
    EXPECT_EQ(raw[7], 0x08);
    EXPECT_EQ(raw[12], 0x01);  // Dev ID little-endian
    EXPECT_EQ(raw[15], 0xab);
    EXPECT_EQ(raw[16], 0x34);  // 5684 = 0x1634
    EXPECT_EQ(raw[20], '1');
    EXPECT_EQ(raw[84], 1);
    EXPECT_EQ(raw[116], 'u');
    EXPECT_EQ(raw[244], 0x12);  // OTP big-endian
    EXPECT_EQ(raw[251], 0xf0);
    EXPECT_EQ(raw[287], 7);
    EXPECT_EQ(raw[288], 3);
    EXPECT_EQ(raw[290], 0x30);
    const std::uint32_t c = crc32(std::span<const std::uint8_t>(raw).first(2044));
    EXPECT_EQ(raw[2044], c & 0xFF);
    EXPECT_EQ(raw[2047], c >> 24);
}

TEST(Block, RoundTrips) {
    const ProvisioningBlock in = validBlock();
    const Bytes raw = encoded(in);
    ProvisioningBlock out;
    ASSERT_EQ(decodeBlock(raw, out), BlockError::ok);
    EXPECT_EQ(out.msId, in.msId);
    EXPECT_EQ(out.devId, in.devId);
    EXPECT_EQ(out.msPort, in.msPort);
    EXPECT_EQ(out.flags, in.flags);
    EXPECT_STREQ(out.msAddress, in.msAddress);
    EXPECT_STREQ(out.devUrn, in.devUrn);
    EXPECT_EQ(out.otp, in.otp);
    EXPECT_EQ(0, std::memcmp(out.msFingerprint, in.msFingerprint, 32));
    EXPECT_EQ(0, std::memcmp(out.privateKey, in.privateKey, 32));
    EXPECT_EQ(out.certLength, 3);
    EXPECT_EQ(0, std::memcmp(out.cert, in.cert, sizeof in.cert));
    wipeBlock(out);
    EXPECT_EQ(out.otp, 0U);
    EXPECT_EQ(out.privateKey[31], 0);
}

TEST(Block, ReportsHeaderFailuresInOrder) {
    Bytes raw{};
    raw.fill(0xFF);
    EXPECT_EQ(decodeFault(raw), "blank");
    raw = encoded(validBlock());
    raw[0] = 'X';
    EXPECT_EQ(decodeFault(raw), "magic");
    raw = encoded(validBlock());
    raw[4] = 3;
    EXPECT_EQ(decodeFault(raw), "version");
    raw = encoded(validBlock());
    raw[7] = 0x04;
    EXPECT_EQ(decodeFault(raw), "size");
    raw = encoded(validBlock());
    raw[1000] ^= 0x40;
    ProvisioningBlock b;
    BlockFault fault;
    EXPECT_EQ(decodeBlock(raw, b, fault), BlockError::crc);
    EXPECT_NE(fault.storedCrc, fault.computedCrc);
    EXPECT_EQ(decodeBlock(std::span<const std::uint8_t>(raw).first(2047), b), BlockError::size);
}

// Each case breaks one field of a valid raw block (and fixes the CRC) and names the field.
TEST(Block, NamesTheFirstBadField) {
    struct Case {
        std::size_t offset;
        std::uint8_t value;
        const char* expected;
    };
    const Case cases[] = {
        {8, 0x00, "field:msId"},          {11, 0x01, "field:msId"},     {16, 0x00, "field:msPort"},
        {18, 0x04, "field:flags"},        {20, 0x00, "field:msAddress"}, {21, 0x20, "field:msAddress"},
        {83, 'x', "field:msAddress"},     {30, 'x', "field:msAddress"}, {116, 'U', "field:devUrn"},
        {12, 0x02, "field:devId"},        {287, 0x00, "field:privateKey"}, {252, 0x01, "field:reserved"},
        {288, 0x00, "field:certLength"},  {290, 0x31, "field:cert"},    {293, 0x01, "field:cert"},
        {2000, 0x01, "field:reserved"},
    };
    for (const Case& c : cases) {
        Bytes raw = encoded(validBlock());
        raw[c.offset] = c.value;
        if (c.offset == 17) raw[16] = 0;
        if (c.offset == 16) raw[17] = 0;  // port 0
        fixCrc(raw);
        EXPECT_EQ(decodeFault(raw), c.expected) << "offset " << c.offset;
    }
}

TEST(Block, RejectsAllZeroFingerprintAndOversizedCertificate) {
    ProvisioningBlock b = validBlock();
    std::memset(b.msFingerprint, 0, 32);
    Bytes out{};
    BlockFault fault;
    EXPECT_EQ(encodeBlock(b, out, fault), BlockError::field);
    EXPECT_STREQ(fault.field, "msFingerprint");
    b = validBlock();
    b.certLength = 1025;
    EXPECT_EQ(encodeBlock(b, out, fault), BlockError::field);
    EXPECT_STREQ(fault.field, "certLength");
}

TEST(Block, RejectsAPrivateKeyNotBelowTheP256Order) {
    ProvisioningBlock b = validBlock();
    const std::uint8_t n[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
                                0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
    std::memcpy(b.privateKey, n, 32);
    EXPECT_STREQ(checkBlockFields(b), "privateKey");
    b.privateKey[31] = 0x50;  // n - 1
    EXPECT_EQ(checkBlockFields(b), nullptr);
}

ProvisioningBlock validPskBlock() {
    ProvisioningBlock b = validBlock();
    std::memset(b.privateKey, 0, sizeof b.privateKey);
    std::memset(b.cert, 0, sizeof b.cert);
    b.certLength = 0;
    b.flags = kBlockFlagLed | kBlockFlagPsk;
    for (std::size_t i = 0; i < kPskSize; ++i) b.psk[i] = static_cast<std::uint8_t>(0xA0 + i);
    return b;
}

// §11: a DTLS-PSK block is version 2 with the PSK at 1314 and no key pair.
TEST(PskBlock, IsVersionTwoWithThePskAt1314AndRoundTrips) {
    const ProvisioningBlock in = validPskBlock();
    const Bytes raw = encoded(in);
    EXPECT_EQ(raw[4], 2);
    EXPECT_EQ(raw[18], 0x03);  // flags: LED | PSK
    EXPECT_EQ(raw[1314], 0xA0);
    EXPECT_EQ(raw[1345], 0xA0 + 31);
    EXPECT_EQ(raw[1346], 0);
    for (std::size_t i = 256; i < 1314; ++i) ASSERT_EQ(raw[i], 0) << i;  // no key, no certificate
    ProvisioningBlock out;
    ASSERT_EQ(decodeBlock(raw, out), BlockError::ok);
    EXPECT_TRUE(isPskBlock(out));
    EXPECT_EQ(0, std::memcmp(out.psk, in.psk, kPskSize));
    EXPECT_EQ(out.certLength, 0);
    EXPECT_STREQ(out.devUrn, in.devUrn);
    wipeBlock(out);
    for (std::uint8_t byte : out.psk) ASSERT_EQ(byte, 0);
}

TEST(PskBlock, NamesEachBadFieldAndAModeThatDoesNotMatchTheVersion) {
    ProvisioningBlock b = validPskBlock();
    std::memset(b.psk, 0, kPskSize);
    EXPECT_STREQ(checkBlockFields(b), "psk");
    b = validPskBlock();
    b.privateKey[31] = 7;
    EXPECT_STREQ(checkBlockFields(b), "privateKey");
    b = validPskBlock();
    b.certLength = 1;
    EXPECT_STREQ(checkBlockFields(b), "certLength");
    b = validPskBlock();
    b.cert[5] = 1;
    EXPECT_STREQ(checkBlockFields(b), "cert");
    b = validBlock();  // certificate mode: a PSK is not allowed beside the key pair
    b.psk[0] = 1;
    EXPECT_STREQ(checkBlockFields(b), "psk");

    Bytes raw = encoded(validPskBlock());
    raw[1346] = 1;  // the reserved bytes after the PSK
    fixCrc(raw);
    EXPECT_EQ(decodeFault(raw), "field:reserved");
    raw = encoded(validPskBlock());
    raw[18] = 0x01;  // version 2 without the PSK flag
    fixCrc(raw);
    EXPECT_EQ(decodeFault(raw), "version");
    raw = encoded(validBlock());
    raw[18] = 0x03;  // version 1 with the PSK flag
    fixCrc(raw);
    EXPECT_EQ(decodeFault(raw), "version");
    raw = encoded(validBlock());
    raw[1314] = 1;  // version 1: the PSK area is reserved
    fixCrc(raw);
    EXPECT_EQ(decodeFault(raw), "field:reserved");
}

TEST(DevUrnCheck, AcceptsTheRuleAndRejectsTheRest) {
    std::uint64_t serial = 0;
    auto check = [&](std::string_view s) { return checkDevUrn(std::span<const char>(s.data(), s.size()), serial); };
    EXPECT_TRUE(check("urn:dev:ops:32473-Sensor.v1-00000000abcdef01"));
    EXPECT_EQ(serial, 0xabcdef01U);
    EXPECT_TRUE(check("urn:dev:ops:1-a-ABCDEF01"));
    EXPECT_FALSE(check("urn:dev:ops:032473-S-abcdef01"));  // leading zero
    EXPECT_FALSE(check("urn:dev:ops:4294967296-S-abcdef01"));  // PEN over 32 bits
    EXPECT_FALSE(check("urn:dev:ops:1--abcdef01"));  // empty product
    EXPECT_FALSE(check("urn:dev:ops:1-a-bcdef01"));   // 7 digits
    EXPECT_FALSE(check("urn:dev:ops:1-a-00000000abcdef01a"));  // 17 digits
    EXPECT_FALSE(check("urn:dev:ops:1-a-abcdefgh"));
    EXPECT_FALSE(check("urn:dev:mac:1-a-abcdef01"));
    EXPECT_FALSE(check("urn:dev:ops:1-a-b-abcdef01"));
}

}  // namespace
}  // namespace tte::protocol
