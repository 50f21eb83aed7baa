// The MotherShip's registry: one row per device ever made, stations, lot quotas, boxes and
// an append-only audit trail. An interface with SQL backends (SQLite, PostgreSQL) and an
// in-memory one for unit tests. Every write returns only after it is committed durably.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/protocol/mothership_messages.h"
#include "tte/protocol/station_messages.h"

namespace tte::mothership {

/// Device life cycle (draft 2, messages 5, 8, 10): the protocol's enrollment state.
using DeviceState = protocol::EnrollmentState;

/// `not-mapped`, `mapped`, `registered`, `revoked` (protocol::enrollmentStateName()).
inline std::string_view stateName(DeviceState s) { return protocol::enrollmentStateName(s); }

/// Where a device's Controller is (draft 2, message 4).
struct ControllerAddress {
    std::string ip;
    std::uint16_t port = 0;
    std::string fingerprint;  ///< 64 lower-case hex
    /// A DTLS-PSK device's device–Controller PSK, wrapped (crypto.h wrapPsk, PROTOCOL §11).
    std::optional<std::string> pskWrapped = std::nullopt;
    bool operator==(const ControllerAddress&) const = default;
};

/// One device row. The OTP is never stored: only its keyed hash (otpHash, 32 bytes).
struct DeviceRow {
    std::uint32_t devId = 0;
    std::string urn;
    std::string fingerprint;  ///< device DTLS key, 64 lower-case hex
    std::vector<std::uint8_t> otpHash;
    std::string lot;
    std::optional<std::uint32_t> box;
    std::string station;
    std::string recordId;
    std::string recordDigest;  ///< SHA-256 hex of the record's canonical bytes (idempotency)
    std::string signature;     ///< the station's signature, base64 DER
    std::string firmwareSha256;
    std::string created;       ///< the station's RFC 3339 time
    DeviceState state = DeviceState::notMapped;
    std::optional<ControllerAddress> controller;
    std::string description;
    std::int64_t insertedAt = 0;  ///< unix milliseconds
    std::int64_t updatedAt = 0;
    std::int64_t failures = 0;    ///< wrong OTPs ever tried for this Dev ID (its `otp-wrong` audit lines)
    std::optional<std::string> mcuUid;  ///< the board MCU's unique ID, 24 lower-case hex, when the record had it
    std::optional<std::uint32_t> reworkedFrom;  ///< the Dev ID this board had before a rework (revoked)
    std::int64_t revokedAt = 0;   ///< unix milliseconds; 0 unless revoked
    std::string revokedBy;        ///< "admin", "station <name>"; empty unless revoked
    std::string revokeReason;     ///< as given to the revocation; empty unless revoked
    /// A DTLS-PSK device (PROTOCOL §11): its device–MotherShip PSK, wrapped (crypto.h wrapPsk);
    /// `fingerprint` is then protocol::pskFingerprint() of the PSK. nullopt: a certificate device.
    std::optional<std::string> pskWrapped = std::nullopt;
    /// The station that mapped the device to its lot's Controller through the station API
    /// (pre-enrolled: its OTP was not spent); empty for a device mapped by its label's holder.
    std::string preEnrolledBy;
};

/// A pre-enrollment (PROTOCOL §10): the station that asks, and where its device goes.
struct PreEnrollment {
    std::string station;
    ControllerAddress controller;
    std::string description;
};

/// What a revocation covers: one device, every device of a box, or every device of a lot.
struct RevokeTarget {
    enum class Kind { device, box, lot };
    Kind kind = Kind::device;
    std::uint32_t number = 0;  ///< Dev ID or box number
    std::string lot;           ///< lot name (Kind::lot)

