// Bad JSON/CBOR documents of docs/PROTOCOL.md §6-§8, §10, each refused with its exact message.
#include <set>

#include <gtest/gtest.h>

#include "messages_fixtures.h"
#include "tte/protocol/messages.h"
#include "tte/protocol/query.h"

namespace tte::protocol {
namespace {

using namespace message_tests;

struct BadDoc {
    const char* type;
    std::string text;
    std::string message;
};

std::string parseAs(const BadDoc& d) {
    const std::string_view t = d.type;
    if (t == "mapping") return messageOf(MappingResponse::fromJson(d.text));
    if (t == "status") return messageOf(StatusResponse::fromJson(d.text));
    if (t == "error") return messageOf(ErrorBody::fromJson(d.text));
    if (t == "controller") return messageOf(ControllerInfo::fromJson(d.text));
    if (t == "controller-cbor") {
        return messageOf(ControllerInfo::fromCbor(
            std::span(reinterpret_cast<const std::uint8_t*>(d.text.data()), d.text.size())));
    }
    if (t == "intro") return messageOf(Introduction::fromJson(d.text));
    if (t == "checkin") return messageOf(Checkin::fromJson(d.text));
    if (t == "quota") return messageOf(LotQuota::fromJson(d.text));
    if (t == "box") return messageOf(BoxRegistration::fromJson(d.text));
    if (t == "revoke") return messageOf(RevokeRequest::fromJson(d.text));
    if (t == "results") return messageOf(RecordResults::fromJson(d.text));
    if (t == "revoked") return messageOf(RevokeResponse::fromJson(d.text));
    if (t == "pre-enroll") return messageOf(PreEnrollRequest::fromJson(d.text));
    if (t == "pre-enrolled") return messageOf(PreEnrollResponse::fromJson(d.text));
    if (t == "device") return messageOf(DeviceInfo::fromJson(d.text));
    if (t == "listed") return messageOf(ControllerDevice::fromJson(d.text));
    if (t == "list") return messageOf(DeviceList::fromJson(d.text));
    if (t == "mapping-request") {
        const auto q = d.text.find('|');
        return messageOf(parseMappingRequest(d.text.substr(0, q), q == std::string::npos ? "" : d.text.substr(q + 1)));
    }
    if (t == "batch") return messageOf(RecordBatch::fromJson(d.text));
    if (t == "params") return messageOf(controllerRequestFromParams(*parseQuery(d.text)));
    return "unknown type";
}

const std::string kCtl = R"("cip":"192.0.2.1","cport":5684,"cfingerprint":")" + kFp + "\"";

/// A DeviceInfo document with one field replaced (or added) by `field` ("\"key\":value").
std::string withField(std::string doc, const std::string& field) {
    const std::string key = field.substr(0, field.find(':') + 1);
    const auto at = doc.find(key);
    if (at == std::string::npos) return doc.insert(doc.size() - 1, "," + field);
    auto end = at + key.size();
    int depth = 0;
    for (bool inString = false; end < doc.size(); ++end) {
        const char c = doc[end];
        if (c == '"' && doc[end - 1] != '\\') inString = !inString;
        if (inString) continue;
        if (c == '{' || c == '[') ++depth;
        if ((c == '}' || c == ']') && depth-- == 0) break;
        if (c == ',' && depth == 0) break;
    }
    return doc.replace(at, end - at, field);
}

std::string deviceJson(const std::string& field) {
    const std::string good = R"({"devid":"abcdef01","urn":")" + kUrn + R"(","fingerprint":")" + kFp +
                             R"(","lot":"lot-1","box":null,"station":"st1","record_id":"st1-1","firmware_sha256":")" +
                             std::string(64, '1') +
                             R"(","created":"2026-11-23T07:00:00Z","signature":"MEUCIQ==","state":"mapped","description":"","failures":0})";
    return withField(good, field);
}

std::string listedJson(const std::string& field) {
    const std::string good = R"({"urn":")" + kUrn + R"(","devid":"abcdef01","fingerprint":")" + kFp +
                             R"(","description":"","state":"introduced","ms_state":"unknown","ms":"tte-000001.net","introduced":true,"expires_at":5,"last_seen":null})";
    return withField(good, field);
}

