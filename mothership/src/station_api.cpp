// The station API under /api/v1/ (PROTOCOL §10): mutual TLS with a registered station
// certificate, signed record upload (idempotent by record id), lot quotas, boxes,
// revocation and device lookup for QA. Every document is read and written by protocol/.
#include "request_target.h"
#include "responses.h"
#include "tte/base/hex.h"
#include "tte/mothership/service.h"
#include "tte/protocol/crypto.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/station_messages.h"

namespace tte::mothership {

namespace {

/// The record's content without its signature and OTP, joined with the OTP's keyed hash: what
/// makes a re-sent record a duplicate. The OTP enters only as its keyed hash, so the digest
/// lets nobody test OTP guesses; the signature is left out because ECDSA's is randomized.
std::string recordDigest(protocol::StationRecord r, const protocol::OtpHash& hash) {
    r.signature.clear();
    return protocol::sha256Hex(r.toJsonWithoutOtp() + toHex(hash));
}

/// Checks one record and turns it into a row; the OTP is hashed here and goes no further.
Result<DeviceRow> recordToRow(const protocol::StationRecord& rec, const StationRow& station,
                              std::span<const std::uint8_t> stationSpki, const OtpHasher& hasher) {
    if (rec.station != station.name)
        return fail(Errc::permissionDenied, "record names station " + rec.station + " but the client is " + station.name);
    auto signature = protocol::base64Decode(rec.signature);
    if (!signature) return std::unexpected(signature.error());
    const std::string canonical = rec.canonicalBytes();  // keys sorted, no whitespace (PROTOCOL §10)
    const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(canonical.data()), canonical.size());
    if (!protocol::verifyEcdsaSha256(stationSpki, bytes, *signature))
        return fail(Errc::unauthenticated, "the signature does not verify with the station's key");
    const auto hash = hasher.hash(rec.devId.value, rec.otp.value());
    if (!hash) return std::unexpected(hash.error());  // unavailable: the whole upload gets 503
    DeviceRow row;
    row.devId = rec.devId.value;
    row.otpHash.assign(hash->begin(), hash->end());
    row.urn = rec.urn.text;
    row.fingerprint = rec.fingerprint.hex();
    row.lot = rec.lot;
    row.box = rec.box;
    row.station = station.name;
    row.recordId = rec.recordId;
    row.recordDigest = recordDigest(rec, *hash);
    row.signature = rec.signature;
    row.firmwareSha256 = toHex(rec.firmwareSha256);
    row.created = rec.created;
    row.mcuUid = rec.mcuUid;
    if (rec.reworkedFrom) row.reworkedFrom = rec.reworkedFrom->value;
    if (rec.psk) {  // PROTOCOL §11: kept only wrapped, like the OTP kept only hashed
        auto wrapped = wrapPsk(hasher, rec.devId.value, PskRole::device, *rec.psk);
        if (!wrapped) return std::unexpected(wrapped.error());
        row.pskWrapped = std::move(*wrapped);
    }
    return row;
}

/// The row as the QA lookup shows it. Errors: internal when a stored field does not parse.
Result<protocol::DeviceInfo> deviceInfo(const DeviceRow& d) {
    protocol::DeviceInfo out;
    auto urn = protocol::parseDevUrn(d.urn);
    auto fp = protocol::parseFingerprint(d.fingerprint);
    auto fw = fromHex(d.firmwareSha256, "firmware_sha256");
    if (!urn || !fp || !fw || fw->size() != out.firmwareSha256.size())
        return fail(Errc::internal, "the registry's row of Dev ID " + toHex(d.devId, 8) + " does not parse");
    out.devId = protocol::DevId{d.devId};
    out.urn = std::move(*urn);
    out.fingerprint = *fp;
    out.lot = d.lot;
    out.box = d.box;
    out.station = d.station;
    out.recordId = d.recordId;
    std::copy(fw->begin(), fw->end(), out.firmwareSha256.begin());
    out.created = d.created;
    out.signature = d.signature;
    out.state = d.state;
    out.description = d.description;
    out.failures = static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.failures));
    if (d.reworkedFrom) out.reworkedFrom = protocol::DevId{*d.reworkedFrom};
    out.mcuUid = d.mcuUid;
    if (d.controller) {
        auto cfp = protocol::parseFingerprint(d.controller->fingerprint);
        if (!cfp) return fail(Errc::internal, "the registry's controller of Dev ID " + toHex(d.devId, 8) + " does not parse");
        out.controller = protocol::ControllerInfo{d.controller->ip, d.controller->port, *cfp};
    }
    return out;
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
        constexpr std::string_view preEnrollSuffix = "/pre-enroll";
        if (rest.ends_with(preEnrollSuffix) && r.method == "POST")
            return preEnroll(r, rest.substr(0, rest.size() - preEnrollSuffix.size()), *station);
        if (r.method == "GET") return deviceLookup(rest);
    }
    return errorResponse(Errc::notFound, "no such station API resource");
}

