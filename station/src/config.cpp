// station.toml → StationConfig, strictly (tte::settings): a missing, unknown, mistyped or
// out-of-range key is refused as `FILE:LINE: table.key: reason`, every problem at once.
#include "tte/station/config.h"

#include <filesystem>

#include "tte/base/hex.h"
#include "tte/settings/toml_reader.h"

namespace tte::station {
namespace {

namespace fs = std::filesystem;
using settings::Need;
using settings::TableReader;

/// A table's reader that also resolves paths against the config file's folder.
class Reader : public TableReader {
public:
    Reader(const toml::table& table, std::string path, settings::Problems& problems, std::string base)
        : TableReader(table, std::move(path), problems), m_base(std::move(base)) {}

    std::string text(std::string_view key, Need need = Need::required, std::string def = {}) {
        return string(key, need).value_or(std::move(def));
    }
    std::string filePath(std::string_view key, Need need = Need::required) {
        auto t = string(key, need);
        if (!t || t->empty()) return {};
        fs::path p(*t);
        return p.is_absolute() ? *t : (fs::path(m_base) / p).lexically_normal().string();
    }
    template <class T>
    void whole(std::string_view key, std::int64_t lo, std::int64_t hi, T& out, Need need = Need::optional) {
        if (auto v = integer(key, lo, hi, need)) out = static_cast<T>(*v);
    }
    void devId(std::string_view key, std::uint32_t& out) {
        auto t = string(key, Need::required);
        if (!t) return;
        if (t->size() != 8 || t->find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
            return problem(key, "must be 8 hex digits, not '" + *t + "'");
        out = static_cast<std::uint32_t>(std::stoul(*t, nullptr, 16));
    }
    void fingerprint(std::string_view key, std::string& out) {
        out = text(key);
        if (!out.empty() && (out.size() != 64 || out.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos))
            problem(key, "must be 64 hex digits (a SHA-256 fingerprint)");
    }

private:
    std::string m_base;
};

bool allOf(const std::string& s, std::string_view allowed) { return s.find_first_not_of(allowed) == std::string::npos; }

/// station.shifts: "HH:MM" UTC, ascending: when each shift of the day starts (the counters).
void parseShifts(Reader& r, StationConfig& c) {
    auto shifts = r.strings("shifts");
    if (!shifts) return;
    std::vector<int> starts;
    for (const auto& t : *shifts) {
        const bool form = t.size() == 5 && t[2] == ':' && allOf(t.substr(0, 2) + t.substr(3), "0123456789");
        const int m = form ? std::stoi(t.substr(0, 2)) * 60 + std::stoi(t.substr(3)) : -1;
        if (!form || m >= 24 * 60) return r.problem("shifts", "must be \"HH:MM\" times (UTC), not '" + t + "'");
        if (!starts.empty() && m <= starts.back()) return r.problem("shifts", "must be in ascending order");
        starts.push_back(m);
    }
    if (starts.empty()) return r.problem("shifts", "must name at least one shift start");
    c.shiftStarts = std::move(starts);
}

void parseStation(Reader& r, StationConfig& c, const std::string& baseDir) {
    c.stationId = r.text("id");
    c.database = r.filePath("database");
    r.whole("slots", 1, 64, c.slots);
    r.whole("watch_ms", 10, 5000, c.watchMs);
    parseShifts(r, c);
    c.labelsDir = r.filePath("labels_dir", Need::optional);
    if (c.labelsDir.empty()) c.labelsDir = (fs::path(baseDir) / "labels").lexically_normal().string();
    if (r.node("id") != nullptr && (c.stationId.empty() || !allOf(c.stationId, "abcdefghijklmnopqrstuvwxyz0123456789-_")))
        r.problem("id", "must be lower-case letters, digits, '-' or '_'");
}

void parseHsm(Reader& r, StationConfig& c) {
    c.pkcs11Module = r.text("module", Need::optional, "/usr/lib/softhsm/libsofthsm2.so");
    c.tokenLabel = r.text("token_label");
    c.pinFile = r.filePath("pin_file", Need::optional);
    c.lotKey = r.text("lot_key", Need::optional, "lot-key");
    c.queueKey = r.text("queue_key", Need::optional, "queue-key");
    c.identityKey = r.text("station_key", Need::optional);
    r.whole("poll_ms", 100, 60000, c.tokenPollMs);
}

void parseMotherShip(Reader& r, StationConfig& c) {
    c.msUrl = r.text("url");
    c.msCa = r.filePath("ca");
    c.stationCert = r.filePath("cert");
    c.stationKey = r.filePath("key", c.identityKey.empty() ? Need::required : Need::optional);  // not with hsm.station_key
    r.whole("hold_after_s", 1, 86400, c.msHoldAfterS);
    r.whole("quota_poll_s", 1, 3600, c.quotaPollS);
    if (!c.msUrl.empty() && !c.msUrl.starts_with("https://")) r.problem("url", "must be https://");
}

void parseLot(Reader& r, LotConfig& lot) {
    lot.id = r.text("id");
    lot.product = r.text("product");
    r.whole("pen", 1, 0xffffffffLL, lot.pen, Need::required);
    lot.firmware = r.filePath("firmware");
    lot.firmwareSha256 = r.text("firmware_sha256", Need::optional);
    r.whole("ms_id", 1, 0x00ffffff, lot.msId, Need::required);  // draft 3.4: high byte 0, ID 0 reserved
    lot.msAddress = r.text("ms_address");
    r.whole("ms_port", 1, 65535, lot.msPort);
    r.fingerprint("ms_fingerprint", lot.msFingerprint);
    r.devId("first_devid", lot.firstDevId);
    r.devId("last_devid", lot.lastDevId);
    r.whole("box_size", 0, 65536, lot.boxSize);
    lot.ledEnrollment = r.boolean("led_enrollment").value_or(false);
    lot.labelTemplate = r.filePath("label_template", Need::optional);
    lot.printerQueue = r.text("printer_queue", Need::optional);
    if (r.node("product") != nullptr &&
        (lot.product.empty() || lot.product.size() > 32 ||
         !allOf(lot.product, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._")))
        r.problem("product", "must be 1-32 of [A-Za-z0-9._]");
    if (r.node("ms_address") != nullptr && (lot.msAddress.empty() || lot.msAddress.size() > 63))
        r.problem("ms_address", "must be 1-63 characters");
    if (lot.firstDevId > lot.lastDevId) r.problem("first_devid", "is above lot.last_devid");
    if (auto lock = r.string("lock")) {
        if (*lock == "none") lot.lock = LotLock::none;
        else if (*lock == "rdp1") lot.lock = LotLock::rdp1;
        else if (*lock == "rdp2") lot.lock = LotLock::rdp2;
        else r.problem("lock", "must be \"rdp1\" (the default), \"none\" (development lots) or \"rdp2\" (permanent), not '" + *lock + "'");
    }
    if (auto dtls = r.string("dtls")) {
        if (*dtls == "cert") lot.dtls = LotDtls::cert;
        else if (*dtls == "psk") lot.dtls = LotDtls::psk;
        else r.problem("dtls", "must be \"cert\" (the default: a device key pair) or \"psk\" (DTLS-PSK), not '" + *dtls + "'");
    }
}

/// [[seat]] name = "A1" port = "1-1.2": names unique, ports unique and USB port paths.
void parseSeats(settings::TableReader& top, settings::Problems& problems, const std::string& baseDir, StationConfig& c) {
    const toml::array* seats = top.tables("seat");
    if (seats == nullptr) return;
    for (std::size_t i = 0; i < seats->size(); ++i) {
        Reader r(*seats->get(i)->as_table(), "seat[" + std::to_string(i) + "]", problems, baseDir);
        Seat seat{r.text("name"), r.text("port")};
        if (r.node("name") != nullptr &&
            (seat.name.empty() || seat.name.size() > 16 ||
             !allOf(seat.name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")))
            r.problem("name", "must be 1-16 of [A-Za-z0-9._-]");
        if (r.node("port") != nullptr &&
            (seat.port.empty() || !allOf(seat.port, "0123456789-.") || seat.port.find('-') == std::string::npos))
            r.problem("port", "must be a USB port path such as \"1-1.2\" (bus-port.port…)");
        for (const Seat& other : c.seats) {
            if (!seat.name.empty() && other.name == seat.name) r.problem("name", "seat " + seat.name + " is named twice");
            if (!seat.port.empty() && other.port == seat.port)
                r.problem("port", "port " + seat.port + " is already seat " + other.name + "'s");
        }
        r.finish();
        c.seats.push_back(std::move(seat));
    }
}

void parseController(Reader& r, LotConfig& lot) {
    ControllerTarget c;
    c.address = r.text("address");
    r.whole("port", 1, 65535, c.port, Need::required);
    r.fingerprint("fingerprint", c.fingerprint);
    c.url = r.text("url");
    lot.controllerCa = r.filePath("ca", Need::optional);
    if (!c.url.empty() && !c.url.starts_with("https://")) r.problem("url", "must be https://");
    if (lot.dtls == LotDtls::psk)
        r.problem("address", "a pre-enrolled lot cannot be lot.dtls = \"psk\" (the station hands no device-Controller PSK over)");
    lot.controller = std::move(c);
}

}  // namespace

std::string_view lotDtlsName(LotDtls dtls) { return dtls == LotDtls::psk ? "psk" : "cert"; }

std::string_view lotLockName(LotLock lock) {
    switch (lock) {
        case LotLock::none: return "none";
        case LotLock::rdp1: return "rdp1";
        case LotLock::rdp2: return "rdp2";
    }
    return "?";
}

Result<StationConfig> parseConfig(std::string_view text, const std::string& baseDir, const std::string& file) {
    auto root = settings::parse(text, file);
    if (!root) return std::unexpected(root.error());
    settings::Problems problems(file);
    Reader top(*root, "", problems, baseDir);
    StationConfig c;
    const auto section = [&](std::string_view name, Need need, auto&& parse) {
        if (const toml::table* t = top.table(name, need)) {
            Reader r(*t, std::string(name), problems, baseDir);
            parse(r);
            r.finish();
        }
    };
    section("station", Need::required, [&](Reader& r) { parseStation(r, c, baseDir); });
    section("hsm", Need::required, [&](Reader& r) { parseHsm(r, c); });
    section("printer", Need::optional, [&](Reader& r) {
        c.printerHost = r.text("host", Need::optional, "127.0.0.1");
        r.whole("port", 1, 65535, c.printerPort);
        r.whole("job_timeout_s", 1, 3600, c.labelJobTimeoutS);
        r.whole("poll_ms", 50, 10000, c.printerPollMs);
    });
    section("mothership", Need::required, [&](Reader& r) { parseMotherShip(r, c); });
    section("lot", Need::required, [&](Reader& r) { parseLot(r, c.lot); });
    section("controller", Need::optional, [&](Reader& r) { parseController(r, c.lot); });
    parseSeats(top, problems, baseDir, c);
    top.finish();
    if (auto s = problems.status(); !s) return std::unexpected(s.error());
    return c;
}

Result<StationConfig> loadConfig(const std::string& path) {
    auto text = settings::readFile(path);
    if (!text) return std::unexpected(text.error());
    return parseConfig(*text, fs::absolute(path).parent_path().string(), path);
}

}  // namespace tte::station
