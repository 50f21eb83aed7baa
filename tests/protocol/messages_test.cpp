// The JSON/CBOR documents of docs/PROTOCOL.md §6-§8, §10: round trips and exact output.
// Bad documents and their exact messages: messages_errors_test.cpp.
#include "tte/protocol/messages.h"

#include <gtest/gtest.h>

#include "messages_fixtures.h"
#include "tte/protocol/query.h"

namespace tte::protocol {
namespace {

using namespace message_tests;

TEST(Messages, MappingAndStatusResponses) {
    const MappingResponse m{*parseDevUrn(kUrn), *parseFingerprint(kFp)};
    EXPECT_EQ(m.toJson(), R"({"fingerprint":")" + kFp + R"(","urn":")" + kUrn + R"("})");
    auto back = MappingResponse::fromJson(m.toJson());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->urn, m.urn);
    const StatusResponse s{m.urn, m.fingerprint, EnrollmentState::notMapped, std::nullopt};
    EXPECT_NE(s.toJson().find(R"("state":"not-mapped")"), std::string::npos);
    for (auto state : {EnrollmentState::notMapped, EnrollmentState::mapped, EnrollmentState::registered,
                       EnrollmentState::revoked}) {
        EXPECT_EQ(*parseEnrollmentState(enrollmentStateName(state)), state);
        EXPECT_EQ(StatusResponse::fromJson(StatusResponse{m.urn, m.fingerprint, state, std::nullopt}.toJson())->state, state);
    }
    // Without a Controller the document is exactly what it was before pre-enrolled lots.
    EXPECT_EQ(s.toJson().find("cfingerprint"), std::string::npos);
}

TEST(Messages, PreEnrolledStatusCarriesTheControllersFingerprint) {
    const StatusResponse s{*parseDevUrn(kUrn), *parseFingerprint(kFp), EnrollmentState::preEnrolled, *parseFingerprint(kFp2)};
    EXPECT_EQ(s.toJson(), R"({"cfingerprint":")" + kFp2 + R"(","fingerprint":")" + kFp + R"(","state":"pre-enrolled","urn":")" +
                              kUrn + R"("})");
    auto back = StatusResponse::fromJson(s.toJson());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->state, EnrollmentState::preEnrolled);
    ASSERT_TRUE(back->preEnrolledTo);
    EXPECT_EQ(back->preEnrolledTo->hex(), kFp2);
    // Once the device fetched its Controller: registered, still with the Controller.
    const StatusResponse r{s.urn, s.fingerprint, EnrollmentState::registered, s.preEnrolledTo};
    EXPECT_EQ(StatusResponse::fromJson(r.toJson())->preEnrolledTo, s.preEnrolledTo);
}

TEST(Messages, PreEnrollRequestAndResponseRoundTrip) {
    const PreEnrollRequest in{ControllerInfo{"192.0.2.7", 5685, *parseFingerprint(kFp2)}, "lot lot-1"};
    EXPECT_EQ(in.toJson(), R"({"cfingerprint":")" + kFp2 + R"(","cip":"192.0.2.7","cport":5685,"description":"lot lot-1"})");
    auto back = PreEnrollRequest::fromJson(in.toJson());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->controller.cip, "192.0.2.7");
    EXPECT_EQ(back->controller.cport, 5685);
    EXPECT_EQ(back->controller.cfingerprint, in.controller.cfingerprint);
    EXPECT_EQ(back->description, "lot lot-1");
    EXPECT_EQ((PreEnrollRequest{in.controller, ""}.toJson().find("description")), std::string::npos);

    const PreEnrollResponse answer{DevId{0x100}, EnrollmentState::preEnrolled, *parseFingerprint(kFp2)};
    EXPECT_EQ(answer.toJson(), R"({"cfingerprint":")" + kFp2 + R"(","devid":"00000100","state":"pre-enrolled"})");
    auto answered = PreEnrollResponse::fromJson(answer.toJson());
    ASSERT_TRUE(answered) << answered.error().message;
    EXPECT_EQ(answered->devId, answer.devId);
    EXPECT_EQ(answered->state, EnrollmentState::preEnrolled);
    EXPECT_EQ(answered->cfingerprint, answer.cfingerprint);
}