HttpResponse Service::records(const HttpRequest& r, const StationRow& station) {
    auto entries = protocol::parseRecordBatchEntries(r.body);
    if (!entries) return errorResponse(entries.error());
    if (entries->size() > m_options.maxRecordsPerUpload)
        return errorResponse(Errc::invalidArgument, "at most " + std::to_string(m_options.maxRecordsPerUpload) + " records per upload");
    auto spki = protocol::spkiFromPem(station.certPem);  // parsed once per upload, not per record
    if (!spki) return errorResponse(Errc::internal, "station " + station.name + ": its registered certificate does not parse");
    protocol::RecordResults results;
    for (const auto& entry : *entries) {
        auto row = entry.record ? recordToRow(*entry.record, station, *spki, m_hasher) : std::unexpected(entry.record.error());
        Result<InsertOutcome> outcome = row ? m_registry.insertDevice(*row, nowMs()) : std::unexpected(row.error());
        if (outcome) {
            const bool stored = *outcome == InsertOutcome::stored;
            results.results.push_back({entry.recordId, stored ? protocol::RecordStatus::stored : protocol::RecordStatus::duplicate, ""});
            (stored ? m_metrics.recordsStored : m_metrics.recordsDuplicate)++;
        } else {
            if (httpStatusOf(outcome.error().code) >= 500) return errorResponse(outcome.error());
            results.results.push_back({entry.recordId, protocol::RecordStatus::rejected, outcome.error().message});
            m_metrics.recordsRejected++;
        }
    }
    return jsonResponse(200, results.toJson());
}

HttpResponse Service::deviceLookup(std::string_view devIdHex) {
    auto id = protocol::parseDevId(devIdHex);
    if (!id) return errorResponse(id.error());
    auto d = m_registry.device(id->value);
    if (!d) return errorResponse(d.error());
    auto info = deviceInfo(*d);
    if (!info) return errorResponse(info.error());
    return jsonResponse(200, info->toJson());
}

HttpResponse Service::revoke(const HttpRequest& r, std::string_view devIdHex, const StationRow& station) {
    auto id = protocol::parseDevId(devIdHex);
    if (!id) return errorResponse(id.error());
    auto request = protocol::RevokeRequest::fromJson(r.body);
    if (!request) return errorResponse(request.error());
    // A station revokes only what it provisioned (403 otherwise, nothing revoked); a device
    // revoked before answers the same 200 and keeps its first reason.
    auto done = m_registry.revoke(RevokeTarget{RevokeTarget::Kind::device, id->value, {}},
                                  Revocation{request->reason, "station " + station.name, station.name}, nowMs());
    if (!done) return errorResponse(done.error());
    return jsonResponse(200, protocol::RevokeResponse{*id, protocol::EnrollmentState::revoked}.toJson());
}

HttpResponse Service::preEnroll(const HttpRequest& r, std::string_view devIdHex, const StationRow& station) {
    auto id = protocol::parseDevId(devIdHex);
    if (!id) return errorResponse(id.error());
    auto request = protocol::PreEnrollRequest::fromJson(r.body);
    if (!request) return errorResponse(request.error());
    const protocol::ControllerInfo& c = request->controller;
    // The OTP is not spent: the label's holder later reads `pre-enrolled` from the status query
    // (PROTOCOL §10). Only the station's own devices (403 otherwise, nothing mapped).
    auto state = m_registry.preEnroll(
        id->value, PreEnrollment{station.name, ControllerAddress{c.cip, c.cport, c.cfingerprint.hex()}, request->description},
        nowMs());
    if (!state) return errorResponse(state.error());
    const auto answered = *state == DeviceState::registered ? DeviceState::registered : DeviceState::preEnrolled;
    return jsonResponse(200, protocol::PreEnrollResponse{*id, answered, c.cfingerprint}.toJson());
}

HttpResponse Service::lot(std::string_view lotName) {
    auto q = m_registry.lotQuota(lotName);
    if (!q) return errorResponse(q.error());
    return jsonResponse(200, q->toJson());
}

HttpResponse Service::box(const HttpRequest& r) {
    auto b = protocol::BoxRegistration::fromJson(r.body);
    if (!b) return errorResponse(b.error());
    if (auto s = m_registry.addBox(BoxRow{b->box, b->lot, b->first.value, b->last.value}); !s)
        return errorResponse(s.error());
    return jsonResponse(200, b->toJson());
}

}  // namespace tte::mothership