    /// "Dev ID 00000100", "box 00000002", "lot lot-1".
    [[nodiscard]] std::string describe() const;
};

/// Who revokes and why. A station may revoke only the devices it provisioned (`onlyStation`).
struct Revocation {
    std::string reason;                      ///< 1-200 bytes, audited
    std::string actor;                       ///< "admin", "station <name>"
    std::optional<std::string> onlyStation;  ///< refuse devices another station provisioned
};

/// The devices a revocation covered, by Dev ID: those it revoked now and those revoked before
/// (left as they were: first reason, first time).
struct RevokeSummary {
    std::vector<std::uint32_t> revoked;
    std::vector<std::uint32_t> alreadyRevoked;
};

/// One line of the audit trail.
struct AuditEntry {
    std::int64_t id = 0;
    std::int64_t at = 0;  ///< unix milliseconds
    std::optional<std::uint32_t> devId;
    std::string event;   ///< "stored", "mapped", "registered", "revoked", "otp-wrong", ...
    std::string client;  ///< address or station name
    std::string detail;
};

struct StationRow {
    std::string name;
    std::string fingerprint;  ///< SHA-256 of the certificate's SPKI, 64 hex
    std::string certPem;
    std::int64_t addedAt = 0;
};

/// A lot's Dev ID quota and how many devices are stored in it: the station API's document.
using LotQuota = protocol::LotQuota;

/// One subject of failure accounting – `dev:<8 hex>` for a Dev ID, `ip:<address>` for a
/// client – and the failures it may have within a window before it is locked out.
struct FailureSubject {
    std::string key;
    int limit = 1;
};

/// How failures are counted (milliseconds): `limit` failures within `windowMs` of the
/// first lock the subject for `lockoutMs`; a new window starts after the lockout.
struct FailurePolicy {
    std::int64_t windowMs = 900'000;
    std::int64_t lockoutMs = 900'000;
};

/// SQLite's write-ahead log as its checkpointer last left it (docs/MOTHERSHIP.md, "Database"):
/// a log that only grows means commits that are still waiting to be copied into the database
/// file – a checkpoint that fails (a full disk), or a reader whose snapshot needs them.
struct WalState {
    std::int64_t frames = 0;       ///< pages (about 4 KiB each) in the log at the last checkpoint
    std::int64_t uncopied = 0;     ///< of them not yet in the database file after it (all after a failure)
    std::int64_t checkpoints = 0;  ///< checkpoints tried since the registry was opened
    std::int64_t failures = 0;     ///< of them failed
    std::string lastError;         ///< the last failure's message while failing, else ""
};

/// What the registry holds, for the metrics (gauges) and `admin`.
struct RegistryStats {
    std::int64_t devices[4] = {0, 0, 0, 0};  ///< by DeviceState (not-mapped, mapped, registered, revoked)
    std::int64_t stations = 0;
    std::int64_t lots = 0;
    std::int64_t lockedSubjects = 0;  ///< Dev IDs and clients locked out right now
    std::optional<WalState> wal;      ///< SQLite's; none on the other backends
};

struct BoxRow {
    std::uint32_t box = 0;
    std::string lot;
    std::uint32_t first = 0;
    std::uint32_t last = 0;
};

enum class InsertOutcome { stored, duplicate };

/// What a bulk import did: records stored now, and records stored before with the same
/// content (left as they were, as insertDevice() does).
struct ImportSummary {
    std::size_t stored = 0;
    std::size_t duplicates = 0;
};

class Registry {
public:
    virtual ~Registry() = default;

    /// Stores a new device (state not-mapped) and audits it. Idempotent by record id:
    /// the same record id with the same digest → duplicate. A row with `reworkedFrom` is the
    /// new identity of a reworked board: that device must exist and be revoked already.
    /// Errors: alreadyExists (Dev ID or URN taken by another record, or record id reused
    /// with other content), outOfRange (Dev ID outside the lot's quota), notFound (no quota
    /// for the lot), conflict (`reworkedFrom` names a device that is not revoked), notFound
    /// (`reworkedFrom` names no device), io/internal (database).
    virtual Result<InsertOutcome> insertDevice(const DeviceRow& row, std::int64_t now) = 0;

    /// Stores many devices in one transaction with insertDevice()'s rules, each with its
    /// `stored` audit line: the bulk path for loading a registry of millions (registry_bench; no
    /// admin command calls it yet).
    /// All or nothing: when one row is refused, no row of the batch is stored. SQLite stages
    /// the batch in a temporary table (one prepared statement per row) and checks and inserts
    /// it set-wise; PostgreSQL looks the batch's keys up as arrays and COPYs it into the tables.
    /// Errors: those insertDevice() returns for a refused row; invalidArgument ("Dev ID 00000100
    /// appears twice in the batch", the same for a URN, a record id or an MCU unique ID).
    virtual Result<ImportSummary> importDevices(std::span<const DeviceRow> rows, std::int64_t now) = 0;

