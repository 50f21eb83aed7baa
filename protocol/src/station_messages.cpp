// Station API documents (docs/PROTOCOL.md §10).
#include "tte/protocol/station_messages.h"

#include <algorithm>

#include "json_object.h"
#include "tte/base/hex.h"
#include "tte/base/secret.h"

namespace tte::protocol {

using nlohmann::json;
using detail::JsonObject;
using detail::readField;

namespace {

constexpr std::uint64_t kMaxSeq = (1ULL << 53) - 1;

Result<Sha256> parseSha256(std::string_view hex) {
    if (hex.size() != 64) return fail(Errc::invalidArgument, "expected 64 hex digits, got " + std::to_string(hex.size()));
    auto bytes = fromHex(hex, "hex");
    if (!bytes) return fail(Errc::invalidArgument, "not hex");
    Sha256 out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
}

Result<std::string> parseName(std::string_view text) {
    if (auto ok = detail::checkName(text); !ok) return std::unexpected(ok.error());
    return std::string(text);
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int min, int max) {
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    return v >= min && v <= max;
}

Result<std::string> parseCreated(std::string_view t) {
    // YYYY-MM-DDTHH:MM:SS[.fraction]Z
    bool ok = t.size() >= 20 && t.size() <= 30 && digits(t, 0, 4, 0, 9999) && t[4] == '-' && digits(t, 5, 2, 1, 12) &&
              t[7] == '-' && digits(t, 8, 2, 1, 31) && t[10] == 'T' && digits(t, 11, 2, 0, 23) && t[13] == ':' &&
              digits(t, 14, 2, 0, 59) && t[16] == ':' && digits(t, 17, 2, 0, 60) && t.back() == 'Z';
    if (ok && t.size() > 20) ok = t[19] == '.' && t.size() > 21 && digits(t, 20, t.size() - 21, 0, 999999999);
    if (!ok) return fail(Errc::invalidArgument, "must be RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)");
    return std::string(t);
}

Result<std::string> parseBase64(std::string_view t) {
    if (t.empty() || t.size() > 256 || !base64Decode(t)) return fail(Errc::invalidArgument, "must be base64");
    return std::string(t);
}

Result<DevId> parseBoxNumber(std::string_view t) { return parseDevId(t); }  // the same 8 hex digits

Result<std::string> parseMcuUid(std::string_view t) {
    if (t.size() != 24 || t.find_first_not_of("0123456789abcdef") != std::string_view::npos)
        return fail(Errc::invalidArgument, "must be 24 lower-case hex digits");
    return std::string(t);
}

json recordJson(const StationRecord& r) {
    json j{{"record_id", r.recordId},  {"station", r.station},
           {"seq", r.seq},             {"devid", r.devId.hex()},
           {"urn", r.urn.text},        {"fingerprint", r.fingerprint.hex()},
           {"otp", r.otp.hex()},       {"lot", r.lot},
           {"box", r.box ? json(toHex(*r.box, 8)) : json(nullptr)},
           {"firmware_sha256", toHex(r.firmwareSha256)},
           {"created", r.created},     {"prev", toHex(r.prev)}};
    // Only when known, so that records of stations that do not read it keep their bytes.
    if (r.mcuUid) j["mcu_uid"] = *r.mcuUid;
    // Only when set: a record without it has the canonical bytes it always had.
    if (r.reworkedFrom) j["reworked_from"] = r.reworkedFrom->hex();
    // A DTLS-PSK device's device–MotherShip PSK (§11), secret like the OTP; only when set.
    if (r.psk) j["psk"] = r.psk->hex();
    return j;
}

/// The optional `reworked_from` (8 hex digits, not the record's own Dev ID).
Status readReworkedFrom(const JsonObject& o, DevId own, std::optional<DevId>& into) {
    auto text = o.optionalString("reworked_from");
    if (!text) return std::unexpected(text.error());
    if (!*text) return {};
    auto id = parseDevId(**text);
    if (!id) return o.fieldError("reworked_from", id.error());
    if (*id == own) return o.error("reworked_from " + id->hex() + " is the record's own devid");
    into = *id;
    return {};
}

/// Reads field `key` with `parse` into `into`; the error names the field.
template <class T, class Parse>
Status readInto(const JsonObject& o, std::string_view key, Parse parse, T& into) {
    auto value = readField(o, key, parse);
    if (!value) return std::unexpected(value.error());
    into = std::move(*value);
    return {};
}

/// The fields a station record and a device's entry at the MotherShip share (they have the same
/// names in both), and the rule that the devid is the URN's.
template <class Entry>
Status readRecordFacts(const JsonObject& o, Entry& e) {
    if (auto ok = readInto(o, "station", parseName, e.station); !ok) return ok;
    if (auto ok = readInto(o, "devid", parseDevId, e.devId); !ok) return ok;
    if (auto ok = readInto(o, "urn", parseDevUrn, e.urn); !ok) return ok;
    if (auto ok = readInto(o, "fingerprint", parseFingerprint, e.fingerprint); !ok) return ok;
    if (auto ok = readInto(o, "lot", parseName, e.lot); !ok) return ok;
    auto box = o.optionalString("box");
    if (!box) return std::unexpected(box.error());
    if (*box) {
        auto number = parseBoxNumber(**box);
        if (!number) return o.fieldError("box", number.error());
        e.box = number->value;
    }
    if (auto ok = readInto(o, "firmware_sha256", parseSha256, e.firmwareSha256); !ok) return ok;
    if (auto ok = readInto(o, "created", parseCreated, e.created); !ok) return ok;
    if (auto ok = readInto(o, "signature", parseBase64, e.signature); !ok) return ok;
    auto recordId = o.string("record_id");
    if (!recordId) return std::unexpected(recordId.error());
    e.recordId = std::move(*recordId);
    if (e.urn.devId() != e.devId) return o.error("devid " + e.devId.hex() + " does not match the URN's " + e.urn.devId().hex());
    return {};
}

/// A record document; without `otp` when `otp` is given (the journal's form).
Result<StationRecord> recordFrom(const json& j, std::string_view what, const Otp* otp = nullptr) {
    auto o = otp == nullptr ? JsonObject::from(j, what,
                                               {"record_id", "station", "seq", "devid", "urn", "fingerprint", "otp", "lot",
                                                "box", "firmware_sha256", "created", "prev", "mcu_uid", "signature",
                                                "reworked_from", "psk"})
                            : JsonObject::from(j, what,
                                               {"record_id", "station", "seq", "devid", "urn", "fingerprint", "lot", "box",
                                                "firmware_sha256", "created", "prev", "mcu_uid", "signature",
                                                "reworked_from"});
    if (!o) return std::unexpected(o.error());
    StationRecord r;
    if (auto ok = readRecordFacts(*o, r); !ok) return std::unexpected(ok.error());
    auto seq = o->integer("seq", 1, kMaxSeq);
    if (!seq) return std::unexpected(seq.error());
    r.seq = *seq;
    if (otp != nullptr) {
        r.otp = *otp;
    } else if (auto ok = readInto(*o, "otp", parseOtp, r.otp); !ok) {
        return std::unexpected(ok.error());
    }
    if (auto ok = readInto(*o, "prev", parseSha256, r.prev); !ok) return std::unexpected(ok.error());
    auto uid = o->optionalString("mcu_uid");
    if (!uid) return std::unexpected(uid.error());
    if (*uid) {
        auto parsed = parseMcuUid(**uid);
        if (!parsed) return o->fieldError("mcu_uid", parsed.error());
        r.mcuUid = std::move(*parsed);
    }
    if (auto ok = readReworkedFrom(*o, r.devId, r.reworkedFrom); !ok) return std::unexpected(ok.error());
    if (otp == nullptr) {
        auto psk = detail::readOptionalPsk(*o, "psk");
        if (!psk) return std::unexpected(psk.error());
        // §11: a PSK device's fingerprint commits to its PSK.
        if (*psk && pskFingerprint((*psk)->bytes()) != r.fingerprint) {
            return o->error("fingerprint is not the PSK's (SHA-256 of \"tte-psk\" and the psk)");
        }
        r.psk = *psk;
    }
    if (r.recordId != r.station + "-" + std::to_string(r.seq)) {
        return o->error("record_id " + quoteForError(r.recordId) + " is not '<station>-<seq>'");
    }
    return r;
}

/// The envelope {"records": [...]} with 1..500 entries.
Result<const json*> batchRecords(const json& j) {
    auto o = JsonObject::from(j, "RecordBatch", {"records"});
    if (!o) return std::unexpected(o.error());
    auto records = o->array("records");
    if (!records) return std::unexpected(records.error());
    if ((*records)->empty() || (*records)->size() > kMaxRecordsPerBatch) {
        return o->error("field 'records' must hold 1 to 500 records");
    }
    return *records;
}

Status checkRange(const JsonObject& o, DevId first, DevId last, std::uint64_t maxCount) {
    if (first.value > last.value) return o.error("first " + first.hex() + " is after last " + last.hex());
    if (std::uint64_t{last.value} - first.value + 1 > maxCount) {
        return o.error("more than " + std::to_string(maxCount) + " devices from first to last");
    }
    return {};
}

/// The "lot", "first" and "last" fields of a lot quota or a box: at most `maxCount` Dev IDs.
struct LotRange {
    std::string lot;
    DevId first;
    DevId last;
};

Result<LotRange> readLotRange(const JsonObject& o, std::uint64_t maxCount) {
    auto lot = readField(o, "lot", parseName);
    if (!lot) return std::unexpected(lot.error());
    auto first = readField(o, "first", parseDevId);
    if (!first) return std::unexpected(first.error());
    auto last = readField(o, "last", parseDevId);
    if (!last) return std::unexpected(last.error());
    if (auto ok = checkRange(o, *first, *last, maxCount); !ok) return std::unexpected(ok.error());
    return LotRange{std::move(*lot), *first, *last};
}

}  // namespace

std::string StationRecord::canonicalBytes() const { return recordJson(*this).dump(); }

std::string StationRecord::toJson() const {
    json j = recordJson(*this);
    if (!signature.empty()) j["signature"] = signature;
    return detail::dumpJson(j);
}

std::string StationRecord::toJsonWithoutOtp() const {
    json j = recordJson(*this);
    j.erase("otp");
    j.erase("psk");
    if (!signature.empty()) j["signature"] = signature;
    return detail::dumpJson(j);
}

Result<StationRecord> StationRecord::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "StationRecord");
    if (!j) return std::unexpected(j.error());
    return recordFrom(*j, "StationRecord");
}

