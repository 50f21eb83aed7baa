// The freestanding CBOR reader and writer of CoAP (the device's) against nlohmann::json's
// independent CBOR codec: the MotherShip answer of docs/PROTOCOL.md §7 and the check-in
// request of §8.
#include "tte/protocol/freestanding/coap_messages.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tte::protocol {
namespace {

const std::string kFp = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

std::vector<std::uint8_t> cbor(const nlohmann::json& j) { return nlohmann::json::to_cbor(j); }

std::string parse(const std::vector<std::uint8_t>& bytes, ControllerRecord& out) {
    return controllerAnswerErrorName(parseControllerAnswer(bytes, out));
}

std::string parse(const std::vector<std::uint8_t>& bytes) {
    ControllerRecord out;
    return parse(bytes, out);
}

TEST(ControllerAnswer, ParsesTheThreeFields) {
    ControllerRecord out;
    out.sequence = 9;
    ASSERT_EQ(parse(cbor({{"cip", "192.0.2.7"}, {"cport", 5684}, {"cfingerprint", kFp}}), out), "ok");
    EXPECT_STREQ(out.address, "192.0.2.7");
    EXPECT_EQ(out.port, 5684);
    EXPECT_EQ(out.fingerprint[0], 0x00);
    EXPECT_EQ(out.fingerprint[1], 0x11);
    EXPECT_EQ(out.fingerprint[31], 0xFF);
    EXPECT_EQ(out.sequence, 9u);  // untouched
}

TEST(ControllerAnswer, AcceptsIpv6AndUnknownKeysOfAnyShape) {
    ControllerRecord out;
    const auto doc = cbor({{"cip", "2001:db8::1"}, {"cport", 65535}, {"cfingerprint", kFp},
                           {"note", {{"nested", {1, 2, {{"deep", true}}}}, {"f", 1.5}, {"n", -3}}}});
    ASSERT_EQ(parse(doc, out), "ok");
    EXPECT_STREQ(out.address, "2001:db8::1");
    EXPECT_EQ(out.port, 65535);
    EXPECT_EQ(parse(cbor({{"cip", "::ffff:192.0.2.1"}, {"cport", 1}, {"cfingerprint", kFp}})), "ok");
}

TEST(ControllerAnswer, RefusesEachBadField) {
    EXPECT_EQ(parse(cbor({{"cip", "192.0.2.256"}, {"cport", 1}, {"cfingerprint", kFp}})), "bad-ip");
    EXPECT_EQ(parse(cbor({{"cip", "192.0.2"}, {"cport", 1}, {"cfingerprint", kFp}})), "bad-ip");
    EXPECT_EQ(parse(cbor({{"cip", "01.2.3.4"}, {"cport", 1}, {"cfingerprint", kFp}})), "bad-ip");
    EXPECT_EQ(parse(cbor({{"cip", "controller.example"}, {"cport", 1}, {"cfingerprint", kFp}})), "bad-ip");
    EXPECT_EQ(parse(cbor({{"cip", ""}, {"cport", 1}, {"cfingerprint", kFp}})), "bad-ip");
    EXPECT_EQ(parse(cbor({{"cip", 17}, {"cport", 1}, {"cfingerprint", kFp}})), "bad-ip");
    EXPECT_EQ(parse(cbor({{"cip", "1.2.3.4"}, {"cport", 0}, {"cfingerprint", kFp}})), "bad-port");
    EXPECT_EQ(parse(cbor({{"cip", "1.2.3.4"}, {"cport", 65536}, {"cfingerprint", kFp}})), "bad-port");
    EXPECT_EQ(parse(cbor({{"cip", "1.2.3.4"}, {"cport", -1}, {"cfingerprint", kFp}})), "bad-port");
    EXPECT_EQ(parse(cbor({{"cip", "1.2.3.4"}, {"cport", "5684"}, {"cfingerprint", kFp}})), "bad-port");
    EXPECT_EQ(parse(cbor({{"cip", "1.2.3.4"}, {"cport", 1}, {"cfingerprint", kFp.substr(2)}})), "bad-fingerprint");
    EXPECT_EQ(parse(cbor({{"cip", "1.2.3.4"}, {"cport", 1}, {"cfingerprint", "g" + kFp.substr(1)}})),
              "bad-fingerprint");
    EXPECT_EQ(parse(cbor({{"cip", "1.2.3.4"}, {"cport", 1}})), "missing-key");
    EXPECT_EQ(parse(cbor(nlohmann::json::array({1, 2}))), "not-map");
}

TEST(ControllerAnswer, RefusesMalformedCbor) {
    const auto good = cbor({{"cip", "1.2.3.4"}, {"cport", 1}, {"cfingerprint", kFp}});
    for (std::size_t cut = 0; cut < good.size(); ++cut) {  // every truncation
        const std::vector<std::uint8_t> part(good.begin(), good.begin() + static_cast<long>(cut));
        EXPECT_NE(parse(part), "ok") << "cut at " << cut;
    }
    auto trailing = good;
    trailing.push_back(0x00);
    EXPECT_EQ(parse(trailing), "trailing-bytes");
    EXPECT_EQ(parse({0xBF, 0xFF}), "malformed");                    // indefinite-length map
    EXPECT_EQ(parse({0xA1, 0x01, 0x02}), "key-not-text");           // {1: 2}
    EXPECT_EQ(parse({0xBB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), "malformed");  // 2^64-1 pairs
    EXPECT_EQ(parse({0xA1, 0x61, 'x', 0x9B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), "malformed");
    EXPECT_EQ(parse({0xA1, 0x61, 'x', 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x00}), "malformed");  // too deep
    EXPECT_EQ(parse({0xA1, 0x61, 'x', 0x1C}), "malformed");         // reserved additional info
}

TEST(ControllerAnswer, RefusesDuplicateKeys) {
    // {"cport": 1, "cport": 2, ...}: nlohmann cannot write duplicates, so by hand.
    std::vector<std::uint8_t> doc = {0xA3, 0x65, 'c', 'p', 'o', 'r', 't', 0x01, 0x65, 'c', 'p', 'o', 'r', 't', 0x02,
                                     0x63, 'c', 'i', 'p', 0x67, '1', '.', '2', '.', '3', '.', '4'};
    EXPECT_EQ(parse(doc), "duplicate-key");
}

TEST(CheckinRequest, IsTheUrnMap) {
    std::array<std::uint8_t, 162> buffer{};
    const char* urn = "urn:dev:ops:32473-Sensor.v1-00000000abcdef01";
    const std::size_t size = encodeCheckin(urn, buffer);
    ASSERT_GT(size, 0u);
    const auto j = nlohmann::json::from_cbor(std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + size));
    EXPECT_EQ(j, nlohmann::json({{"urn", urn}}));
    EXPECT_EQ(encodeCheckin("urn:x", buffer), 11u);  // map, "urn", one-byte text head, 5 bytes
    EXPECT_EQ(nlohmann::json::from_cbor(std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + 11)),
              nlohmann::json({{"urn", "urn:x"}}));
    EXPECT_EQ(encodeCheckin("urn:x", std::span(buffer).first(11)), 11u);  // exactly enough
    EXPECT_EQ(encodeCheckin("urn:x", std::span(buffer).first(10)), 0u);
    EXPECT_EQ(encodeCheckin(urn, std::span(buffer).first(20)), 0u);
    const std::string tooLong(128, 'a');
    EXPECT_EQ(encodeCheckin(tooLong.c_str(), buffer), 0u);
}

}  // namespace
}  // namespace tte::protocol