TEST(Messages, ControllerWebAddressIsOptionalAndOnlyHttpOrHttps) {
    MappingRequest in{{Otp(0x123456789abcdef0ULL), DevId{0xabcdef01}},
                      {ControllerInfo{"192.0.2.1", 5684, *parseFingerprint(kFp)}, "", "https://ctl.example:8443/devices?x=1"}};
    const std::string q = mappingQuery(in);
    EXPECT_NE(q.find(",cweb=https%3A%2F%2Fctl.example%3A8443%2Fdevices%3Fx%3D1"), std::string::npos) << q;
    auto back = parseMappingRequest(q, "");
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->controller.web, "https://ctl.example:8443/devices?x=1");
    in.controller.web.clear();
    EXPECT_EQ(mappingQuery(in).find("cweb"), std::string::npos);  // old MotherShips see what they always saw
    EXPECT_TRUE(checkControllerWebUrl("HTTP://192.0.2.1/"));
    EXPECT_EQ(checkControllerWebUrl("javascript:alert(1)").error().message, "must be an http:// or https:// URL");
    EXPECT_EQ(checkControllerWebUrl("ftp://ctl.example/").error().message, "must be an http:// or https:// URL");
    EXPECT_EQ(checkControllerWebUrl("https:///path").error().message, "no host after 'https://'");
    EXPECT_EQ(checkControllerWebUrl("https://a\"onclick=x").error().message,
              "character 0x22 at position 9 is not allowed in a URL (percent-encode it)");
    EXPECT_EQ(checkControllerWebUrl("https://" + std::string(505, 'a')).error().message, "longer than 512 bytes");
}

TEST(Messages, ErrorBodyUsesErrcNames) {
    const ErrorBody e{Errc::conflict, "the OTP was already used"};
    EXPECT_EQ(e.toJson(), R"({"error":"conflict","message":"the OTP was already used"})");
    EXPECT_EQ(ErrorBody::fromJson(e.toJson())->error, Errc::conflict);
    EXPECT_EQ(ErrorBody::fromJson(R"({"error":"permission-denied","message":""})")->error, Errc::permissionDenied);
}

TEST(Messages, ControllerInfoJsonAndCbor) {
    const ControllerInfo c{"2001:db8::1", 5684, *parseFingerprint(kFp)};
    EXPECT_EQ(c.toJson(), R"({"cfingerprint":")" + kFp + R"(","cip":"2001:db8::1","cport":5684})");
    auto fromJson = ControllerInfo::fromJson(c.toJson());
    ASSERT_TRUE(fromJson) << fromJson.error().message;
    EXPECT_EQ(fromJson->cport, 5684);
    const auto cbor = c.toCbor();
    EXPECT_EQ(cbor[0], 0xA3);  // a CBOR map of three pairs
    auto fromCbor = ControllerInfo::fromCbor(cbor);
    ASSERT_TRUE(fromCbor) << fromCbor.error().message;
    EXPECT_EQ(fromCbor->cip, "2001:db8::1");
    EXPECT_EQ(fromCbor->cfingerprint, c.cfingerprint);
}

TEST(Messages, ControllerRequestFromQueryAndForm) {
    auto q = parseFormBody("cip=192.0.2.7&cport=5684&cfingerprint=" + kFp + "&description=Hall+light%2C+2nd");
    ASSERT_TRUE(q);
    auto r = controllerRequestFromParams(*q);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->controller.cip, "192.0.2.7");
    EXPECT_EQ(r->controller.cport, 5684);
    EXPECT_EQ(r->description, "Hall light, 2nd");
}

TEST(Messages, IntroductionAndCheckin) {
    const Introduction in{*parseDevUrn(kUrn), *parseFingerprint(kFp), Otp(0x123456789abcdef0ULL), DevId{0xabcdef01},
                          MsId{1}, "Hall light"};
    auto back = Introduction::fromJson(in.toJson());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->otp, in.otp);
    EXPECT_EQ(back->ms, in.ms);
    EXPECT_EQ(back->description, "Hall light");
    EXPECT_NE(in.toJson().find(R"("ms":"tte-000001.net")"), std::string::npos);
    const Checkin c{*parseDevUrn(kUrn)};
    EXPECT_EQ(Checkin::fromCbor(c.toCbor())->urn, c.urn);
    EXPECT_EQ(Checkin::fromJson(c.toJson())->urn, c.urn);
}