Result<StationRecord> StationRecord::fromJsonWithoutOtp(std::string_view text, const Otp& otp) {
    auto j = detail::parseJsonText(text, "StationRecord");
    if (!j) return std::unexpected(j.error());
    return recordFrom(*j, "StationRecord", &otp);
}

std::string RecordBatch::toJson() const {
    json list = json::array();
    for (const StationRecord& r : records) {
        json j = recordJson(r);
        if (!r.signature.empty()) j["signature"] = r.signature;
        list.push_back(std::move(j));
    }
    return detail::dumpJson(json{{"records", std::move(list)}});
}

Result<RecordBatch> RecordBatch::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "RecordBatch");
    if (!j) return std::unexpected(j.error());
    auto list = batchRecords(*j);
    if (!list) return std::unexpected(list.error());
    RecordBatch batch;
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
        auto r = recordFrom((**list)[i], "StationRecord");
        if (!r) return withContext(r.error(), "RecordBatch: records[" + std::to_string(i) + "]");
        batch.records.push_back(std::move(*r));
    }
    return batch;
}

Result<std::vector<BatchEntry>> parseRecordBatchEntries(std::string_view text) {
    auto j = detail::parseJsonText(text, "RecordBatch");
    if (!j) return std::unexpected(j.error());
    auto list = batchRecords(*j);
    if (!list) return std::unexpected(list.error());
    std::vector<BatchEntry> entries;
    for (const json& item : **list) {
        std::string id;
        if (item.is_object() && item.contains("record_id") && item["record_id"].is_string()) {
            id = item["record_id"].get<std::string>();
        }
        entries.push_back(BatchEntry{std::move(id), recordFrom(item, "StationRecord")});
    }
    return entries;
}

