// The station configuration (config/station.toml): the station, its lot, the HSM token, the
// MotherShip's station API and, for a pre-enrolled lot, the customer's controller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/station/ports.h"

namespace tte::station {

/// What the station does to a board after read-back verify (RM0090 §3.7.3; docs/FLASHER.md).
enum class LotLock {
    none,  ///< development lots only: the board stays readable (warned about on every start)
    rdp1,  ///< the default: read-out protection level 1 (reversible by rework, which erases)
    rdp2,  ///< permanent level 2: no bootloader, no debug port, no rework; only when asked for
};
/// "none", "rdp1", "rdp2".
std::string_view lotLockName(LotLock lock);

/// How the lot's devices authenticate their DTLS sessions (PROTOCOL.md §11): a device key pair
/// and certificate (the default), or a device–MotherShip PSK (DTLS-PSK, no key pair).
enum class LotDtls { cert, psk };
/// "cert", "psk".
std::string_view lotDtlsName(LotDtls dtls);

/// A place on the fixture: its name as printed there, and the USB port path of its socket.
struct Seat {
    std::string name;  ///< e.g. "A1"
    std::string port;  ///< e.g. "1-1.2"
};

struct LotConfig {
    std::string id;
    std::string product;              ///< 1–32 of [A-Za-z0-9._] (PROTOCOL.md §1)
    std::uint32_t pen = 0;            ///< IANA Private Enterprise Number
    std::string firmware;             ///< path of the .dfu
    std::string firmwareSha256;       ///< expected SHA-256 of the .dfu ("" = not pinned)
    std::uint32_t msId = 0;
    std::string msAddress;            ///< IP literal or DNS name the device uses for CoAPS
    std::uint16_t msPort = 5684;
    std::string msFingerprint;        ///< 64 hex: the MotherShip's DTLS key
    std::uint32_t firstDevId = 0;     ///< the Dev ID range of the lot quota
    std::uint32_t lastDevId = 0;
    std::uint32_t boxSize = 0;        ///< > 0: bulk lot, OTPs derived per box (PROTOCOL.md §4)
    bool ledEnrollment = false;       ///< provisioning block flag bit 0
    std::string labelTemplate;
    std::string printerQueue;
    std::optional<ControllerTarget> controller;  ///< pre-enrolled lot
    std::string controllerCa;         ///< CA file for the controller's HTTPS ("" = system)
    LotLock lock = LotLock::rdp1;     ///< lot.lock
    LotDtls dtls = LotDtls::cert;     ///< lot.dtls

    /// The box number of a Dev ID in a bulk lot (0 when boxSize is 0).
    [[nodiscard]] std::uint32_t boxOf(std::uint32_t devId) const {
        return boxSize == 0 ? 0 : (devId - firstDevId) / boxSize;
    }
};

struct StationConfig {
    std::string stationId;
    std::string database;             ///< journal path
    int slots = 1;                    ///< parallel workers when no seats are configured
    /// The fixture's seats ([[seat]]); when there are any, the station serves them
    /// continuously, one worker per seat, and ignores boards on other ports.
    std::vector<Seat> seats;
    std::vector<int> shiftStarts = {6 * 60, 14 * 60, 22 * 60};  ///< station.shifts, minutes after 00:00 UTC
    int watchMs = 100;                ///< how often each seat's port is looked at (station.watch_ms)
    std::string labelsDir;            ///< where rendered labels are kept
    // HSM
    std::string pkcs11Module;
    std::string tokenLabel;
    std::string pinFile;                  ///< "" = no PIN source: the operator types the PIN when signing in
    std::string lotKey = "lot-key";       ///< object label of the lot's HMAC key
    std::string queueKey = "queue-key";   ///< object label of the upload queue's HMAC key
    std::string identityKey;              ///< object label of the station key in the token ("" = mothership.key file)
    int tokenPollMs = 1000;               ///< how often a held line tries the token again (hsm.poll_ms)
    // label printer (CUPS)
    std::string printerHost = "127.0.0.1";
    int printerPort = 631;
    int labelJobTimeoutS = 60;        ///< a label job not done by then holds the line (never fails the board)
    int printerPollMs = 500;          ///< how often the line asks the printer while a label waits
    // MotherShip station API
    std::string msUrl;                ///< https://host:port
    std::string msCa;
    std::string stationCert;
    std::string stationKey;
    /// Records waiting while every upload failed for this long hold the line (mothership.hold_after_s).
    int msHoldAfterS = 600;
    int quotaPollS = 30;              ///< how often a line held by a used-up quota asks the MotherShip (mothership.quota_poll_s)
    LotConfig lot;

    /// The seat at `port`, or nullptr.
    [[nodiscard]] const Seat* seatAt(std::string_view port) const {
        for (const Seat& s : seats)
            if (s.port == port) return &s;
        return nullptr;
    }
    /// The seat's name at `port`, or the port itself without seats (the old slot form).
    [[nodiscard]] std::string seatName(std::string_view port) const {
        const Seat* s = seatAt(port);
        return s ? s->name : std::string(port);
    }
};

/// Parses station.toml strictly. Relative paths are taken relative to the file's folder.
/// Errors: io (cannot read), invalidArgument with every problem (a missing, unknown, mistyped or
/// out-of-range key), one `FILE:LINE: table.key: reason` per line.
Result<StationConfig> loadConfig(const std::string& path);
/// As loadConfig() from text; `baseDir` resolves relative paths, `file` names it in problems.
Result<StationConfig> parseConfig(std::string_view text, const std::string& baseDir,
                                  const std::string& file = "station.toml");

}  // namespace tte::station
