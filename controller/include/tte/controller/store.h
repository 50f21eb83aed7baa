// The Controller's durable state (SQLite, WAL): devices introduced by introducers (draft
// msg 6), their check-ins (msg 11/12) and what the MotherShip last said about them (msg 7/8).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tte/base/error.h"
#include "tte/base/secret.h"

struct sqlite3;

namespace tte::controller {

/// Wall-clock seconds since the Unix epoch.
using UnixSeconds = std::int64_t;

/// What an introducer told the Controller (draft 2 msg 6, docs/PROTOCOL.md §8).
struct Introduction {
    std::string urn;
    std::string fingerprint;  ///< device DTLS key, 64 lower-case hex
    Secret otp;               ///< 16 hex digits as text; kept to ask the MotherShip (msg 7)
    std::string devid;        ///< 8 lower-case hex
    std::string ms;           ///< MotherShip host name, e.g. tte-000001.net
    std::string description;
    /// PROTOCOL §11: a DTLS-PSK device's device–Controller PSK, 64 hex digits as text; empty
    /// for a certificate device. Kept while the device may check in (it is its key).
    Secret psk{};
};

/// One device as the Controller knows it.
struct DeviceRecord {
    std::string urn;
    std::string devid;
    std::string fingerprint;
    std::string ms;
    std::string description;
    std::string state;    ///< introduced | expired | registered
    std::string msState;  ///< unknown | not-mapped | mapped | registered | revoked
    UnixSeconds introducedAt = 0;
    UnixSeconds expiresAt = 0;
    std::optional<UnixSeconds> lastSeen;
    bool introduced = true;  ///< false: accepted without an introduction (--accept-unintroduced)
};

/// A device whose status the Controller should ask the MotherShip for (msg 7).
struct StatusQuery {
    std::string urn;
    std::string devid;
    std::string ms;
    Secret otp;
    int attempts = 0;
};

class DeviceStore {
public:
    /// Opens (creating if needed) the database at `path`; ":memory:" for a private one. A WAL
    /// left by a crash is checkpointed and truncated (it may hold OTPs forgotten since).
    /// Errors: io (cannot open or migrate; SQLite code kept).
    static Result<std::unique_ptr<DeviceStore>> open(const std::string& path);
    ~DeviceStore();
    DeviceStore(const DeviceStore&) = delete;
    DeviceStore& operator=(const DeviceStore&) = delete;

    /// Stores an introduction, pending until `now + ttl`. Introducing the same URN with the
    /// same fingerprint again refreshes the description and the expiry (idempotent).
    /// Errors: conflict (URN or fingerprint already introduced with a different partner), io.
    Result<DeviceRecord> introduce(const Introduction& intro, UnixSeconds now, UnixSeconds ttl);

    /// The device–Controller PSK (64 hex digits) of the introduced DTLS-PSK device `urn`, for
    /// its handshake (§11). Errors: notFound (no such device, or a certificate device), io.
    Result<Secret> psk(const std::string& urn);

    /// Every device, state computed at `now`. Errors: io.
    Result<std::vector<DeviceRecord>> list(UnixSeconds now);

    /// The device whose DTLS key has this fingerprint, state at `now`. Errors: notFound, io.
    Result<DeviceRecord> findByFingerprint(const std::string& fingerprint, UnixSeconds now);

    /// The device with this URN, state at `now`. Errors: notFound, io.
    Result<DeviceRecord> findByUrn(const std::string& urn, UnixSeconds now);

    /// Marks a device checked in (msg 11) and forgets its OTP (forgetUsedOtps()).
    /// Errors: notFound, io.
    Status markRegistered(const std::string& urn, UnixSeconds now);

    /// Records a device accepted without an introduction (--accept-unintroduced), checked in
    /// at `now` in the same commit.
    /// Errors: conflict (URN known with another fingerprint), io.
    Result<DeviceRecord> addUnintroduced(const std::string& urn, const std::string& fingerprint, UnixSeconds now);

    /// Devices to ask the MotherShip about: introduced, pending, not expired, not in a final
    /// MotherShip state, whose next query time has come; at most `limit`. Forgets the OTPs
    /// of the introductions that expired by `now` first. Errors: io.
    Result<std::vector<StatusQuery>> dueStatusQueries(UnixSeconds now, int limit);

    /// Stores the MotherShip's answer and the next query time; a final answer (registered,
    /// revoked) forgets the device's OTP. Errors: io.
    Status recordStatus(const std::string& urn, const std::string& msState, int attempts, UnixSeconds nextQueryAt);

    /// Stores a query the MotherShip did not answer (transport error, an answer other than
    /// 200): the attempt count and the next query time only. What the MotherShip last said
    /// stays (it did not say anything new; PROTOCOL §8 `ms_state`). Errors: io.
    Status recordFailedQuery(const std::string& urn, int attempts, UnixSeconds nextQueryAt);

    /// Overwrites the OTPs no longer needed at `now` (forgetUsedOtps()): what the Controller
    /// does at start, so an introduction that expired while it was down leaves no OTP behind
    /// even before the first status query. Errors: io.
    Status forgetUnneededOtps(UnixSeconds now);

private:
    explicit DeviceStore(sqlite3* db) : m_db(db) {}
    Result<std::vector<DeviceRecord>> select(const std::string& where, const std::string& arg, UnixSeconds now);
    /// The one row `where` finds (locks). Errors: notFound with `notFound`, io.
    Result<DeviceRecord> findOne(const char* where, const std::string& arg, UnixSeconds now, const std::string& notFound);
    /// The OTP is kept only while the Controller may still ask the MotherShip with it: once a
    /// device checked in, the MotherShip gave a final state or the introduction expired (by
    /// `now`), it is overwritten – in the file too (secure_delete), and the WAL that held the
    /// old page is checkpointed and truncated. The caller holds m_mutex. Errors: io.
    Status forgetUsedOtps(UnixSeconds now);
    /// forgetUsedOtps()'s update alone, inside the caller's transaction; whether it forgot one.
    Result<bool> clearUsedOtps(UnixSeconds now);
    /// forgetUsedOtps()'s checkpoint, after the commit. Errors: io.
    Status wipeWal();

    std::mutex m_mutex;
    sqlite3* m_db;
};

}  // namespace tte::controller