std::string_view recordStatusName(RecordStatus status) {
    switch (status) {
    case RecordStatus::stored: return "stored";
    case RecordStatus::duplicate: return "duplicate";
    case RecordStatus::rejected: return "rejected";
    }
    return "rejected";
}

std::string RecordResults::toJson() const {
    json list = json::array();
    for (const RecordResult& r : results) {
        json j{{"record_id", r.recordId}, {"status", std::string(recordStatusName(r.status))}};
        if (!r.message.empty()) j["message"] = r.message;
        list.push_back(std::move(j));
    }
    return detail::dumpJson(json{{"results", std::move(list)}});
}

Result<RecordResults> RecordResults::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "RecordResults");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "RecordResults", {"results"});
    if (!o) return std::unexpected(o.error());
    auto list = o->array("results");
    if (!list) return std::unexpected(list.error());
    RecordResults out;
    for (std::size_t i = 0; i < (*list)->size(); ++i) {
        const std::string what = "RecordResults: results[" + std::to_string(i) + "]";
        auto item = JsonObject::from((**list)[i], what, {"record_id", "status", "message"});
        if (!item) return std::unexpected(item.error());
        auto id = item->string("record_id");
        if (!id) return std::unexpected(id.error());
        auto status = readField(*item, "status", [](std::string_view t) -> Result<RecordStatus> {
            for (RecordStatus s : {RecordStatus::stored, RecordStatus::duplicate, RecordStatus::rejected}) {
                if (recordStatusName(s) == t) return s;
            }
            return fail(Errc::invalidArgument, "unknown status " + quoteForError(t));
        });
        if (!status) return std::unexpected(status.error());
        auto message = item->optionalString("message");
        if (!message) return std::unexpected(message.error());
        out.results.push_back(RecordResult{*id, *status, message->value_or("")});
    }
    return out;
}

