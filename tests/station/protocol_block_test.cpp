// The block adapter: what the station encodes, tte::protocol (and so the firmware) decodes.
#include <gtest/gtest.h>

#include <cstring>

#include "support/fakes/station.h"
#include "tte/protocol/freestanding/block.h"
#include "tte/protocol/ids.h"
#include "tte/station/adapters/protocol_block.h"

namespace tte::station {
namespace {

TEST(ProtocolBlock, RoundTripsThroughTheProtocolDecoder) {
    fakes::FakeKeys keys;
    const std::string urn = protocol::makeDevUrn(32473, "sensor", protocol::DevId{0x1234abcd})->text;
    auto key = keys.newDeviceKey(urn);
    ASSERT_TRUE(key);
    auto otp = keys.newOtp();
    BlockFields f{1, 0x1234abcd, 5684, true, "127.0.0.1", std::string(64, 'a'), urn, &*otp, &*key};
    ProtocolBlockEncoder enc;
    auto block = enc.encode(f);
    ASSERT_TRUE(block) << block.error().toString();
    ASSERT_EQ(block->size(), protocol::kBlockSize);
    protocol::ProvisioningBlock b;
    protocol::BlockFault fault;
    // The fake's "certificate" is an SPKI (a DER SEQUENCE), which the field check accepts.
    ASSERT_EQ(protocol::decodeBlock(block->bytes(), b, fault), protocol::BlockError::ok) << fault.field;
    EXPECT_EQ(b.devId, 0x1234abcdu);
    EXPECT_EQ(b.msId, 1u);
    EXPECT_EQ(b.flags, protocol::kBlockFlagLed);
    EXPECT_STREQ(b.devUrn, urn.c_str());
    EXPECT_STREQ(b.msAddress, "127.0.0.1");
    EXPECT_EQ(b.otp, protocol::Otp::fromBytes(otp->bytes())->value());
    EXPECT_EQ(0, std::memcmp(b.privateKey, key->privateScalar.bytes().data(), 32));
    EXPECT_EQ(enc.blockAddress(), 0x08008000u);
    EXPECT_EQ(enc.nvmAddress(), 0x0800C000u);
    protocol::wipeBlock(b);
}

TEST(ProtocolBlock, NamesTheFieldThatDoesNotFit) {
    fakes::FakeKeys keys;
    const std::string urn = protocol::makeDevUrn(32473, "sensor", protocol::DevId{1})->text;
    auto key = keys.newDeviceKey(urn);
    auto otp = keys.newOtp();
    ProtocolBlockEncoder enc;
    BlockFields f{1, 1, 5684, false, std::string(64, 'h'), std::string(64, 'a'), urn, &*otp, &*key};
    auto block = enc.encode(f);
    ASSERT_FALSE(block);
    EXPECT_EQ(block.error().message, "provisioning block: field msAddress does not fit");
    f.msAddress = "ms.example";
    f.devId = 2;  // not the URN's
    block = enc.encode(f);
    ASSERT_FALSE(block);
    EXPECT_EQ(block.error().message, "provisioning block: field devId does not fit");
}

}  // namespace
}  // namespace tte::station
