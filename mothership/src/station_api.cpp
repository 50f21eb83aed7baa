// The station API under /api/v1/ (PROTOCOL §10): mutual TLS with a registered station
// certificate, signed record upload (idempotent by record id), lot quotas, boxes,
// revocation and device lookup for QA.
#include <nlohmann/json.hpp>

#include "request_target.h"
#include "responses.h"
#include "tte/base/hex.h"
#include "tte/mothership/service.h"
#include "tte/protocol/ids.h"

namespace tte::mothership {

using nlohmann::json;

namespace {

Result<std::string> stringField(const json& rec, const char* name, std::size_t maxLen) {
    auto it = rec.find(name);
    if (it == rec.end() || !it->is_string()) return fail(Errc::invalidArgument, std::string(name) + " is missing or not a string");
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > maxLen) return fail(Errc::invalidArgument, std::string(name) + " is empty or too long");
    return s;
}

Result<std::string> hexField(const json& rec, const char* name, std::size_t digits) {
    auto s = stringField(rec, name, digits);
    if (!s) return s;
    if (s->size() != digits) return fail(Errc::invalidArgument, std::string(name) + ": expected " + std::to_string(digits) + " hex digits");
    auto b = fromHex(*s, name);
    if (!b) return std::unexpected(b.error());
    return toHex(*b);  // lower case
}

/// Checks one record and turns it into a row; the OTP is hashed here and goes no further.
Result<DeviceRow> recordToRow(const json& rec, const StationRow& station, const OtpHasher& hasher) {
    if (!rec.is_object()) return fail(Errc::invalidArgument, "record is not a JSON object");
    DeviceRow row;
    auto recordId = stringField(rec, "record_id", 128);
    auto st = stringField(rec, "station", 64);
    auto devid = hexField(rec, "devid", 8);
    auto urn = stringField(rec, "urn", 127);
    auto fp = hexField(rec, "fingerprint", 64);
    auto otpText = hexField(rec, "otp", 16);
    auto lot = stringField(rec, "lot", 64);
    auto fw = hexField(rec, "firmware_sha256", 64);
    auto created = stringField(rec, "created", 40);
    auto prev = hexField(rec, "prev", 64);
    auto sig = stringField(rec, "signature", 512);
    for (const auto* r : {&recordId, &st, &devid, &urn, &fp, &otpText, &lot, &fw, &created, &prev, &sig}) {
        if (!*r) return std::unexpected(r->error());
    }
    if (!rec.contains("seq") || !rec["seq"].is_number_unsigned()) return fail(Errc::invalidArgument, "seq is missing or not a number");
    if (*st != station.name)
        return fail(Errc::permissionDenied, "record names station " + *st + " but the client is " + station.name);
    row.devId = static_cast<std::uint32_t>(*parseHexInt(*devid, 8, "devid"));
    auto parsedUrn = protocol::parseDevUrn(*urn);
    if (!parsedUrn) return std::unexpected(parsedUrn.error());
    if (parsedUrn->devId().value != row.devId) return fail(Errc::invalidArgument, "devid does not match the low 32 bits of the URN's serial");
    const auto box = rec.find("box");
    if (box == rec.end()) return fail(Errc::invalidArgument, "box is missing (null when the device is in no box)");
    if (!box->is_null()) {
        auto b = hexField(rec, "box", 8);
        if (!b) return std::unexpected(b.error());
        row.box = static_cast<std::uint32_t>(*parseHexInt(*b, 8, "box"));
    }
    auto signature = base64Decode(*sig);
    if (!signature) return std::unexpected(signature.error());
    json unsignedRec = rec;
    unsignedRec.erase("signature");
    const std::string canonical = unsignedRec.dump();  // keys sorted, no whitespace (PROTOCOL §10)
    if (auto v = verifyEcdsaSha256(station.certPem, canonical, *signature); !v) return std::unexpected(v.error());
    const auto otp = protocol::parseOtp(*otpText);
    if (!otp) return std::unexpected(otp.error());
    const auto hash = hasher.hash(row.devId, otp->value());
    if (!hash) return std::unexpected(hash.error());  // unavailable: the whole upload gets 503
    row.otpHash.assign(hash->begin(), hash->end());
    row.urn = *urn;
    row.fingerprint = *fp;
    row.lot = *lot;
    row.station = station.name;
    row.recordId = *recordId;
    // Idempotency: the record's content without its (randomized) signature; the OTP enters
    // only as its keyed hash, so the digest lets nobody test OTP guesses.
    json digestRec = unsignedRec;
    digestRec.erase("otp");
    row.recordDigest = sha256Hex(digestRec.dump() + toHex(*hash));
    row.signature = *sig;
    row.firmwareSha256 = *fw;
    row.created = *created;
    return row;
}

}  // namespace

