// The station configuration (config/station.toml): the station, its lot, the HSM token, the
// MotherShip's station API and, for a pre-enrolled lot, the customer's controller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tte/base/error.h"
#include "tte/station/ports.h"

namespace tte::station {

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

    /// The box number of a Dev ID in a bulk lot (0 when boxSize is 0).
    [[nodiscard]] std::uint32_t boxOf(std::uint32_t devId) const {
        return boxSize == 0 ? 0 : (devId - firstDevId) / boxSize;
    }
};

struct StationConfig {
    std::string stationId;
    std::string database;             ///< journal path
    int slots = 1;
    std::string labelsDir;            ///< where rendered labels are kept
    // HSM
    std::string pkcs11Module;
    std::string tokenLabel;
    std::string pinFile;
    std::string lotKey = "lot-key";       ///< object label of the lot's HMAC key
    std::string queueKey = "queue-key";   ///< object label of the upload queue's HMAC key
    std::string identityKey;              ///< object label of the station key in the token ("" = mothership.key file)
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
    LotConfig lot;
};

/// Parses station.toml strictly. Relative paths are taken relative to the file's folder.
/// Errors: io (cannot read), invalidArgument with every problem (a missing, unknown, mistyped or
/// out-of-range key), one `FILE:LINE: table.key: reason` per line.
Result<StationConfig> loadConfig(const std::string& path);
/// As loadConfig() from text; `baseDir` resolves relative paths, `file` names it in problems.
Result<StationConfig> parseConfig(std::string_view text, const std::string& baseDir,
                                  const std::string& file = "station.toml");

}  // namespace tte::station
