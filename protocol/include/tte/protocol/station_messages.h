// The station API documents (docs/PROTOCOL.md §10): the signed StationRecord, the upload
// batch and its results, the lot quota, the box registration, the revoke request and its
// answer, and the device lookup for QA.
// fromJson() errors are those listed in mothership_messages.h, starting "<Type>: ".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/protocol/crypto.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/ids.h"
#include "tte/protocol/mothership_messages.h"

namespace tte::protocol {

inline constexpr std::size_t kMaxRecordsPerBatch = 500;

/// One device's record, signed by the station over canonicalBytes(). Carries the OTP: the
/// JSON text is secret (sent once over mutual TLS, never logged).
struct StationRecord {
    std::string recordId;  ///< "<station>-<seq>"
    std::string station;   ///< 1-64 of [A-Za-z0-9._-]
    std::uint64_t seq = 0;  ///< 1 .. 2^53-1 (exact in every JSON reader)
    DevId devId;
    DevUrn urn;
    Fingerprint fingerprint;
    Otp otp;
    std::string lot;                 ///< 1-64 of [A-Za-z0-9._-]
    std::optional<std::uint32_t> box;  ///< the box number of a bulk lot, else null
    Sha256 firmwareSha256{};
    std::string created;  ///< RFC 3339 UTC, YYYY-MM-DDTHH:MM:SS[.fraction]Z
    Sha256 prev{};        ///< SHA-256 of the previous journal entry
    /// The board MCU's 96-bit unique ID, 24 lower-case hex digits (the words at 0x1FFF7A10,
    /// 0x1FFF7A14, 0x1FFF7A18 in that order), read before anything was written. Absent in
    /// records of stations that do not read it; when present it is signed like every field.
    std::optional<std::string> mcuUid;
    /// A reworked board's new identity: the Dev ID it had before (revoked first). Written
    /// (`"reworked_from": "<8 hex>"`, signed with the rest) only when set, so a record without
    /// it keeps its canonical bytes.
    std::optional<DevId> reworkedFrom;
    /// A DTLS-PSK device's device–MotherShip PSK (§11; `"psk": "<64 hex>"`, signed with the
    /// rest, only when set). Secret like the OTP; `fingerprint` must be pskFingerprint() of it.
    std::optional<Psk> psk = std::nullopt;
    std::string signature;  ///< base64 DER ECDSA-SHA256 by the station key; empty until signed