std::string LotQuota::toJson() const {
    return detail::dumpJson(json{{"lot", lot}, {"first", first.hex()}, {"last", last.hex()}, {"used", used}});
}

Result<LotQuota> LotQuota::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "LotQuota");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "LotQuota", {"lot", "first", "last", "used"});
    if (!o) return std::unexpected(o.error());
    auto range = readLotRange(*o, 1ULL << 32);
    if (!range) return std::unexpected(range.error());
    auto used = o->integer("used", 0, std::uint64_t{range->last.value} - range->first.value + 1);
    if (!used) return std::unexpected(used.error());
    return LotQuota{range->lot, range->first, range->last, *used};
}

std::string BoxRegistration::toJson() const {
    return detail::dumpJson(json{{"box", toHex(box, 8)}, {"lot", lot}, {"first", first.hex()}, {"last", last.hex()}});
}

Result<BoxRegistration> BoxRegistration::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "BoxRegistration");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "BoxRegistration", {"box", "lot", "first", "last"});
    if (!o) return std::unexpected(o.error());
    auto box = readField(*o, "box", parseBoxNumber);
    if (!box) return std::unexpected(box.error());
    auto range = readLotRange(*o, 65536);
    if (!range) return std::unexpected(range.error());
    return BoxRegistration{box->value, range->lot, range->first, range->last};
}

std::string RevokeRequest::toJson() const { return detail::dumpJson(json{{"reason", reason}}); }

Result<RevokeRequest> RevokeRequest::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "RevokeRequest");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "RevokeRequest", {"reason"});
    if (!o) return std::unexpected(o.error());
    auto reason = o->string("reason");
    if (!reason) return std::unexpected(reason.error());
    if (reason->empty()) return o->error("field 'reason': empty");
    if (auto ok = detail::checkText(*reason, 200); !ok) return o->fieldError("reason", ok.error());
    return RevokeRequest{*reason};
}

}  // namespace tte::protocol

namespace tte::protocol {

std::string RevokeResponse::toJson() const {
    return detail::dumpJson(json{{"devid", devId.hex()}, {"state", std::string(enrollmentStateName(state))}});
}

Result<RevokeResponse> RevokeResponse::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "RevokeResponse");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "RevokeResponse", {"devid", "state"});
    if (!o) return std::unexpected(o.error());
    auto devId = readField(*o, "devid", parseDevId);
    if (!devId) return std::unexpected(devId.error());
    auto state = readField(*o, "state", parseEnrollmentState);
    if (!state) return std::unexpected(state.error());
    return RevokeResponse{*devId, *state};
}

std::string PreEnrollRequest::toJson() const {
    json j{{"cip", controller.cip}, {"cport", controller.cport}, {"cfingerprint", controller.cfingerprint.hex()}};
    if (!description.empty()) j["description"] = description;
    return detail::dumpJson(j);
}

