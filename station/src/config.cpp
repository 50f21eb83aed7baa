// station.toml → StationConfig, with a precise message for each bad or missing key.
#include "tte/station/config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "tte/base/hex.h"

namespace tte::station {
namespace {

namespace fs = std::filesystem;

class Reader {
public:
    Reader(const toml::table& root, std::string base) : m_root(root), m_base(std::move(base)) {}

    Result<std::string> text(std::string_view key, bool required = true, std::string def = {}) {
        auto node = m_root.at_path(key);
        if (!node) {
            if (required) return fail(Errc::invalidArgument, "config: missing " + std::string(key));
            return def;
        }
        if (!node.is_string()) return fail(Errc::invalidArgument, "config: " + std::string(key) + " must be a string");
        return std::string(*node.value<std::string>());
    }
    Result<std::string> path(std::string_view key, bool required = true) {
        auto t = text(key, required);
        if (!t || t->empty()) return t;
        fs::path p(*t);
        return p.is_absolute() ? *t : (fs::path(m_base) / p).lexically_normal().string();
    }
    Result<std::int64_t> integer(std::string_view key, std::int64_t lo, std::int64_t hi, std::optional<std::int64_t> def) {
        auto node = m_root.at_path(key);
        if (!node) {
            if (!def) return fail(Errc::invalidArgument, "config: missing " + std::string(key));
            return *def;
        }
        if (!node.is_integer()) return fail(Errc::invalidArgument, "config: " + std::string(key) + " must be an integer");
        const std::int64_t v = *node.value<std::int64_t>();
        if (v < lo || v > hi)
            return fail(Errc::invalidArgument, "config: " + std::string(key) + " must be in " + std::to_string(lo) + ".." +
                                                   std::to_string(hi));
        return v;
    }
    Result<std::uint32_t> devId(std::string_view key) {
        auto t = text(key);
        if (!t) return std::unexpected(t.error());
        auto v = parseHexInt(*t, 8, std::string("config: ") + std::string(key));
        if (!v) return std::unexpected(v.error());
        return static_cast<std::uint32_t>(*v);
    }
    bool flag(std::string_view key) { return m_root.at_path(key).value_or(false); }

private:
    const toml::table& m_root;
    std::string m_base;
};

#define TTE_TRY(var, expr)                                        \
    do {                                                          \
        auto r_ = (expr);                                         \
        if (!r_) return std::unexpected(r_.error());              \
        var = *r_;                                                \
    } while (false)

#define TTE_TRY_INT(var, type, expr)                              \
    do {                                                          \
        auto r_ = (expr);                                         \
        if (!r_) return std::unexpected(r_.error());              \
        var = static_cast<type>(*r_);                             \
    } while (false)

Status checkFingerprint(const std::string& fp, const std::string& key) {
    if (auto v = fromHex(fp, "config: " + key); !v) return std::unexpected(v.error());
    if (fp.size() != 64) return fail(Errc::invalidArgument, "config: " + key + " must be 64 hex digits");
    return {};
}

Status parseLot(Reader& r, LotConfig& lot) {
    TTE_TRY(lot.id, r.text("lot.id"));
    TTE_TRY(lot.product, r.text("lot.product"));
    TTE_TRY_INT(lot.pen, std::uint32_t, r.integer("lot.pen", 1, 0xffffffffLL, std::nullopt));
    TTE_TRY(lot.firmware, r.path("lot.firmware"));
    TTE_TRY(lot.firmwareSha256, r.text("lot.firmware_sha256", false));
    TTE_TRY_INT(lot.msId, std::uint32_t, r.integer("lot.ms_id", 1, 0x00ffffff, std::nullopt));
    TTE_TRY(lot.msAddress, r.text("lot.ms_address"));
    TTE_TRY_INT(lot.msPort, std::uint16_t, r.integer("lot.ms_port", 1, 65535, 5684));
    TTE_TRY(lot.msFingerprint, r.text("lot.ms_fingerprint"));
    TTE_TRY(lot.firstDevId, r.devId("lot.first_devid"));
    TTE_TRY(lot.lastDevId, r.devId("lot.last_devid"));
    TTE_TRY_INT(lot.boxSize, std::uint32_t, r.integer("lot.box_size", 0, 65536, 0));
    lot.ledEnrollment = r.flag("lot.led_enrollment");
    TTE_TRY(lot.labelTemplate, r.path("lot.label_template", false));
    TTE_TRY(lot.printerQueue, r.text("lot.printer_queue", false));
    if (lot.product.empty() || lot.product.size() > 32 ||
        lot.product.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._") !=
            std::string::npos)
        return fail(Errc::invalidArgument, "config: lot.product must be 1-32 of [A-Za-z0-9._]");
    if (lot.msAddress.empty() || lot.msAddress.size() > 63)
        return fail(Errc::invalidArgument, "config: lot.ms_address must be 1-63 characters");
    if (auto s = checkFingerprint(lot.msFingerprint, "lot.ms_fingerprint"); !s) return s;
    if (lot.firstDevId > lot.lastDevId)
        return fail(Errc::invalidArgument, "config: lot.first_devid is above lot.last_devid");
    return {};
}

Status parseController(Reader& r, const toml::table& root, LotConfig& lot) {
    if (!root.contains("controller")) return {};
    ControllerTarget c;
    TTE_TRY(c.address, r.text("controller.address"));
    TTE_TRY_INT(c.port, std::uint16_t, r.integer("controller.port", 1, 65535, std::nullopt));
    TTE_TRY(c.fingerprint, r.text("controller.fingerprint"));
    TTE_TRY(c.url, r.text("controller.url"));
    TTE_TRY(lot.controllerCa, r.path("controller.ca", false));
    if (auto s = checkFingerprint(c.fingerprint, "controller.fingerprint"); !s) return s;
    if (!c.url.starts_with("https://")) return fail(Errc::invalidArgument, "config: controller.url must be https://");
    lot.controller = std::move(c);
    return {};
}

}  // namespace

Result<StationConfig> parseConfig(std::string_view text, const std::string& baseDir) {
    toml::table root;
    try {
        root = toml::parse(text);
    } catch (const toml::parse_error& err) {  // this toml++ build reports syntax errors by exception
        return fail(Errc::invalidArgument, "config: line " + std::to_string(err.source().begin.line) + ": " +
                                               std::string(err.description()));
    }
    Reader r(root, baseDir);
    StationConfig c;
    TTE_TRY(c.stationId, r.text("station.id"));
    TTE_TRY(c.database, r.path("station.database"));
    TTE_TRY_INT(c.slots, int, r.integer("station.slots", 1, 64, 1));
    TTE_TRY(c.labelsDir, r.path("station.labels_dir", false));
    if (c.labelsDir.empty()) c.labelsDir = (fs::path(baseDir) / "labels").lexically_normal().string();
    TTE_TRY(c.pkcs11Module, r.text("hsm.module", false, "/usr/lib/softhsm/libsofthsm2.so"));
    TTE_TRY(c.tokenLabel, r.text("hsm.token_label"));
    TTE_TRY(c.pinFile, r.path("hsm.pin_file"));
    TTE_TRY(c.lotKey, r.text("hsm.lot_key", false, "lot-key"));
    TTE_TRY(c.queueKey, r.text("hsm.queue_key", false, "queue-key"));
    TTE_TRY(c.identityKey, r.text("hsm.station_key", false));
    TTE_TRY(c.printerHost, r.text("printer.host", false, "127.0.0.1"));
    TTE_TRY_INT(c.printerPort, int, r.integer("printer.port", 1, 65535, 631));
    TTE_TRY(c.msUrl, r.text("mothership.url"));
    TTE_TRY(c.msCa, r.path("mothership.ca"));
    TTE_TRY(c.stationCert, r.path("mothership.cert"));
    TTE_TRY(c.stationKey, r.path("mothership.key", c.identityKey.empty()));  // not needed with hsm.station_key
    if (c.stationId.empty() || c.stationId.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
        return fail(Errc::invalidArgument, "config: station.id must be lower-case letters, digits, '-' or '_'");
    if (!c.msUrl.starts_with("https://")) return fail(Errc::invalidArgument, "config: mothership.url must be https://");
    if (auto s = parseLot(r, c.lot); !s) return std::unexpected(s.error());
    if (auto s = parseController(r, root, c.lot); !s) return std::unexpected(s.error());
    return c;
}

Result<StationConfig> loadConfig(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(Errc::io, "config: cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return parseConfig(ss.str(), fs::absolute(path).parent_path().string());
}

}  // namespace tte::station