TEST(Messages, StationRecordCanonicalBytesAreSortedWithoutSignature) {
    const StationRecord r = record();
    const std::string expected =
        R"({"box":"00000007","created":"2026-11-23T07:00:00Z","devid":"abcdef01","fingerprint":")" + kFp +
        R"(","firmware_sha256":")" + std::string(64, '1') +
        R"(","lot":"lot-2026-11","otp":"123456789abcdef0","prev":")" + std::string(64, '2') +
        R"(","record_id":"st1-42","seq":42,"station":"st1","urn":")" + kUrn + R"("})";
    EXPECT_EQ(r.canonicalBytes(), expected);
    auto back = StationRecord::fromJson(r.toJson());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->canonicalBytes(), r.canonicalBytes());
    EXPECT_EQ(back->signature, "MEUCIQ==");
    StationRecord noBox = r;
    noBox.box.reset();
    EXPECT_NE(noBox.canonicalBytes().find(R"("box":null)"), std::string::npos);
    EXPECT_FALSE(StationRecord::fromJson(noBox.toJson())->box.has_value());
}

TEST(Messages, StationRecordCarriesTheMcuUniqueIdWhenKnown) {
    StationRecord r = record();
    EXPECT_EQ(r.canonicalBytes().find("mcu_uid"), std::string::npos);  // older records keep their bytes
    r.mcuUid = "002d00303334510b32313533";
    EXPECT_NE(r.canonicalBytes().find(R"("mcu_uid":"002d00303334510b32313533")"), std::string::npos);
    auto back = StationRecord::fromJson(r.toJson());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->mcuUid, r.mcuUid);
    EXPECT_EQ(back->canonicalBytes(), r.canonicalBytes());
    auto kept = StationRecord::fromJsonWithoutOtp(r.toJsonWithoutOtp(), r.otp);
    ASSERT_TRUE(kept) << kept.error().message;
    EXPECT_EQ(kept->mcuUid, r.mcuUid);
    for (const char* bad : {"002D00303334510B32313533", "002d00303334510b3231353", "002d00303334510b32313533aa",
                            "002d00303334510b3231353g"}) {
        StationRecord b = record();
        b.mcuUid = bad;
        EXPECT_EQ(messageOf(StationRecord::fromJson(b.toJson())),
                  "StationRecord: field 'mcu_uid': must be 24 lower-case hex digits")
            << bad;
    }
}

TEST(Messages, AReworkedBoardsRecordNamesItsOldDevIdAndSignsIt) {
    StationRecord r = record();
    const std::string plain = r.canonicalBytes();
    EXPECT_EQ(plain.find("reworked_from"), std::string::npos);  // absent: the bytes as before
    r.reworkedFrom = DevId{0xabcdef00};
    const std::string linked = r.canonicalBytes();
    EXPECT_NE(linked.find(R"("reworked_from":"abcdef00")"), std::string::npos) << linked;
    EXPECT_NE(linked, plain);
    auto back = StationRecord::fromJson(r.toJson());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->reworkedFrom, DevId{0xabcdef00});
    EXPECT_EQ(back->canonicalBytes(), linked);
    auto kept = StationRecord::fromJsonWithoutOtp(r.toJsonWithoutOtp(), r.otp);
    ASSERT_TRUE(kept) << kept.error().message;
    EXPECT_EQ(kept->canonicalBytes(), linked);
    r.reworkedFrom = r.devId;
    EXPECT_EQ(StationRecord::fromJson(r.toJson()).error().message,
              "StationRecord: reworked_from abcdef01 is the record's own devid");
    std::string bad = record().toJson();
    bad.insert(bad.size() - 1, R"(,"reworked_from":"abc")");
    EXPECT_EQ(StationRecord::fromJson(bad).error().message,
              "StationRecord: field 'reworked_from': devid: expected 8 hex digits, got 3");
}

TEST(Messages, RecordAndIntroductionWithoutTheOtpForTheStationsJournal) {
    const StationRecord r = record();
    const std::string kept = r.toJsonWithoutOtp();
    EXPECT_EQ(kept.find("otp"), std::string::npos);
    EXPECT_EQ(StationRecord::fromJson(kept).error().message, "StationRecord: missing field 'otp'");
    auto back = StationRecord::fromJsonWithoutOtp(kept, r.otp);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->canonicalBytes(), r.canonicalBytes());
    EXPECT_EQ(back->toJson(), r.toJson());
    EXPECT_EQ(StationRecord::fromJsonWithoutOtp(r.toJson(), r.otp).error().message, "StationRecord: unknown field 'otp'");

    const Introduction in{*parseDevUrn(kUrn), *parseFingerprint(kFp), Otp(0x123456789abcdef0ULL), DevId{0xabcdef01},
                          MsId{1}, "lot l"};
    const std::string introKept = in.toJsonWithoutOtp();
    EXPECT_EQ(introKept.find("otp"), std::string::npos);
    auto intro = Introduction::fromJsonWithoutOtp(introKept, in.otp);
    ASSERT_TRUE(intro) << intro.error().message;
    EXPECT_EQ(intro->toJson(), in.toJson());
}

