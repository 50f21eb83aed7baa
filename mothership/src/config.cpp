// TOML configuration of the MotherShip (config.h).
#include "tte/mothership/config.h"

#include <cstdio>
#include <set>

#include "tte/base/hex.h"
#include "tte/hsm/pkcs11_uri.h"
#include "tte/server/listen.h"
#include "tte/settings/toml_reader.h"

namespace tte::mothership {
namespace {

using settings::Need;
using settings::TableReader;

template <class T>
void whole(TableReader& r, std::string_view key, std::int64_t min, std::int64_t max, T& out) {
    if (auto v = r.integer(key, min, max)) out = static_cast<T>(*v);
}

void text(TableReader& r, std::string_view key, std::string& out) {
    if (auto v = r.string(key)) out = *v;
}

/// A listen address, checked where it is written (the servers' own rules: server/listen.h).
void listen(TableReader& r, std::string& out) {
    text(r, "listen", out);
    if (r.node("listen") == nullptr) return;
    if (auto l = server::parseListenAddress(out, "listen address"); !l) r.problem("listen", l.error().message);
}

void oneOf(TableReader& r, std::string_view key, std::initializer_list<std::string_view> allowed, std::string& out) {
    text(r, key, out);
    if (r.node(key) == nullptr) return;
    std::string list;
    for (auto a : allowed) {
        if (a == out) return;
        list += (list.empty() ? "" : ", ") + std::string(a);
    }
    r.problem(key, "'" + out + "' is not one of " + list);
}

/// Reads the sub-table `name` of the top level with `read`, then reports its unknown keys.
template <class F>
void section(TableReader& top, settings::Problems& problems, std::string_view name, F&& read) {
    if (const toml::table* t = top.table(name)) {
        TableReader r(*t, std::string(name), problems);
        read(r);
        r.finish();
    }
}

}  // namespace

Status loadConfigFile(const std::string& path, Config& c) {
    auto root = settings::parseFile(path);
    if (!root) return std::unexpected(root.error());
    settings::Problems problems(path);
    TableReader top(*root, "", problems);
    whole(top, "ms_id", 1, 0xFFFFFF, c.msId);  // draft 3.4: 0 is reserved, the high byte is 0
    oneOf(top, "log_level", {"trace", "debug", "info", "warn", "error", "critical", "off"}, c.logLevel);
    oneOf(top, "log_format", {"text", "json"}, c.logFormat);
    text(top, "ports_file", c.portsFile);
    section(top, problems, "https", [&](TableReader& r) {
        listen(r, c.httpsListen);
        text(r, "cert", c.tlsCert);
        text(r, "key", c.tlsKey);
        whole(r, "threads", 1, 256, c.httpThreads);
        whole(r, "handlers", 1, 1024, c.httpHandlers);
        whole(r, "body_limit", 1024, std::int64_t{1} << 30, c.bodyLimit);
        whole(r, "read_timeout_s", 1, 3600, c.readTimeoutSeconds);
    });
    section(top, problems, "coaps", [&](TableReader& r) {
        listen(r, c.coapsListen);
        text(r, "cert", c.dtlsCert);
        text(r, "key", c.dtlsKey);
        whole(r, "max_idle_sessions", 1, 1000000, c.coapMaxIdleSessions);
        whole(r, "max_handshake_sessions", 1, 100000, c.coapMaxHandshakeSessions);
        whole(r, "session_timeout_s", 1, 86400, c.coapSessionTimeoutSeconds);
        whole(r, "handshakes_per_address_per_s", 1, 1000000, c.coapHandshakesPerAddressPerSecond);
    });
    section(top, problems, "database", [&](TableReader& r) {
        text(r, "url", c.database);
        whole(r, "connections", 1, 64, c.dbConnections);
        whole(r, "sqlite_cache_mib", 1, RegistryOptions::kMaxSqliteCacheMib, c.sqliteCacheMib);
    });
    section(top, problems, "otp_hash", [&](TableReader& r) {
        text(r, "key_file", c.otpKeyFile);
        text(r, "key_uri", c.otpKeyUri);
        if (r.node("key_file") != nullptr && r.node("key_uri") != nullptr)
            r.problem("key_uri", "set key_file or key_uri, not both");
    });
    section(top, problems, "admin", [&](TableReader& r) { listen(r, c.adminListen); });
    section(top, problems, "limits", [&](TableReader& r) {
        whole(r, "max_failures_per_device", 1, 1000000, c.limits.maxFailuresPerDevice);
        whole(r, "max_failures_per_client", 1, 1000000, c.limits.maxFailuresPerClient);
        if (auto v = r.integer("window_s", 1, 31 * 86400)) c.limits.window = std::chrono::seconds(*v);
        if (auto v = r.integer("lockout_s", 1, 31 * 86400)) c.limits.lockout = std::chrono::seconds(*v);
    });
    top.finish();
    return problems.status();
}

Status validateConfig(const Config& c) {
    if (c.msId == 0) return fail(Errc::invalidArgument, "MS ID 0 is reserved for examples (draft 3.4); set ms_id / --ms-id");
    if (c.msId > 0xFFFFFFu) return fail(Errc::invalidArgument, "MS ID " + std::to_string(c.msId) + ": the high byte must be 0 (draft 3.4)");
    for (const auto& [value, name] : {std::pair{c.tlsCert, "https.cert / --tls-cert"}, {c.tlsKey, "https.key / --tls-key"},
                                      {c.dtlsCert, "coaps.cert / --dtls-cert"}, {c.dtlsKey, "coaps.key / --dtls-key"}}) {
        if (value.empty()) return fail(Errc::invalidArgument, std::string(name) + " is required");
    }
    if (c.otpKeyFile.empty() == c.otpKeyUri.empty())
        return fail(Errc::invalidArgument,
                    "the OTP-hash key: set one of otp_hash.key_file / --otp-key-file and otp_hash.key_uri / --otp-key-uri");
    if (!c.otpKeyUri.empty()) {
        auto uri = hsm::parsePkcs11Uri(c.otpKeyUri);
        if (!uri) return withContext(uri.error(), "otp_hash.key_uri");
        if (uri->token.empty() || uri->object.empty())
            return fail(Errc::invalidArgument, "otp_hash.key_uri must name the token and the key: pkcs11:token=LABEL;object=LABEL");
    }
    if (auto l = server::parseListenAddress(c.httpsListen, "https listen"); !l) return std::unexpected(l.error());
    if (auto l = server::parseListenAddress(c.coapsListen, "coaps listen"); !l) return std::unexpected(l.error());
    if (auto l = server::parseListenAddress(c.adminListen, "admin listen"); !l) return std::unexpected(l.error());
    if (c.logFormat != "text" && c.logFormat != "json")
        return fail(Errc::invalidArgument, "log format '" + c.logFormat + "' is not text or json");
    if (c.limits.maxFailuresPerDevice < 1 || c.limits.maxFailuresPerClient < 1)
        return fail(Errc::invalidArgument, "limits: failure limits must be at least 1");
    if (c.httpThreads < 1 || c.httpThreads > 256) return fail(Errc::invalidArgument, "https.threads must be 1 to 256");
    if (c.httpHandlers < 1 || c.httpHandlers > 1024)
        return fail(Errc::invalidArgument, "https.handlers must be 1 to 1024");
    if (c.dbConnections < 1 || c.dbConnections > 64) return fail(Errc::invalidArgument, "database.connections must be 1 to 64");
    if (c.sqliteCacheMib < 1 || c.sqliteCacheMib > RegistryOptions::kMaxSqliteCacheMib)
        return fail(Errc::invalidArgument,
                    "database.sqlite_cache_mib must be 1 to " + std::to_string(RegistryOptions::kMaxSqliteCacheMib));
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (!levels.contains(c.logLevel)) return fail(Errc::invalidArgument, "log level '" + c.logLevel + "' is not one of trace, debug, info, warn, error, critical, off");
    return {};
}

}  // namespace tte::mothership
