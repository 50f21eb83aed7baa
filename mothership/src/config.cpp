// TOML configuration of the MotherShip (config.h).
#include "tte/mothership/config.h"

#include <toml++/toml.h>

#include <cstdio>
#include <set>

#include "tte/base/hex.h"
#include "tte/hsm/pkcs11_uri.h"
#include "tte/server/listen.h"

namespace tte::mothership {
namespace {

template <class T>
Status take(const toml::table& t, const std::string& table, const std::string& key, T& out) {
    const toml::node* n = t.get(key);
    if (!n) return {};
    const std::string name = table.empty() ? key : table + "." + key;
    if constexpr (std::is_same_v<T, std::string>) {
        if (!n->is_string()) return fail(Errc::invalidArgument, "config " + name + ": expected a string");
        out = **n->as_string();
    } else {
        if (!n->is_integer()) return fail(Errc::invalidArgument, "config " + name + ": expected an integer");
        const auto v = **n->as_integer();
        if (v < 0 || static_cast<unsigned long long>(v) > std::numeric_limits<T>::max())
            return fail(Errc::invalidArgument, "config " + name + ": out of range");
        out = static_cast<T>(v);
    }
    return {};
}

Status onlyKeys(const toml::table& t, const std::string& table, std::set<std::string> keys) {
    for (const auto& [k, v] : t) {
        if (!keys.contains(std::string(k.str())))
            return fail(Errc::invalidArgument, "config: unknown key " + (table.empty() ? "" : table + ".") + std::string(k.str()));
    }
    return {};
}

}  // namespace

Status loadConfigFile(const std::string& path, Config& c) {
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return fail(Errc::invalidArgument, "config " + path + ":" + std::to_string(where.line) + ": " +
                                               std::string(e.description()));
    }
    if (auto s = onlyKeys(root, "", {"ms_id", "log_level", "log_format", "ports_file", "https", "coaps", "database", "otp_hash", "limits", "admin"}); !s) return s;
    const auto sub = [&](const char* name) -> const toml::table* { return root.get_as<toml::table>(name); };
    std::vector<Status> results{take(root, "", "ms_id", c.msId), take(root, "", "log_level", c.logLevel), take(root, "", "log_format", c.logFormat),
                                take(root, "", "ports_file", c.portsFile)};
    if (const auto* t = sub("https")) {
        results.push_back(onlyKeys(*t, "https", {"listen", "cert", "key", "threads", "handlers", "body_limit", "read_timeout_s"}));
        results.push_back(take(*t, "https", "listen", c.httpsListen));
        results.push_back(take(*t, "https", "cert", c.tlsCert));
        results.push_back(take(*t, "https", "key", c.tlsKey));
        results.push_back(take(*t, "https", "threads", c.httpThreads));
        results.push_back(take(*t, "https", "handlers", c.httpHandlers));
        results.push_back(take(*t, "https", "body_limit", c.bodyLimit));
        results.push_back(take(*t, "https", "read_timeout_s", c.readTimeoutSeconds));
    }
    if (const auto* t = sub("coaps")) {
        results.push_back(onlyKeys(*t, "coaps", {"listen", "cert", "key", "max_idle_sessions", "max_handshake_sessions", "session_timeout_s"}));
        results.push_back(take(*t, "coaps", "listen", c.coapsListen));
        results.push_back(take(*t, "coaps", "cert", c.dtlsCert));
        results.push_back(take(*t, "coaps", "key", c.dtlsKey));
        results.push_back(take(*t, "coaps", "max_idle_sessions", c.coapMaxIdleSessions));
        results.push_back(take(*t, "coaps", "max_handshake_sessions", c.coapMaxHandshakeSessions));
        results.push_back(take(*t, "coaps", "session_timeout_s", c.coapSessionTimeoutSeconds));
    }
    if (const auto* t = sub("database")) {
        results.push_back(onlyKeys(*t, "database", {"url", "connections"}));
        results.push_back(take(*t, "database", "url", c.database));
        results.push_back(take(*t, "database", "connections", c.dbConnections));
    }
    if (const auto* t = sub("otp_hash")) {
        results.push_back(onlyKeys(*t, "otp_hash", {"key_file", "key_uri"}));
        results.push_back(take(*t, "otp_hash", "key_file", c.otpKeyFile));
        results.push_back(take(*t, "otp_hash", "key_uri", c.otpKeyUri));
    }
    if (const auto* t = sub("admin")) {
        results.push_back(onlyKeys(*t, "admin", {"listen"}));
        results.push_back(take(*t, "admin", "listen", c.adminListen));
    }
    if (const auto* t = sub("limits")) {
        results.push_back(onlyKeys(*t, "limits", {"max_failures_per_device", "max_failures_per_client", "window_s", "lockout_s"}));
        results.push_back(take(*t, "limits", "max_failures_per_device", c.limits.maxFailuresPerDevice));
        results.push_back(take(*t, "limits", "max_failures_per_client", c.limits.maxFailuresPerClient));
        std::int64_t window = c.limits.window.count(), lockout = c.limits.lockout.count();
        results.push_back(take(*t, "limits", "window_s", window));
        results.push_back(take(*t, "limits", "lockout_s", lockout));
        c.limits.window = std::chrono::seconds(window);
        c.limits.lockout = std::chrono::seconds(lockout);
    }
    for (auto& r : results) {
        if (!r) return r;
    }
    return {};
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
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (!levels.contains(c.logLevel)) return fail(Errc::invalidArgument, "log level '" + c.logLevel + "' is not one of trace, debug, info, warn, error, critical, off");
    return {};
}

}  // namespace tte::mothership