TEST(Messages, BatchResultsQuotaBoxRevoke) {
    RecordBatch batch;
    batch.records = {record(), record()};
    batch.records[1].seq = 43;
    batch.records[1].recordId = "st1-43";
    auto back = RecordBatch::fromJson(batch.toJson());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->records.size(), 2U);
    batch.records[1].recordId = "st1-44";
    auto entries = parseRecordBatchEntries(batch.toJson());
    ASSERT_TRUE(entries);
    EXPECT_TRUE((*entries)[0].record);
    EXPECT_EQ((*entries)[1].recordId, "st1-44");
    EXPECT_EQ((*entries)[1].record.error().message, "StationRecord: record_id 'st1-44' is not '<station>-<seq>'");
    EXPECT_EQ(messageOf(RecordBatch::fromJson(batch.toJson())),
              "RecordBatch: records[1]: StationRecord: record_id 'st1-44' is not '<station>-<seq>'");

    const RecordResults results{{{"st1-42", RecordStatus::stored, ""}, {"st1-44", RecordStatus::rejected, "bad"}}};
    EXPECT_EQ(results.toJson(),
              R"({"results":[{"record_id":"st1-42","status":"stored"},{"message":"bad","record_id":"st1-44","status":"rejected"}]})");
    EXPECT_EQ(RecordResults::fromJson(results.toJson())->results[1].message, "bad");

    const LotQuota quota{"lot-1", DevId{0x100}, DevId{0x1ff}, 3};
    EXPECT_EQ(quota.toJson(), R"({"first":"00000100","last":"000001ff","lot":"lot-1","used":3})");
    EXPECT_EQ(LotQuota::fromJson(quota.toJson())->used, 3U);
    const BoxRegistration box{7, "lot-1", DevId{0x100}, DevId{0x1ff}};
    EXPECT_EQ(box.toJson(), R"({"box":"00000007","first":"00000100","last":"000001ff","lot":"lot-1"})");
    EXPECT_EQ(BoxRegistration::fromJson(box.toJson())->box, 7U);
    EXPECT_EQ(RevokeRequest::fromJson(R"({"reason":"stolen"})")->reason, "stolen");
}

TEST(Messages, MappingRequestAndStatusQueryRoundTrip) {
    MappingRequest in{{Otp(0x123456789abcdef0ULL), DevId{0xabcdef01}},
                      {ControllerInfo{"2001:db8::1", 5684, *parseFingerprint(kFp)}, "Hall light, 2nd floor", ""}};
    const std::string url = buildMappingUrl(MsId{1}, in);
    EXPECT_EQ(url, "https://tte-000001.net/.well-known/tte?otp=123456789abcdef0,devid=abcdef01,cip=2001%3Adb8%3A%3A1,"
                   "cport=5684,cfingerprint=" + kFp + ",description=Hall%20light%2C%202nd%20floor");
    auto back = parseMappingRequest(url.substr(url.find('?') + 1), "");
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->credentials.otp, in.credentials.otp);
    EXPECT_EQ(back->credentials.devId, in.credentials.devId);
    EXPECT_EQ(back->controller.controller.cip, "2001:db8::1");
    EXPECT_EQ(back->controller.controller.cport, 5684);
    EXPECT_EQ(back->controller.controller.cfingerprint, in.controller.controller.cfingerprint);
    EXPECT_EQ(back->controller.description, "Hall light, 2nd floor");
    in.controller.description.clear();
    EXPECT_EQ(mappingQuery(in).find("description"), std::string::npos);
    // What the browser's form sends: the credential in the query, the controller in the body.
    auto form = parseMappingRequest("otp=123456789abcdef0&devid=abcdef01",
                                    "cip=192.0.2.7&cport=5684&cfingerprint=" + kFp + "&description=a+b");
    ASSERT_TRUE(form) << form.error().message;
    EXPECT_EQ(form->controller.description, "a b");

    const EnrollmentUrl e{MsId{10}, Otp(1), DevId{2}};
    const std::string status = buildStatusUrl(e);
    EXPECT_EQ(status, "https://tte-00000A.net/.well-known/tte/status?otp=0000000000000001,devid=00000002");
    auto credentials = parseCredentialsQuery(status.substr(status.find('?') + 1));
    ASSERT_TRUE(credentials) << credentials.error().message;
    EXPECT_EQ(credentials->otp, e.otp);
    EXPECT_EQ(credentials->devId, e.devId);
    EXPECT_EQ(parseCredentialsQuery("otp=0000000000000001,devid=00000002,cip=1").error().message,
              "unknown parameter 'cip'");
}

