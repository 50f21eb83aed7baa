// The MotherShip as tte-mothership runs it: serving (OTP hasher, registry, HTTPS and CoAP/DTLS
// listeners, the ports file, its log) and the `admin` commands. tte-mothership's main() only
// parses flags into a Config or an AdminCommand and waits for a signal.
#pragma once

#include <chrono>
#include <memory>
#include <ostream>
#include <string>

#include <spdlog/logger.h>

#include "tte/base/error.h"
#include "tte/mothership/config.h"

namespace tte::mothership {

/// Where a started MotherShip listens ("ADDR:PORT"), and the DTLS key fingerprint devices pin.
struct Ready {
    std::string https;
    std::string coaps;
    std::string admin;  ///< the plain-HTTP admin listener (/metrics, /healthz, /readyz)
    std::string fingerprint;
};

class MotherShipApp {
public:
    /// Checks `config` (validateConfig), opens the OTP-hash key and the registry, starts the
    /// HTTPS, CoAP/DTLS and admin listeners and writes the ports file ({"https", "coaps",
    /// "admin", "fingerprint"}). Errors: those of validateConfig(), OtpHasher, openRegistry(),
    /// the listeners and of writing the file.
    static Result<std::unique_ptr<MotherShipApp>> start(const Config& config, std::shared_ptr<spdlog::logger> log);
    ~MotherShipApp();
    MotherShipApp(const MotherShipApp&) = delete;
    MotherShipApp& operator=(const MotherShipApp&) = delete;

    [[nodiscard]] const Ready& ready() const;
    /// Lets HTTPS requests in flight finish (up to `grace`), stops CoAP,
    /// closes the registry (the SQLite writer commits its queue). Idempotent.
    void stop(std::chrono::milliseconds grace);

private:
    struct Parts;
    explicit MotherShipApp(std::unique_ptr<Parts> parts);
    std::unique_ptr<Parts> m_parts;
};

/// One `tte-mothership admin …` command with its arguments.
struct AdminCommand {
    enum class Kind {
        keygenOtp, keygenDtls, fingerprint, stationAdd, stationRemove, stationList, lotSet, lotList, revoke, show,
        exportRegistry, backup, restore, copy
    };
    Kind kind = Kind::show;
    std::string out;      ///< keygen otp, export, backup: the file ("" for export: `out` stream)
    std::string from;     ///< restore: the backup file
    std::string to;       ///< copy: the target database's URL
    std::string keyOut;   ///< keygen dtls
    std::string certOut;  ///< keygen dtls
    std::string certIn;   ///< fingerprint, station add
    std::string name;     ///< station add, station remove
    std::string lot;      ///< lot set; revoke: every device of the lot
    std::string first;    ///< lot set, 8 hex
    std::string last;     ///< lot set, 8 hex
    std::string devId;    ///< revoke, show: 8 hex
    std::string box;      ///< revoke: every device of the box, 8 hex
    std::string reason;   ///< revoke
    std::string format = "jsonl";      ///< export: csv or jsonl
    std::string listFormat = "table";  ///< lot list: table or jsonl
    bool force = false;   ///< keygen: overwrite; restore: replace a database that holds a registry
};

/// Runs an admin command against `config`'s database and key settings, printing what it
/// reports to `out`. Errors: invalidArgument (a Dev ID that is not 8 hex, …), alreadyExists
/// (a key file without force), those of the registry and of the admin functions (admin.h).
Status runAdmin(const AdminCommand& command, const Config& config, std::ostream& out);

}  // namespace tte::mothership