    /// All fields but `signature`, keys sorted, no whitespace (nlohmann::json dump()): the bytes
    /// the station signs and the MotherShip verifies.
    [[nodiscard]] std::string canonicalBytes() const;
    /// All fields; `signature` only when not empty.
    [[nodiscard]] std::string toJson() const;
    /// As toJson() without `otp` and `psk`: the form the station keeps in its journal, where
    /// no secret may be.
    [[nodiscard]] std::string toJsonWithoutOtp() const;
    /// Reads toJsonWithoutOtp()'s text with the OTP kept elsewhere (the station's sealed queue);
    /// the rules and errors of fromJson().
    static Result<StationRecord> fromJsonWithoutOtp(std::string_view text, const Otp& otp);
    /// Requires every field including `signature`. Also: "StationRecord: record_id '<id>' is
    /// not '<station>-<seq>'", "StationRecord: devid <hex> does not match the URN's <hex>",
    /// "field 'created': must be RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)", "field 'signature': must
    /// be base64", "field 'lot': must be 1-64 of [A-Za-z0-9._-]", "field 'prev': expected 64 hex
    /// digits, got N", "field 'mcu_uid': must be 24 lower-case hex digits",
    /// "field 'reworked_from': devid: expected 8 hex digits, got N",
    /// "reworked_from <hex> is the record's own devid", "field 'psk': psk: expected 64 hex
    /// digits, got N", "fingerprint is not the PSK's (SHA-256 of \"tte-psk\" and the psk)".
    static Result<StationRecord> fromJson(std::string_view text);
};

/// POST /api/v1/records: {"records": [ 1..500 records ]}.
struct RecordBatch {
    std::vector<StationRecord> records;
    [[nodiscard]] std::string toJson() const;
    /// Strict: every record must parse. Also "RecordBatch: field 'records' must hold 1 to 500 records",
    /// "RecordBatch: records[i]: <StationRecord error>".
    static Result<RecordBatch> fromJson(std::string_view text);
};

/// One record of a batch as the MotherShip sees it: its id (empty when absent or not a
/// string) and the record or why it is rejected.
struct BatchEntry {
    std::string recordId;
    Result<StationRecord> record;
};

/// Parses the batch envelope strictly and each record on its own, so that one bad record is
/// `rejected` while the others are stored. Errors: the envelope's (invalid JSON, unknown
/// field, not 1..500 records).
Result<std::vector<BatchEntry>> parseRecordBatchEntries(std::string_view text);

enum class RecordStatus { stored, duplicate, rejected };
/// "stored", "duplicate", "rejected".
std::string_view recordStatusName(RecordStatus status);

struct RecordResult {
    std::string recordId;
    RecordStatus status = RecordStatus::stored;
    std::string message;  ///< written only when not empty
};

/// 200 answer to the upload: {"results": [{"record_id", "status", "message"?}]}.
struct RecordResults {
    std::vector<RecordResult> results;
    [[nodiscard]] std::string toJson() const;
    static Result<RecordResults> fromJson(std::string_view text);
};

/// GET /api/v1/lots/<lot>: {"lot", "first": "<8 hex>", "last": "<8 hex>", "used": N}, the Dev
/// ID range of a lot and how many of its IDs are used. first <= last, used <= last-first+1.
struct LotQuota {
    std::string lot;
    DevId first;
    DevId last;
    std::uint64_t used = 0;
    [[nodiscard]] std::string toJson() const;
    static Result<LotQuota> fromJson(std::string_view text);
};

/// POST /api/v1/boxes: {"box": "<8 hex>", "lot", "first": "<8 hex>", "last": "<8 hex>"};
/// first <= last, at most 65,536 devices.
struct BoxRegistration {
    std::uint32_t box = 0;
    std::string lot;
    DevId first;
    DevId last;
    [[nodiscard]] std::string toJson() const;
    static Result<BoxRegistration> fromJson(std::string_view text);
};

/// POST /api/v1/devices/<devid>/revoke: {"reason": "…"} (1-200 bytes of UTF-8).
struct RevokeRequest {
    std::string reason;
    [[nodiscard]] std::string toJson() const;
    static Result<RevokeRequest> fromJson(std::string_view text);
};

/// 200 answer to the revoke: {"devid": "<8 hex>", "state": "revoked"}.
struct RevokeResponse {
    DevId devId;
    EnrollmentState state = EnrollmentState::revoked;
    [[nodiscard]] std::string toJson() const;
    static Result<RevokeResponse> fromJson(std::string_view text);
};

/// POST /api/v1/devices/<devid>/pre-enroll (PROTOCOL.md §10): a pre-enrolled lot's station maps
/// its own device to the lot's Controller without its OTP: {"cip", "cport", "cfingerprint",
/// "description"?} (description at most 200 bytes of UTF-8, written only when not empty).
/// fromJson() errors as ControllerInfo's, and "field 'description': <checkText()'s message>".
struct PreEnrollRequest {
    ControllerInfo controller;
    std::string description;
    [[nodiscard]] std::string toJson() const;
    static Result<PreEnrollRequest> fromJson(std::string_view text);
};

/// 200 answer to the pre-enrollment: {"devid": "<8 hex>", "state": "pre-enrolled"|"registered",
/// "cfingerprint": "<64 hex>"} – `registered` when the device fetched its Controller already
/// (a repeated pre-enrollment). fromJson() also: "field 'state': must be pre-enrolled or
/// registered".
struct PreEnrollResponse {
    DevId devId;
    EnrollmentState state = EnrollmentState::preEnrolled;
    Fingerprint cfingerprint;
    [[nodiscard]] std::string toJson() const;
    static Result<PreEnrollResponse> fromJson(std::string_view text);
};

/// GET /api/v1/devices/<devid> (QA, reconcile): what the MotherShip holds of a device, never
/// its OTP or OTP hash. {"devid", "urn", "fingerprint", "lot", "box", "station", "record_id",
/// "firmware_sha256", "created", "signature", "state", "description", "failures",
/// "controller"?: {"cip", "cport", "cfingerprint"}, "reworked_from"?: "<8 hex>"}; `controller`
/// only once mapped, `reworked_from` only for a reworked board's new identity.
/// fromJson() also: "DeviceInfo: devid <hex> does not match the URN's <hex>".
struct DeviceInfo {
    DevId devId;
    DevUrn urn;
    Fingerprint fingerprint;
    std::string lot;
    std::optional<std::uint32_t> box;
    std::string station;
    std::string recordId;
    Sha256 firmwareSha256{};
    std::string created;  ///< RFC 3339 UTC, as the station wrote it
    std::string signature;  ///< the station's, base64
    EnrollmentState state = EnrollmentState::notMapped;
    std::string description;  ///< the introducer's, at most 200 bytes
    std::uint64_t failures = 0;  ///< failed OTP attempts on this Dev ID
    std::optional<ControllerInfo> controller;
    std::optional<DevId> reworkedFrom;  ///< `reworked_from`, only for a reworked board's new identity
    std::optional<std::string> mcuUid;  ///< `mcu_uid` of the record (24 lower-case hex), when it had one
    [[nodiscard]] std::string toJson() const;
    static Result<DeviceInfo> fromJson(std::string_view text);
};

}  // namespace tte::protocol