TEST(Messages, RevokeAndDeviceInfoRoundTrip) {
    const RevokeResponse r{DevId{0x2a}, EnrollmentState::revoked};
    EXPECT_EQ(r.toJson(), R"({"devid":"0000002a","state":"revoked"})");
    EXPECT_EQ(RevokeResponse::fromJson(r.toJson())->devId, r.devId);

    DeviceInfo d;
    d.devId = DevId{0xabcdef01};
    d.urn = *parseDevUrn(kUrn);
    d.fingerprint = *parseFingerprint(kFp);
    d.lot = "lot-1";
    d.box = 3;
    d.station = "st1";
    d.recordId = "st1-9";
    d.firmwareSha256.fill(0xab);
    d.created = "2026-11-23T07:00:00Z";
    d.signature = "MEUCIQ==";
    d.state = EnrollmentState::mapped;
    d.description = "Hall light";
    d.failures = 2;
    auto plain = DeviceInfo::fromJson(d.toJson());
    ASSERT_TRUE(plain) << plain.error().message;
    EXPECT_FALSE(plain->controller);
    EXPECT_EQ(plain->toJson(), d.toJson());
    d.controller = ControllerInfo{"192.0.2.7", 5684, *parseFingerprint(kFp2)};
    EXPECT_NE(d.toJson().find(R"("controller":{"cfingerprint":")" + kFp2 + R"(","cip":"192.0.2.7","cport":5684})"),
              std::string::npos);
    auto back = DeviceInfo::fromJson(d.toJson());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->toJson(), d.toJson());
    EXPECT_EQ(back->box, 3U);
    EXPECT_EQ(back->controller->cport, 5684);
    EXPECT_EQ(d.toJson().find("reworked_from"), std::string::npos);
    d.reworkedFrom = DevId{0xabcdef00};
    auto reworked = DeviceInfo::fromJson(d.toJson());
    ASSERT_TRUE(reworked) << reworked.error().message;
    EXPECT_EQ(reworked->reworkedFrom, DevId{0xabcdef00});
    EXPECT_EQ(reworked->toJson(), d.toJson());
    EXPECT_EQ(d.toJson().find("mcu_uid"), std::string::npos);
    d.mcuUid = "002d00303334510b32313533";
    auto withUid = DeviceInfo::fromJson(d.toJson());
    ASSERT_TRUE(withUid) << withUid.error().message;
    EXPECT_EQ(withUid->mcuUid, d.mcuUid);
    EXPECT_EQ(withUid->toJson(), d.toJson());
}

TEST(Messages, ControllerDevicesRoundTrip) {
    ControllerDevice introduced;
    introduced.urn = *parseDevUrn(kUrn);
    introduced.devId = DevId{0xabcdef01};
    introduced.fingerprint = *parseFingerprint(kFp);
    introduced.description = "Hall light";
    introduced.msState = EnrollmentState::mapped;
    introduced.ms = MsId{1};
    introduced.expiresAt = 1800000000;
    ControllerDevice walkIn;  // accepted without an introduction
    walkIn.urn = *parseDevUrn("urn:dev:ops:32473-Sensor-00000007");
    walkIn.fingerprint = *parseFingerprint(kFp2);
    walkIn.state = ControllerDeviceState::registered;
    walkIn.introduced = false;
    walkIn.lastSeen = 1700000000;
    EXPECT_EQ(walkIn.toJson(), R"({"description":"","devid":"","expires_at":0,"fingerprint":")" + kFp2 +
                                   R"(","introduced":false,"last_seen":1700000000,"ms":"","ms_state":"unknown",)"
                                   R"("state":"registered","urn":"urn:dev:ops:32473-Sensor-00000007"})");
    const DeviceList list{{introduced, walkIn}};
    auto back = DeviceList::fromJson(list.toJson());
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_EQ(back->devices.size(), 2U);
    EXPECT_EQ(back->toJson(), list.toJson());
    EXPECT_EQ(back->devices[0].ms, MsId{1});
    EXPECT_FALSE(back->devices[1].devId);
    EXPECT_EQ(back->devices[1].lastSeen, 1700000000);
    EXPECT_EQ(ControllerDevice::fromJson(introduced.toJson())->msState, EnrollmentState::mapped);
}

}  // namespace
}  // namespace tte::protocol