HttpResponse Service::stationApi(const HttpRequest& r) {
    if (!r.clientFingerprint)
        return errorResponse(Errc::unauthenticated, "the station API needs a client certificate (mutual TLS)");
    auto station = m_registry.stationByFingerprint(*r.clientFingerprint);
    if (!station) {
        if (station.error().code == Errc::notFound)
            return errorResponse(Errc::permissionDenied, "this client certificate is not a registered station");
        return errorResponse(station.error());
    }
    const std::string_view path = splitTarget(r.target).first;
    constexpr std::string_view devices = "/api/v1/devices/";
    constexpr std::string_view lots = "/api/v1/lots/";
    if (path == "/api/v1/records" && r.method == "POST") return records(r, *station);
    if (path == "/api/v1/boxes" && r.method == "POST") return box(r);
    if (path.starts_with(lots) && r.method == "GET") return lot(path.substr(lots.size()));
    if (path.starts_with(devices)) {
        const std::string_view rest = path.substr(devices.size());
        if (rest.ends_with("/revoke") && r.method == "POST") return revoke(r, rest.substr(0, rest.size() - 7), *station);
        if (r.method == "GET") return deviceLookup(rest);
    }
    return errorResponse(Errc::notFound, "no such station API resource");
}

HttpResponse Service::records(const HttpRequest& r, const StationRow& station) {
    json body = json::parse(r.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("records") || !body["records"].is_array())
        return errorResponse(Errc::invalidArgument, "body must be {\"records\": [...]}");
    const auto& list = body["records"];
    if (list.size() > m_options.maxRecordsPerUpload)
        return errorResponse(Errc::invalidArgument, "at most " + std::to_string(m_options.maxRecordsPerUpload) + " records per upload");
    json results = json::array();
    for (const auto& rec : list) {
        json result{{"record_id", rec.is_object() && rec.contains("record_id") ? rec["record_id"] : json(nullptr)}};
        auto row = recordToRow(rec, station, m_hasher);
        Result<InsertOutcome> outcome = row ? m_registry.insertDevice(*row, nowMs()) : std::unexpected(row.error());
        if (outcome) {
            result["status"] = *outcome == InsertOutcome::stored ? "stored" : "duplicate";
            (*outcome == InsertOutcome::stored ? m_metrics.recordsStored : m_metrics.recordsDuplicate)++;
        } else {
            if (httpStatusOf(outcome.error().code) >= 500) return errorResponse(outcome.error());
            result["status"] = "rejected";
            result["message"] = outcome.error().message;
            m_metrics.recordsRejected++;
        }
        results.push_back(std::move(result));
    }
    return jsonResponse(200, {{"results", std::move(results)}});
}

HttpResponse Service::deviceLookup(std::string_view devIdHex) {
    auto id = parseHexInt(devIdHex, 8, "Dev ID");
    if (!id) return errorResponse(id.error());
    auto d = m_registry.device(static_cast<std::uint32_t>(*id));
    if (!d) return errorResponse(d.error());
    json out{{"devid", toHex(d->devId, 8)},          {"urn", d->urn},
             {"fingerprint", d->fingerprint},         {"lot", d->lot},
             {"box", d->box ? json(toHex(*d->box, 8)) : json(nullptr)},
             {"station", d->station},                 {"record_id", d->recordId},
             {"firmware_sha256", d->firmwareSha256},  {"created", d->created},
             {"signature", d->signature},             {"state", std::string(stateName(d->state))},
             {"description", d->description},         {"failures", d->failures}};
    if (d->controller) {
        out["controller"] = {{"cip", d->controller->ip}, {"cport", d->controller->port},
                             {"cfingerprint", d->controller->fingerprint}};
    }
    return jsonResponse(200, out);
}

HttpResponse Service::revoke(const HttpRequest& r, std::string_view devIdHex, const StationRow& station) {
    auto id = parseHexInt(devIdHex, 8, "Dev ID");
    if (!id) return errorResponse(id.error());
    json body = json::parse(r.body.empty() ? "{}" : r.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return errorResponse(Errc::invalidArgument, "body must be a JSON object");
    const std::string reason = body.contains("reason") && body["reason"].is_string() ? body["reason"].get<std::string>() : "";
    if (reason.size() > 200) return errorResponse(Errc::invalidArgument, "reason: longer than 200 bytes");
    if (auto s = m_registry.revoke(static_cast<std::uint32_t>(*id), reason, "station " + station.name, nowMs()); !s)
        return errorResponse(s.error());
    return jsonResponse(200, {{"devid", toHex(static_cast<std::uint32_t>(*id), 8)}, {"state", "revoked"}});
}

HttpResponse Service::lot(std::string_view lotName) {
    auto q = m_registry.lotQuota(lotName);
    if (!q) return errorResponse(q.error());
    return jsonResponse(200, {{"lot", q->lot}, {"first", toHex(q->first, 8)}, {"last", toHex(q->last, 8)}, {"used", q->used}});
}

HttpResponse Service::box(const HttpRequest& r) {
    json body = json::parse(r.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return errorResponse(Errc::invalidArgument, "body must be a JSON object");
    auto b = hexField(body, "box", 8);
    auto lotName = stringField(body, "lot", 64);
    auto first = hexField(body, "first", 8);
    auto last = hexField(body, "last", 8);
    for (const auto* f : {&b, &lotName, &first, &last}) {
        if (!*f) return errorResponse(f->error());
    }
    BoxRow row{static_cast<std::uint32_t>(*parseHexInt(*b, 8, "box")), *lotName,
               static_cast<std::uint32_t>(*parseHexInt(*first, 8, "first")),
               static_cast<std::uint32_t>(*parseHexInt(*last, 8, "last"))};
    if (auto s = m_registry.addBox(row); !s) return errorResponse(s.error());
    return jsonResponse(200, {{"box", *b}, {"lot", row.lot}, {"first", *first}, {"last", *last}});
}

}  // namespace tte::mothership
