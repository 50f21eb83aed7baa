// The MotherShip's configuration: a plain struct read once from a TOML file
// (config/mothership.toml documents every key) and overridden by command-line flags.
#pragma once

#include <cstdint>
#include <string>

#include "tte/base/error.h"
#include "tte/mothership/coap_server.h"
#include "tte/mothership/https_server.h"
#include "tte/mothership/limiter.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {

struct Config {
    std::uint32_t msId = 0;  ///< required; 0 and a non-zero high byte are refused (draft 3.4)
    std::string httpsListen = "127.0.0.1:8443";
    std::string coapsListen = "127.0.0.1:5684";
    std::string tlsCert;
    std::string tlsKey;
    std::string dtlsCert;
    std::string dtlsKey;
    std::string database = "sqlite:///var/lib/tte-mothership/registry.db";
    std::string otpKeyFile;
    std::string otpKeyUri;  ///< the OTP-hash key in a PKCS#11 token instead (RFC 7512 URI)
    LimiterOptions limits;
    int httpThreads = 4;
    int httpHandlers = 64;
    int dbConnections = 4;
    /// SQLite: the writer connection's page cache in MiB (`database.sqlite_cache_mib`).
    int sqliteCacheMib = RegistryOptions::kDefaultSqliteCacheMib;
    std::size_t bodyLimit = 1 << 20;
    int readTimeoutSeconds = 30;
    unsigned coapMaxIdleSessions = 20000;
    unsigned coapMaxHandshakeSessions = 500;
    unsigned coapSessionTimeoutSeconds = 60;
    /// New DTLS handshakes per second one source IP address may start (8 s worth at once).
    unsigned coapHandshakesPerAddressPerSecond = 8;
    std::string logLevel = "info";
    std::string logFormat = "text";  ///< "text" or "json" (one JSON object per line)
    std::string portsFile;  ///< where the bound ports are written once listening
    /// Plain HTTP for /metrics, /healthz, /readyz; loopback unless a firewall guards it.
    std::string adminListen = "127.0.0.1:9474";
};

/// Reads a TOML file strictly into `config` (keys not in the file keep their value).
/// Errors: io (unreadable), invalidArgument with every problem (syntax, unknown key or table,
/// wrong type, value out of range), one `FILE:LINE: key: reason` per line.
Status loadConfigFile(const std::string& path, Config& config);

/// Checks a complete configuration. Errors: invalidArgument naming the setting.
Status validateConfig(const Config& config);

}  // namespace tte::mothership
