// The JSON/CBOR documents of docs/PROTOCOL.md §6-§8, §10: round trips, exact output, and bad
// documents with their exact messages.
#include "tte/protocol/messages.h"

#include <gtest/gtest.h>

#include "tte/protocol/query.h"

namespace tte::protocol {
namespace {

const std::string kUrn = "urn:dev:ops:32473-Sensor-00000000abcdef01";
const std::string kFp = std::string(62, 'a') + "01";
const std::string kFp2 = std::string(64, 'b');

template <class T>
std::string messageOf(const Result<T>& r) {
    return r ? std::string("(accepted)") : r.error().message;
}

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

StationRecord record() {
    StationRecord r;
    r.recordId = "st1-42";
    r.station = "st1";
    r.seq = 42;
    r.devId = DevId{0xabcdef01};
    r.urn = *parseDevUrn(kUrn);
    r.fingerprint = *parseFingerprint(kFp);
    r.otp = Otp(0x123456789abcdef0ULL);
    r.lot = "lot-2026-11";
    r.box = 7;
    r.firmwareSha256.fill(0x11);
    r.created = "2026-11-23T07:00:00Z";
    r.prev.fill(0x22);
    r.signature = "MEUCIQ==";
    return r;
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
