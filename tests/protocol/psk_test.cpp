// DTLS-PSK mode (docs/PROTOCOL.md §11, draft 5.3): the PSK type, the PSK fingerprint, and the
// PSK fields of the documents that carry one – round trips and the exact refusals.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <sstream>

#include "messages_fixtures.h"
#include "tte/protocol/freestanding/coap_messages.h"
#include "tte/protocol/freestanding/controller_record.h"
#include "tte/protocol/messages.h"
#include "tte/protocol/query.h"

namespace tte::protocol {
namespace {

using namespace message_tests;

const std::string kPskHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

Psk psk() { return *parsePsk(kPskHex); }

TEST(Psk, ParsesHexAndRefusesTheRest) {
    EXPECT_EQ(psk().hex(), kPskHex);
    EXPECT_EQ(parsePsk("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")->hex(), kPskHex);
    EXPECT_EQ(messageOf(parsePsk("abc")), "psk: expected 64 hex digits, got 3");
    EXPECT_EQ(messageOf(parsePsk(std::string(64, '0'))), "psk: all zero");
    EXPECT_EQ(messageOf(parsePsk(std::string(63, '0') + "g", "cpsk")), "cpsk: 'g' at position 64 is not a hex digit");
    std::ostringstream os;
    os << psk();
    EXPECT_EQ(os.str(), "***");
    EXPECT_FALSE(Psk::fromBytes(std::vector<std::uint8_t>(31, 1)));
    EXPECT_FALSE(Psk::fromBytes(std::vector<std::uint8_t>(32, 0)));
}

TEST(Psk, FingerprintIsTheSha256OfTheLabelAndThePsk) {
    // SHA-256 of "tte-psk" and the bytes 00..1f, computed apart with Python's hashlib.
    EXPECT_EQ(pskFingerprint(psk().bytes()).hex(),
              "b3c0a52084b810b60fea3e13c8a4c8b9105db41dea9da6fb353d866718fc8f5f");
}

TEST(Psk, ControllerInfoCarriesTheControllerPskInJsonAndCbor) {
    ControllerInfo c{"192.0.2.7", 5690, *parseFingerprint(kFp2), psk()};
    EXPECT_NE(c.toJson().find(R"("cpsk":")" + kPskHex + "\""), std::string::npos);
    auto json = ControllerInfo::fromJson(c.toJson());
    ASSERT_TRUE(json) << json.error().message;
    ASSERT_TRUE(json->cpsk);
    EXPECT_EQ(*json->cpsk, psk());
    const auto cbor = c.toCbor();
    EXPECT_EQ(cbor[0], 0xA4);  // four pairs
    auto back = ControllerInfo::fromCbor(cbor);
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_TRUE(back->cpsk);
    EXPECT_EQ(*back->cpsk, psk());
    // The device's own parser: the PSK lands in the controller record with its flag.
    ControllerRecord record;
    ASSERT_EQ(parseControllerAnswer(cbor, record), ControllerAnswerError::ok);
    EXPECT_EQ(record.flags, kControllerFlagPsk);
    EXPECT_EQ(record.psk[31], 0x1f);
    // Without cpsk: no flag, and a record parsed before is not left with an old PSK.
    c.cpsk.reset();
    ASSERT_EQ(parseControllerAnswer(c.toCbor(), record), ControllerAnswerError::ok);
    EXPECT_EQ(record.flags, 0);
    EXPECT_EQ(record.psk[31], 0);
    EXPECT_FALSE(ControllerInfo::fromCbor(c.toCbor())->cpsk);
}

TEST(Psk, BadControllerPsksAreRefusedByName) {
    auto cbor = [](nlohmann::json j) { return nlohmann::json::to_cbor(j); };
    nlohmann::json j{{"cip", "192.0.2.7"}, {"cport", 5690}, {"cfingerprint", kFp2}, {"cpsk", "abcd"}};
    EXPECT_EQ(messageOf(ControllerInfo::fromCbor(cbor(j))), "ControllerInfo: field 'cpsk': expected 64 hex digits, not all zero");
    j["cpsk"] = std::string(64, '0');
    EXPECT_EQ(messageOf(ControllerInfo::fromCbor(cbor(j))), "ControllerInfo: field 'cpsk': expected 64 hex digits, not all zero");
    j["cpsk"] = 7;
    ControllerRecord record;
    EXPECT_EQ(parseControllerAnswer(cbor(j), record), ControllerAnswerError::badPsk);
    EXPECT_STREQ(controllerAnswerErrorName(ControllerAnswerError::badPsk), "bad-psk");
    j["cpsk"] = std::string(64, '0');
    EXPECT_EQ(messageOf(ControllerInfo::fromJson(j.dump())), "ControllerInfo: field 'cpsk': cpsk: all zero");
}

TEST(Psk, ControllerRecordKeepsThePskWithItsFlag) {
    ControllerRecord r;
    r.sequence = 3;
    r.port = 5690;
    std::strcpy(r.address, "192.0.2.7");
    r.fingerprint[0] = 1;
    r.flags = kControllerFlagPsk;
    for (std::size_t i = 0; i < 32; ++i) r.psk[i] = static_cast<std::uint8_t>(i + 1);
    std::array<std::uint8_t, kControllerRecordSize> raw{};
    const char* field = nullptr;
    ASSERT_EQ(encodeControllerRecord(r, raw, field), RecordError::ok);
    EXPECT_EQ(raw[10], 1);   // flags at 10
    EXPECT_EQ(raw[92], 1);   // the PSK at 92
    EXPECT_EQ(raw[123], 32);
    ControllerRecord back;
    ASSERT_EQ(decodeControllerRecord(raw, back, field), RecordError::ok);
    EXPECT_EQ(back.flags, kControllerFlagPsk);
    EXPECT_EQ(0, std::memcmp(back.psk, r.psk, 32));
    ControllerRecord bad = r;
    bad.flags = 0;  // a PSK without its flag
    EXPECT_EQ(encodeControllerRecord(bad, raw, field), RecordError::field);
    EXPECT_STREQ(field, "psk");
    bad = r;
    std::memset(bad.psk, 0, 32);  // the flag without a PSK
    EXPECT_EQ(encodeControllerRecord(bad, raw, field), RecordError::field);
    EXPECT_STREQ(field, "psk");
    bad = r;
    bad.flags = 2;
    EXPECT_EQ(encodeControllerRecord(bad, raw, field), RecordError::field);
    EXPECT_STREQ(field, "flags");
}

TEST(Psk, MappingRequestAndResponseCarryThePskMode) {
    const MappingRequest req{{Otp(0x123456789abcdef0ULL), DevId{0xabcdef01}},
                             {ControllerInfo{"192.0.2.7", 5690, *parseFingerprint(kFp2), psk()}, "", ""}};
    const std::string q = mappingQuery(req);
    EXPECT_NE(q.find(",cpsk=" + kPskHex), std::string::npos);
    auto back = parseMappingRequest(q, "");
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_TRUE(back->controller.controller.cpsk);
    EXPECT_EQ(*back->controller.controller.cpsk, psk());
    EXPECT_EQ(messageOf(parseMappingRequest("otp=123456789abcdef0,devid=abcdef01,cip=192.0.2.7,cport=5690,cfingerprint=" +
                                                kFp2 + ",cpsk=12",
                                            "")),
              "cpsk: expected 64 hex digits, got 2");

    MappingResponse m{*parseDevUrn(kUrn), pskFingerprint(psk().bytes()), true};
    EXPECT_NE(m.toJson().find(R"("dtls":"psk")"), std::string::npos);
    EXPECT_TRUE(MappingResponse::fromJson(m.toJson())->psk);
    m.psk = false;
    EXPECT_EQ(m.toJson().find("dtls"), std::string::npos);  // a certificate device: the bytes of before
    EXPECT_FALSE(MappingResponse::fromJson(m.toJson())->psk);
    EXPECT_EQ(messageOf(MappingResponse::fromJson(R"({"urn":")" + kUrn + R"(","fingerprint":")" + kFp2 +
                                                  R"(","dtls":"certificate"})")),
              "MappingResponse: field 'dtls': expected \"psk\"");
}