Result<PreEnrollRequest> PreEnrollRequest::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "PreEnrollRequest");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "PreEnrollRequest", {"cip", "cport", "cfingerprint", "description"});
    if (!o) return std::unexpected(o.error());
    PreEnrollRequest r;
    auto controller = detail::readControllerAddress(*o);
    if (!controller) return std::unexpected(controller.error());
    r.controller = std::move(*controller);
    auto description = o->optionalString("description");
    if (!description) return std::unexpected(description.error());
    if (*description) {
        if (auto ok = detail::checkText(**description, 200); !ok) return o->fieldError("description", ok.error());
        r.description = **description;
    }
    return r;
}

std::string PreEnrollResponse::toJson() const {
    return detail::dumpJson(json{{"devid", devId.hex()},
                                 {"state", std::string(enrollmentStateName(state))},
                                 {"cfingerprint", cfingerprint.hex()}});
}

Result<PreEnrollResponse> PreEnrollResponse::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "PreEnrollResponse");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "PreEnrollResponse", {"devid", "state", "cfingerprint"});
    if (!o) return std::unexpected(o.error());
    auto devId = readField(*o, "devid", parseDevId);
    if (!devId) return std::unexpected(devId.error());
    auto state = readField(*o, "state", parseEnrollmentState);
    if (!state) return std::unexpected(state.error());
    if (*state != EnrollmentState::preEnrolled && *state != EnrollmentState::registered)
        return o->error("field 'state': must be pre-enrolled or registered");
    auto cfp = readField(*o, "cfingerprint", parseFingerprint);
    if (!cfp) return std::unexpected(cfp.error());
    return PreEnrollResponse{*devId, *state, *cfp};
}

std::string DeviceInfo::toJson() const {
    json j{{"devid", devId.hex()},
           {"urn", urn.text},
           {"fingerprint", fingerprint.hex()},
           {"lot", lot},
           {"box", box ? json(toHex(*box, 8)) : json(nullptr)},
           {"station", station},
           {"record_id", recordId},
           {"firmware_sha256", toHex(firmwareSha256)},
           {"created", created},
           {"signature", signature},
           {"state", std::string(enrollmentStateName(state))},
           {"description", description},
           {"failures", failures}};
    if (reworkedFrom) j["reworked_from"] = reworkedFrom->hex();
    if (mcuUid) j["mcu_uid"] = *mcuUid;
    if (controller) j["controller"] = json::parse(controller->toJson());
    return detail::dumpJson(j);
}

Result<DeviceInfo> DeviceInfo::fromJson(std::string_view text) {
    auto j = detail::parseJsonText(text, "DeviceInfo");
    if (!j) return std::unexpected(j.error());
    auto o = JsonObject::from(*j, "DeviceInfo",
                              {"devid", "urn", "fingerprint", "lot", "box", "station", "record_id", "firmware_sha256",
                               "created", "signature", "state", "description", "failures", "controller",
                               "reworked_from", "mcu_uid"});
    if (!o) return std::unexpected(o.error());
    DeviceInfo d;
    if (auto ok = readRecordFacts(*o, d); !ok) return std::unexpected(ok.error());
    if (auto ok = readReworkedFrom(*o, d.devId, d.reworkedFrom); !ok) return std::unexpected(ok.error());
    auto uid = o->optionalString("mcu_uid");
    if (!uid) return std::unexpected(uid.error());
    if (*uid) {
        auto parsed = parseMcuUid(**uid);
        if (!parsed) return o->fieldError("mcu_uid", parsed.error());
        d.mcuUid = std::move(*parsed);
    }
    auto state = readField(*o, "state", parseEnrollmentState);
    if (!state) return std::unexpected(state.error());
    auto description = o->string("description");
    if (!description) return std::unexpected(description.error());
    if (auto ok = detail::checkText(*description, 200); !ok) return o->fieldError("description", ok.error());
    auto failures = o->integer("failures", 0, (1ULL << 53) - 1);
    if (!failures) return std::unexpected(failures.error());
    if (j->contains("controller")) {
        auto controller = ControllerInfo::fromJson((*j)["controller"].dump());
        if (!controller) return o->fieldError("controller", controller.error());
        d.controller = std::move(*controller);
    }
    d.state = *state;
    d.description = std::move(*description);
    d.failures = *failures;
    return d;
}

}  // namespace tte::protocol