    /// The device with its failure count (`failures`, from its audit trail): for admin and the
    /// station API, which show it. Errors: notFound, io.
    virtual Result<DeviceRow> device(std::uint32_t devId) = 0;
    /// The device without its failure count (`failures` 0): what the answers to the OTP's
    /// holder need (status, mapping page, claim). One indexed row; the count would read the
    /// audit index too, a page seldom cached in a registry of millions. Errors: notFound, io.
    virtual Result<DeviceRow> deviceRow(std::uint32_t devId) = 0;
    /// The keyed OTP hash stored for a Dev ID, or nothing when no device has it – the one read
    /// an OTP check makes before the hash matches. It costs the same whether or not the Dev ID
    /// is stored and however often it was tried (one indexed row, no count: PROTOCOL §6, an
    /// unknown Dev ID and a wrong OTP must not be told apart by time). Errors: io.
    virtual Result<std::optional<std::vector<std::uint8_t>>> otpHash(std::uint32_t devId) = 0;
    /// The device by its URN, without its failure count (`failures` 0), as deviceRow(): what the
    /// CoAP handler needs. Errors: notFound, io.
    virtual Result<DeviceRow> deviceByUrn(std::string_view urn) = 0;

    /// The claim: one conditional update not-mapped → mapped, audited, committed before it
    /// returns. Errors: conflict (already mapped/registered), permissionDenied (revoked),
    /// notFound, io.
    virtual Status claim(std::uint32_t devId, const ControllerAddress& controller, std::string_view description,
                         std::string_view client, std::int64_t now) = 0;

    /// A station maps its own device without the OTP: not-mapped → mapped with the Controller
    /// and `preEnrolledBy`, audited `pre-enrolled`, committed before it returns. The same
    /// pre-enrollment again changes nothing (a re-send). Returns the device's state after it
    /// (mapped, or registered once the device fetched its Controller).
    /// Errors: notFound ("no device with Dev ID X"); permissionDenied (provisioned by another
    /// station: "device X was provisioned by station S2, not by S1: a station pre-enrolls only
    /// its own devices"); conflict (revoked, mapped through its label's OTP, or pre-enrolled to
    /// another Controller); io.
    virtual Result<DeviceState> preEnroll(std::uint32_t devId, const PreEnrollment& what, std::int64_t now) = 0;

    /// mapped → registered (no change when already registered), audited.
    /// Errors: conflict (not mapped), permissionDenied (revoked), notFound, io.
    virtual Status markRegistered(std::uint32_t devId, std::string_view client, std::int64_t now) = 0;

    /// markRegistered() without waiting for the commit: `done` is called once with its result,
    /// after the mark and its audit line are committed durably (or refused, with
    /// markRegistered()'s errors). SQLite: the mark joins the writer thread's next group commit
    /// and `done` runs on the writer thread, where it must not write to the registry; the other
    /// backends commit before this returns and call `done` on the caller's thread. For the CoAP
    /// thread, which answers the device once `done` came (PROTOCOL §7) and meanwhile serves
    /// other devices.
    virtual void markRegisteredAsync(std::uint32_t devId, std::string client, std::int64_t now,
                                     std::function<void(Status)> done) {
        done(markRegistered(devId, client, now));
    }

    /// Every device of `target` → revoked (reason, actor and time kept in the row), one
    /// `revoked` audit entry each, all in one transaction; a device revoked before is left as it
    /// was. Errors: notFound ("no device with Dev ID X", "no device in box X", "no device in
    /// lot L"), permissionDenied (`onlyStation` set and a device of the target was provisioned
    /// by another station: nothing is revoked), io.
    virtual Result<RevokeSummary> revoke(const RevokeTarget& target, const Revocation& why, std::int64_t now) = 0;

    /// Audits a refused attempt (a claim conflict, a DTLS key that is not the device's). Counts
    /// nothing: countFailure() does the counting.
    virtual Status recordFailure(std::optional<std::uint32_t> devId, std::string_view event, std::string_view client,
                                 std::string_view detail, std::int64_t now) = 0;

    /// The lockout state shared by every MotherShip on this registry: the latest end of a
    /// lockout (unix ms) among `keys` that is still running at `now`, or 0 when none is.
    /// Errors: io, unavailable.
    virtual Result<std::int64_t> lockedUntil(const std::vector<std::string>& keys, std::int64_t now) = 0;