const BadDoc kBadDocs[] = {
    {"mapping", "{", "MappingResponse: invalid JSON at byte 2"},
    {"mapping", "[]", "MappingResponse: expected a JSON object"},
    {"mapping", R"({"urn":")" + kUrn + R"("})", "MappingResponse: missing field 'fingerprint'"},
    {"mapping", R"({"urn":1,"fingerprint":")" + kFp + R"("})", "MappingResponse: field 'urn' must be a string"},
    {"mapping", R"({"urn":"x","fingerprint":")" + kFp + R"("})",
     "MappingResponse: field 'urn': Dev URN: expected prefix urn:dev:ops:"},
    {"mapping", R"({"urn":")" + kUrn + R"(","fingerprint":"ab"})",
     "MappingResponse: field 'fingerprint': fingerprint: expected 64 hex digits, got 2"},
    {"mapping", R"({"urn":")" + kUrn + R"(","fingerprint":")" + kFp + R"(","extra":0})",
     "MappingResponse: unknown field 'extra'"},
    {"mapping", R"({"urn":")" + kUrn + R"(","urn":")" + kUrn + R"(","fingerprint":")" + kFp + R"("})",
     "MappingResponse: duplicate field 'urn'"},
    {"status", R"({"urn":")" + kUrn + R"(","fingerprint":")" + kFp + R"(","state":"Mapped"})",
     "StatusResponse: field 'state': unknown state 'Mapped'"},
    {"error", R"({"error":"oops","message":"m"})", "ErrorBody: field 'error': unknown code 'oops'"},
    {"controller", "{" + kCtl + R"(,"cport":1})", "ControllerInfo: duplicate field 'cport'"},
    {"controller", R"({"cip":"192.0.2.1","cport":0,"cfingerprint":")" + kFp + R"("})",
     "ControllerInfo: field 'cport' must be an integer from 1 to 65535"},
    {"controller", R"({"cip":"192.0.2.1","cport":5684.5,"cfingerprint":")" + kFp + R"("})",
     "ControllerInfo: field 'cport' must be an integer from 1 to 65535"},
    {"controller", R"({"cip":"192.0.2.1","cport":-1,"cfingerprint":")" + kFp + R"("})",
     "ControllerInfo: field 'cport' must be an integer from 1 to 65535"},
    {"controller", R"({"cip":"192.0.2.256","cport":1,"cfingerprint":")" + kFp + R"("})",
     "ControllerInfo: field 'cip': not an IPv4 or IPv6 address"},
    {"controller", R"({"cip":"[::1]","cport":1,"cfingerprint":")" + kFp + R"("})",
     "ControllerInfo: field 'cip': not an IPv4 or IPv6 address"},
    {"controller-cbor", "\xA1\x63" "cip", "ControllerInfo: invalid CBOR"},
    {"controller-cbor", "\x81\x01", "ControllerInfo: expected a CBOR map"},
    {"controller-cbor", "\xA1\x01\x01", "ControllerInfo: a key is not a text string"},
    {"controller-cbor", "\xA1\x63" "cip" "\x69" "192.0.2.1", "ControllerInfo: missing field 'cip', 'cport' or 'cfingerprint'"},
    {"controller-cbor", "\xA1\x63" "cip" "\x69" "192.0.2.x", "ControllerInfo: field 'cip': not an IPv4 or IPv6 address"},
    {"controller-cbor", std::string("\xA1\x65" "cport" "\x19\x00\x00", 10), "ControllerInfo: field 'cport' must be an integer from 1 to 65535"},
    {"controller-cbor", "\xA1\x6C" "cfingerprint" "\x62" "ab", "ControllerInfo: field 'cfingerprint': expected 64 hex digits"},
    {"controller-cbor", std::string("\xA0\x00", 2), "ControllerInfo: bytes after the map"},
    // Found by fuzz_cbor_messages: an array length beyond max_size() made nlohmann throw.
    {"controller-cbor", std::string("\xA1\x61" "a\x9B\x80\x00\x00\x00\x00\x00\x00\x00", 12), "ControllerInfo: invalid CBOR"},
    {"intro", R"({"urn":")" + kUrn + R"(","fingerprint":")" + kFp +
                  R"(","otp":"123456789abcdef0","devid":"abcdef02","ms":"tte-000001.net"})",
     "Introduction: devid abcdef02 does not match the URN's abcdef01"},
    {"intro", R"({"urn":")" + kUrn + R"(","fingerprint":")" + kFp +
                  R"(","otp":"123456789abcdef0","devid":"abcdef01","ms":"tte-000000.net"})",
     "Introduction: field 'ms': MS ID 0 is reserved for examples"},
    {"intro", R"({"urn":")" + kUrn + R"(","fingerprint":")" + kFp +
                  R"(","otp":"123456789abcdef0","devid":"abcdef01","ms":"tte-000001.net","description":"a\u0007"})",
     "Introduction: field 'description': contains a control character"},
    {"intro", R"({"urn":")" + kUrn + R"(","fingerprint":")" + kFp +
                  R"(","otp":"123456789abcdef","devid":"abcdef01","ms":"tte-000001.net"})",
     "Introduction: field 'otp': otp: expected 16 hex digits, got 15"},
    {"checkin", R"({"urn":")" + kUrn + "\",\"URN\":1}", "Checkin: unknown field 'URN'"},
    {"checkin", "{\"urn\":\"\xC3\x28\"}", "Checkin: invalid JSON at byte 10"},
    {"quota", R"({"lot":"l","first":"00000002","last":"00000001","used":0})", "LotQuota: first 00000002 is after last 00000001"},
    {"quota", R"({"lot":"l","first":"00000001","last":"00000002","used":3})",
     "LotQuota: field 'used' must be an integer from 0 to 2"},
    {"quota", R"({"lot":"a b","first":"00000001","last":"00000002","used":0})",
     "LotQuota: field 'lot': must be 1-64 of [A-Za-z0-9._-]"},
    {"box", R"({"box":"7","lot":"l","first":"00000001","last":"00000002"})",
     "BoxRegistration: field 'box': devid: expected 8 hex digits, got 1"},
    {"box", R"({"box":"00000007","lot":"l","first":"00000000","last":"00010000"})",
     "BoxRegistration: more than 65536 devices from first to last"},
    {"revoke", R"({"reason":""})", "RevokeRequest: field 'reason': empty"},
    {"revoke", R"({"reason":")" + std::string(201, 'r') + "\"}", "RevokeRequest: field 'reason': longer than 200 bytes"},
    {"revoked", R"({"devid":"0000002a","state":"gone"})", "RevokeResponse: field 'state': unknown state 'gone'"},
    {"device", deviceJson(R"("devid":"abcdef02")"), "DeviceInfo: devid abcdef02 does not match the URN's abcdef01"},
    {"device", deviceJson(R"("failures":-1)"), "DeviceInfo: field 'failures' must be an integer from 0 to 9007199254740991"},
    {"device", deviceJson(R"("controller":{"cip":"x","cport":1,"cfingerprint":")" + kFp + "\"}"),
     "DeviceInfo: field 'controller': ControllerInfo: field 'cip': not an IPv4 or IPv6 address"},
    {"device", deviceJson(R"("station":"a b")"), "DeviceInfo: field 'station': must be 1-64 of [A-Za-z0-9._-]"},
    {"device", deviceJson(R"("mcu_uid":"002D00303334510B32313533")"),
     "DeviceInfo: field 'mcu_uid': must be 24 lower-case hex digits"},
    {"listed", listedJson(R"("ms_state":"lost")"), "ControllerDevice: field 'ms_state': unknown state 'lost'"},
    {"listed", listedJson(R"("state":"mapped")"), "ControllerDevice: field 'state': unknown state 'mapped'"},
    {"listed", listedJson(R"("introduced":1)"), "ControllerDevice: field 'introduced' must be true or false"},
    {"listed", listedJson(R"("devid":"abcdef02")"), "ControllerDevice: devid abcdef02 does not match the URN's abcdef01"},
    {"listed", listedJson(R"("ms":"tte-000000.net")"), "ControllerDevice: field 'ms': MS ID 0 is reserved for examples"},
    {"list", R"({"devices":[{}]})", "DeviceList: devices[0]: ControllerDevice: missing field 'urn'"},
    {"mapping-request", "otp=123456789abcdef0,devid=abcdef01,cip=192.0.2.1,cport=1|cport=2",
     "duplicate parameter 'cport'"},
    {"mapping-request", "otp=123456789abcdef0,devid=abcdef01|cip=1%", "body: bad percent-escape at position 6"},
    {"mapping-request", "otp=123456789abcdef0,devid=abcdef01,cip=192.0.2.1,cport=1,cfingerprint=" + kFp + ",x=1",
     "unknown parameter 'x'"},
    {"results", R"({"results":[{"record_id":"a","status":"lost"}]})",
     "RecordResults: results[0]: field 'status': unknown status 'lost'"},
    {"batch", R"({"records":[]})", "RecordBatch: field 'records' must hold 1 to 500 records"},
    {"batch", R"({"records":{}})", "RecordBatch: field 'records' must be an array"},
    {"params", "cip=192.0.2.1,cport=65536,cfingerprint=" + kFp, "cport: must be a decimal number from 1 to 65535"},
    {"params", "cip=192.0.2.1,cport=0443,cfingerprint=" + kFp, "cport: must be a decimal number from 1 to 65535"},
    {"params", "cip=host.example,cport=1,cfingerprint=" + kFp, "cip: not an IPv4 or IPv6 address"},
    {"params", "cip=192.0.2.1,cport=1", "missing parameter 'cfingerprint'"},
    {"params", "cip=192.0.2.1,cport=1,cfingerprint=abc", "cfingerprint: expected 64 hex digits, got 3"},
    {"params", "cip=192.0.2.1,cport=1,cfingerprint=" + kFp + ",description=%FF", "description: not valid UTF-8"},
    {"params", "cip=192.0.2.1,cport=1,cfingerprint=" + kFp + ",description=" + std::string(201, 'd'),
     "description: longer than 200 bytes"},
    {"params", "cip=192.0.2.1,cport=1,cfingerprint=" + kFp + ",cweb=javascript%3Aalert(1)",
     "cweb: must be an http:// or https:// URL"},
    {"params", "cip=192.0.2.1,cport=1,cfingerprint=" + kFp + ",cweb=https%3A%2F%2Fa%20b",
     "cweb: character 0x20 at position 9 is not allowed in a URL (percent-encode it)"},
    {"status", R"({"urn":")" + kUrn + R"(","fingerprint":")" + kFp + R"(","state":"pre-enrolled"})",
     "StatusResponse: state 'pre-enrolled' needs field 'cfingerprint'"},
    {"status", R"({"urn":")" + kUrn + R"(","fingerprint":")" + kFp + R"(","state":"mapped","cfingerprint":")" + kFp + "\"}",
     "StatusResponse: field 'cfingerprint' goes only with state 'pre-enrolled' or 'registered'"},
    {"status", R"({"urn":")" + kUrn + R"(","fingerprint":")" + kFp + R"(","state":"pre-enrolled","cfingerprint":"ab"})",
     "StatusResponse: field 'cfingerprint': fingerprint: expected 64 hex digits, got 2"},
    {"pre-enroll", R"({"cip":"192.0.2.1","cport":0,"cfingerprint":")" + kFp + "\"}",
     "PreEnrollRequest: field 'cport' must be an integer from 1 to 65535"},
    {"pre-enroll", R"({"cip":"192.0.2.1","cport":1,"cfingerprint":")" + kFp + R"(","otp":"123456789abcdef0"})",
     "PreEnrollRequest: unknown field 'otp'"},
    {"pre-enroll", R"({"cip":"192.0.2.1","cport":1})", "PreEnrollRequest: missing field 'cfingerprint'"},
    {"pre-enroll", R"({"cip":"192.0.2.1","cport":1,"cfingerprint":")" + kFp + R"(","description":")" + std::string(201, 'd') + "\"}",
     "PreEnrollRequest: field 'description': longer than 200 bytes"},
    {"pre-enrolled", R"({"devid":"00000100","state":"mapped","cfingerprint":")" + kFp + "\"}",
     "PreEnrollResponse: field 'state': must be pre-enrolled or registered"},
};