TEST(Psk, IntroductionCarriesTheControllerPsk) {
    Introduction in{*parseDevUrn(kUrn), *parseFingerprint(kFp2), Otp(0x123456789abcdef0ULL), DevId{0xabcdef01}, MsId{1},
                    "", psk()};
    auto back = Introduction::fromJson(in.toJson());
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_TRUE(back->psk);
    EXPECT_EQ(*back->psk, psk());
    EXPECT_EQ(in.toJsonWithoutOtp().find("psk"), std::string::npos);  // no secret in the queue's form
    auto j = nlohmann::json::parse(in.toJson());
    j["psk"] = "00";
    EXPECT_EQ(messageOf(Introduction::fromJson(j.dump())), "Introduction: field 'psk': psk: expected 64 hex digits, got 2");
}

TEST(Psk, StationRecordCarriesThePskAndItsFingerprint) {
    StationRecord r = record();
    r.fingerprint = pskFingerprint(psk().bytes());
    r.box.reset();
    r.psk = psk();
    EXPECT_NE(r.canonicalBytes().find(R"("psk":")" + kPskHex + "\""), std::string::npos);  // signed with the rest
    auto back = StationRecord::fromJson(r.toJson());
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_TRUE(back->psk);
    EXPECT_EQ(*back->psk, psk());
    EXPECT_EQ(r.toJsonWithoutOtp().find("psk"), std::string::npos);
    StationRecord wrong = r;
    wrong.fingerprint = *parseFingerprint(kFp2);
    EXPECT_EQ(messageOf(StationRecord::fromJson(wrong.toJson())),
              "StationRecord: fingerprint is not the PSK's (SHA-256 of \"tte-psk\" and the psk)");
    auto j = nlohmann::json::parse(r.toJson());
    j["psk"] = std::string(64, '0');
    EXPECT_EQ(messageOf(StationRecord::fromJson(j.dump())), "StationRecord: field 'psk': psk: all zero");
}

}  // namespace
}  // namespace tte::protocol