    /// Counts one failed OTP attempt against every subject (countFailureStep()) and audits it
    /// (`event`, `client`, `detail`, at `now`), all in one transaction, so a restart or another
    /// instance sees the count. The same statements run whether or not `devId` is stored (the
    /// failure for an unknown Dev ID must cost what a wrong OTP costs, PROTOCOL §6).
    /// Errors: io, unavailable.
    virtual Status countFailure(const std::vector<FailureSubject>& subjects, const FailurePolicy& policy,
                                std::uint32_t devId, std::string_view event, std::string_view client,
                                std::string_view detail, std::int64_t now) = 0;

    /// Forgets the counts of subjects neither locked nor inside a window at `now`. Errors: io.
    virtual Status pruneFailures(const FailurePolicy& policy, std::int64_t now) = 0;

    /// The audit trail of one device, oldest first. Errors: io.
    virtual Result<std::vector<AuditEntry>> audit(std::optional<std::uint32_t> devId) = 0;

    /// Registers a station certificate. Errors: alreadyExists (name or fingerprint), io.
    virtual Status addStation(const StationRow& station) = 0;
    /// Errors: notFound, io.
    virtual Result<StationRow> stationByFingerprint(std::string_view fingerprint) = 0;
    /// Errors: notFound, io.
    virtual Result<StationRow> stationByName(std::string_view name) = 0;
    /// Every registered station, by name. Errors: io.
    virtual Result<std::vector<StationRow>> stations() = 0;
    /// Unregisters a station (its records stay; it can upload no more), audited.
    /// Errors: notFound, io.
    virtual Status removeStation(std::string_view name, std::string_view actor, std::int64_t now) = 0;

    /// Creates or replaces the quota of a lot. Errors: invalidArgument (first > last), io.
    virtual Status setLotQuota(std::string_view lot, std::uint32_t first, std::uint32_t last) = 0;
    /// Errors: notFound, io.
    virtual Result<LotQuota> lotQuota(std::string_view lot) = 0;
    /// Every lot with its quota and use, by name. Errors: io.
    virtual Result<std::vector<LotQuota>> lots() = 0;

    /// Records a box's Dev ID range. Idempotent for the same content.
    /// Errors: alreadyExists (box known with another range), outOfRange (range outside the
    /// lot quota), notFound (lot), io.
    virtual Status addBox(const BoxRow& box) = 0;

    /// Calls fn for every device in Dev ID order; stops on the first error fn returns.
    virtual Status forEachDevice(const std::function<Status(const DeviceRow&)>& fn) = 0;

    /// Writes a consistent copy while serving (SQLite online backup; PostgreSQL: not here,
    /// the admin tool runs pg_dump). Errors: unsupported, io.
    virtual Status backup(const std::string& path) = 0;

    /// Counts for the metrics at `now`. Errors: io, unavailable.
    virtual Result<RegistryStats> stats(std::int64_t now) = 0;

    /// Reads from the database (for /readyz). Errors: io, unavailable.
    virtual Status ping() = 0;
};

/// What the operator chooses for a registry's database beyond its URL (mothership.toml,
/// `[database]`).
struct RegistryOptions {
    /// SQLite: the page cache of the writer connection, in MiB (`sqlite_cache_mib`). At
    /// millions of devices every insert lands at a random place of the MCU-ID index; a cache
    /// that holds the indexes' touched pages keeps a batch from reading and spilling them one
    /// by one (docs/MOTHERSHIP.md, "Scale"). Ignored by PostgreSQL (its shared_buffers).
    int sqliteCacheMib = kDefaultSqliteCacheMib;
    static constexpr int kDefaultSqliteCacheMib = 256;
    static constexpr int kMaxSqliteCacheMib = 65536;
    /// Told of trouble the registry meets on a thread of its own, where no request sees it, as
    /// one `event=… key=value` log line each (SQLite's checkpointer: a checkpoint that fails,
    /// a log that grows past 64 MiB, a checkpoint that succeeds again). Called on that thread.
    std::function<void(const std::string&)> warn;
};

/// `postgresql://…` or `postgres://…`: a URL openRegistry() hands to libpq.
bool isPostgresUrl(std::string_view url);

/// Opens the registry a database URL names: `sqlite:///abs/path`, `sqlite://:memory:`,
/// `postgresql://…` (libpq URI), `memory:` (unit tests). Runs the schema migrations.
/// Errors: invalidArgument (URL, options out of range), io/unavailable (database).
Result<std::unique_ptr<Registry>> openRegistry(const std::string& url, int readers = 4,
                                               const RegistryOptions& options = {});

/// The in-memory registry for unit tests.
std::unique_ptr<Registry> makeMemoryRegistry();

}  // namespace tte::mothership