TEST(Messages, BadDocumentsGetTheirExactMessage) {
    for (const BadDoc& d : kBadDocs) EXPECT_EQ(parseAs(d), d.message) << d.type << ": " << d.text;
}

StationRecord withJsonField(const std::string& key, const std::string& value, std::string* message) {
    auto j = record().toJson();
    const auto pos = j.find("\"" + key + "\":");
    const auto start = pos + key.size() + 3;
    const auto end = j[start - 1] == '"' ? j.find('"', start) + 1 : j.find_first_of(",}", start);
    j.replace(start - (j[start - 1] == '"' ? 1 : 0), end - start + (j[start - 1] == '"' ? 1 : 0), value);
    auto r = StationRecord::fromJson(j);
    *message = messageOf(r);
    return r ? *r : StationRecord{};
}

TEST(Messages, StationRecordFieldRules) {
    const std::pair<std::string, std::string> cases[][1] = {
        {{"created", "\"2026-13-01T00:00:00Z\""}}, {{"created", "\"2026-11-23 07:00:00Z\""}},
        {{"signature", "\"not base64!\""}},        {{"prev", "\"00\""}},
        {{"seq", "0"}},                            {{"box", "7"}},
    };
    const char* expected[] = {
        "StationRecord: field 'created': must be RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)",
        "StationRecord: field 'created': must be RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)",
        "StationRecord: field 'signature': must be base64",
        "StationRecord: field 'prev': expected 64 hex digits, got 2",
        "StationRecord: field 'seq' must be an integer from 1 to 9007199254740991",
        "StationRecord: field 'box' must be a string or null",
    };
    for (std::size_t i = 0; i < std::size(cases); ++i) {
        std::string message;
        withJsonField(cases[i][0].first, cases[i][0].second, &message);
        EXPECT_EQ(message, expected[i]) << cases[i][0].first;
    }
    std::string message;
    withJsonField("created", "\"2026-11-23T07:00:00.123456Z\"", &message);
    EXPECT_EQ(message, "(accepted)");
}

TEST(Messages, AtLeastFortyDistinctBadDocuments) {
    std::set<std::string> seen;
    for (const BadDoc& d : kBadDocs) seen.insert(std::string(d.type) + "|" + d.text);
    EXPECT_EQ(seen.size(), std::size(kBadDocs));
    EXPECT_GE(seen.size(), 40U);
}

}  // namespace
}  // namespace tte::protocol
