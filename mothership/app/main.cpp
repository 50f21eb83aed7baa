// tte-mothership: the MotherShip server (HTTPS for introducers, controllers and stations;
// CoAP over DTLS for devices) and its `admin` commands. Parses flags, wires, runs.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <spdlog/spdlog.h>

#include "tte/base/clock.h"
#include "tte/base/hex.h"
#include "tte/mothership/admin.h"
#include "tte/mothership/admin_listener.h"
#include "tte/mothership/coap_server.h"
#include "tte/mothership/config.h"
#include "tte/mothership/crypto.h"
#include "tte/mothership/https_server.h"
#include "tte/mothership/logging.h"
#include "tte/mothership/service.h"

namespace ms = tte::mothership;

namespace {

int failWith(const tte::Error& e) {
    std::fprintf(stderr, "tte-mothership: %s\n", e.toString().c_str());
    return 1;
}

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

tte::Status writePortsFile(const std::string& path, std::uint16_t https, std::uint16_t coaps, std::uint16_t admin) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        out << "https_port=" << https << "\ncoaps_port=" << coaps << "\nadmin_port=" << admin << "\n";
        if (!out) return tte::fail(tte::Errc::io, "cannot write ports file " + path);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return tte::fail(tte::Errc::io, "cannot write ports file " + path);
    return {};
}

int serve(const ms::Config& config) {
    auto logger = ms::makeLogger("tte-mothership", config.logLevel, config.logFormat);
    if (!logger) return failWith(logger.error());
    auto log = *logger;
    auto https = *ms::parseListen(config.httpsListen, "https listen");
    auto coaps = *ms::parseListen(config.coapsListen, "coaps listen");
    auto adminAddress = *ms::parseListen(config.adminListen, "admin listen");
    auto hasher = config.otpKeyUri.empty() ? ms::OtpHasher::fromFile(config.otpKeyFile)
                                           : ms::OtpHasher::openToken(config.otpKeyUri);
    if (!hasher) return failWith(hasher.error());
    auto registry = ms::openRegistry(config.database, config.dbConnections);
    if (!registry) return failWith(registry.error());
    tte::SystemClock clock;
    ms::Metrics metrics;
    metrics.watchRegistry(**registry, clock);
    ms::FailureLimiter limiter(**registry, clock, config.limits);
    ms::Service service(**registry, *hasher, clock, limiter, metrics, ms::ServiceOptions{config.msId, 500});
    ms::HttpsOptions ho{.address = https.first,
                        .port = https.second,
                        .certFile = config.tlsCert,
                        .keyFile = config.tlsKey,
                        .threads = config.httpThreads,
                        .handlers = config.httpHandlers,
                        .bodyLimit = config.bodyLimit,
                        .headerLimit = 8192,
                        .readTimeout = std::chrono::seconds(config.readTimeoutSeconds)};
    auto httpsServer = ms::HttpsServer::create(ho, service, metrics, log);
    if (!httpsServer) return failWith(httpsServer.error());
    ms::CoapOptions co{coaps.first, coaps.second, config.dtlsCert, config.dtlsKey, config.coapMaxIdleSessions,
                       config.coapMaxHandshakeSessions, config.coapSessionTimeoutSeconds};
    auto coapServer = ms::CoapServer::create(co, **registry, clock, metrics, log);
    if (!coapServer) return failWith(coapServer.error());
    auto adminListener = ms::AdminListener::create({adminAddress.first, adminAddress.second},
                                                   [&service](const ms::HttpRequest& r) { return service.handleAdmin(r); }, log);
    if (!adminListener) return failWith(adminListener.error());
    (*httpsServer)->start();
    (*coapServer)->start();
    (*adminListener)->start();
    const auto hp = (*httpsServer)->port();
    const auto cp = (*coapServer)->port();
    const auto ap = (*adminListener)->port();
    if (!config.portsFile.empty()) {
        if (auto s = writePortsFile(config.portsFile, hp, cp, ap); !s) return failWith(s.error());
    }
    log->info("event=ready ms={} https={}:{} coaps={}:{} admin={}:{} database={}", ms::msHostName(config.msId),
              https.first, hp, coaps.first, cp, adminAddress.first, ap, config.database.substr(0, config.database.find('@')));
    std::printf("ready https=%s:%u coaps=%s:%u admin=%s:%u\n", https.first.c_str(), hp, coaps.first.c_str(), cp,
                adminAddress.first.c_str(), ap);
    std::fflush(stdout);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int sig = 0;
    sigwait(&set, &sig);
    log->info("event=stopping signal={}", sig);
    (*adminListener)->stop();
    (*httpsServer)->stop(std::chrono::seconds(5));  // drain requests in flight
    (*coapServer)->stop();                           // commit queued registrations
    coapServer->reset();
    httpsServer->reset();
    registry->reset();  // the SQLite writer commits its queue before it closes
    log->info("event=stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Signals go to sigwait() in serve(); block them before any thread starts.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    CLI::App app{"tte-mothership: the MotherShip of transitive trust enrollment (HTTPS + CoAP/DTLS)"};
    app.require_subcommand(0, 1);
    std::string configFile;
    ms::Config config;
    std::optional<std::uint32_t> msId;
    std::optional<std::string> httpsListen, coapsListen, tlsCert, tlsKey, dtlsCert, dtlsKey, database, otpKey, otpKeyUri, logLevel, portsFile;
    std::optional<std::string> adminListen, logFormat;
    std::optional<int> maxDev, maxClient, lockoutS, threads, handlers;
    app.add_option("-c,--config", configFile, "TOML configuration file (config/mothership.toml documents it)");
    app.add_option("--ms-id", msId, "MotherShip ID (1 .. 0xFFFFFF; 0 is refused)");
    app.add_option("--https-listen", httpsListen, "HTTPS address:port (port 0: any free port)");
    app.add_option("--coaps-listen", coapsListen, "CoAP/DTLS address:port (port 0: any free port)");
    app.add_option("--tls-cert", tlsCert, "HTTPS certificate chain (PEM) for tte-XXXXXX.net");
    app.add_option("--tls-key", tlsKey, "HTTPS private key (PEM)");
    app.add_option("--dtls-cert", dtlsCert, "DTLS self-signed certificate (PEM)");
    app.add_option("--dtls-key", dtlsKey, "DTLS private key (PEM)");
    app.add_option("--database", database, "sqlite:///path or postgresql://…");
    app.add_option("--otp-key-file", otpKey, "OTP-hash key file (64 hex digits)");
    app.add_option("--otp-key-uri", otpKeyUri, "the OTP-hash key in a PKCS#11 token: pkcs11:token=…;object=…?pin-source=file:…");
    app.add_option("--max-failures-device", maxDev, "failed OTP attempts per Dev ID before lockout");
    app.add_option("--max-failures-client", maxClient, "failed OTP attempts per client address before lockout");
    app.add_option("--lockout-seconds", lockoutS, "lockout and counting window, seconds");
    app.add_option("--http-threads", threads, "HTTPS I/O threads (TLS and HTTP)");
    app.add_option("--http-handlers", handlers, "HTTPS request handlers (each claim waiting for its commit holds one)");
    app.add_option("--log-level", logLevel, "trace, debug, info, warn, error");
    app.add_option("--ports-file", portsFile, "write the bound ports here once listening (https_port=N, coaps_port=N, admin_port=N)");
    app.add_option("--admin-listen", adminListen, "admin listener address:port, plain HTTP for /metrics, /healthz, /readyz (default 127.0.0.1:9474)");
    app.add_option("--log-format", logFormat, "text or json (one JSON object per line)");
    app.add_subcommand("serve", "run the server (the default)")->fallthrough();
    auto* admin = app.add_subcommand("admin", "operations on keys and the registry")->fallthrough();
    admin->require_subcommand(1);
    auto addAdmin = [&](CLI::App* parent, const char* name, const char* help) { return parent->add_subcommand(name, help)->fallthrough(); };
    auto* keygen = addAdmin(admin, "keygen", "create or rotate keys");
    keygen->require_subcommand(1);
    std::string out, keyOut, certOut, certIn, name, lot, firstHex, lastHex, devIdHex, reason, format = "jsonl";
    bool force = false;
    auto* kgOtp = addAdmin(keygen, "otp", "new OTP-hash key file (rotation invalidates every stored OTP hash!)");
    kgOtp->add_option("--out", out, "key file")->required();
    kgOtp->add_flag("--force", force, "overwrite an existing key");
    auto* kgDtls = addAdmin(keygen, "dtls", "new self-signed P-256 DTLS key and certificate");
    kgDtls->add_option("--key", keyOut, "key file (PEM)")->required();
    kgDtls->add_option("--cert", certOut, "certificate file (PEM)")->required();
    kgDtls->add_flag("--force", force, "overwrite");
    auto* fpCmd = addAdmin(admin, "fingerprint", "print a certificate's SPKI SHA-256 fingerprint");
    fpCmd->add_option("--cert", certIn, "certificate (PEM)")->required();
    auto* station = addAdmin(admin, "station", "station certificates");
    station->require_subcommand(1);
    auto* stationAdd = addAdmin(station, "add", "register a station certificate for the station API");
    stationAdd->add_option("--cert", certIn, "station certificate (PEM)")->required();
    stationAdd->add_option("--name", name, "station name (the records' \"station\" field)")->required();
    auto* stationRemove = addAdmin(station, "remove", "unregister a station (its records stay; it can upload no more)");
    stationRemove->add_option("--name", name, "station name")->required();
    auto* stationList = addAdmin(station, "list", "list the registered stations");
    auto* lotCmd = addAdmin(admin, "lot", "lot quotas");
    lotCmd->require_subcommand(1);
    auto* lotSet = addAdmin(lotCmd, "set", "set a lot's Dev ID quota");
    lotSet->add_option("--lot", lot, "lot name")->required();
    lotSet->add_option("--first", firstHex, "first Dev ID (8 hex)")->required();
    lotSet->add_option("--last", lastHex, "last Dev ID (8 hex)")->required();
    std::string listFormat = "table";
    auto* lotList = addAdmin(lotCmd, "list", "list the lots: quota and devices stored");
    lotList->add_option("--format", listFormat, "table or jsonl")->check(CLI::IsMember({"table", "jsonl"}));
    auto* revoke = addAdmin(admin, "revoke", "revoke a device");
    revoke->add_option("--devid", devIdHex, "Dev ID (8 hex)")->required();
    revoke->add_option("--reason", reason, "why (audited)")->required();
    auto* show = addAdmin(admin, "show", "show a device and its audit trail (JSON)");
    show->add_option("--devid", devIdHex, "Dev ID (8 hex)")->required();
    auto* exportCmd = addAdmin(admin, "export", "export the registry");
    exportCmd->add_option("--format", format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
    exportCmd->add_option("--out", out, "file (default: stdout)");
    auto* backup = addAdmin(admin, "backup", "consistent copy while serving");
    backup->add_option("--out", out, "backup file (written 0600, replaced atomically)")->required();
    std::string from;
    auto* restore = addAdmin(admin, "restore", "put a backup in place of the registry (stop the MotherShip first)");
    restore->add_option("--from", from, "backup file (SQLite copy, or pg_dump archive for PostgreSQL)")->required();
    restore->add_flag("--force", force, "replace a database that holds a registry");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::fprintf(stderr, "tte-mothership: %s\n", e.what());
        return 2;
    }
    if (!configFile.empty()) {
        if (auto s = ms::loadConfigFile(configFile, config); !s) return failWith(s.error());
    }
    const auto set1 = [](auto& target, const auto& value) { if (value) target = *value; };
    set1(config.msId, msId); set1(config.httpsListen, httpsListen); set1(config.coapsListen, coapsListen);
    set1(config.tlsCert, tlsCert); set1(config.tlsKey, tlsKey); set1(config.dtlsCert, dtlsCert);
    set1(config.dtlsKey, dtlsKey); set1(config.database, database); set1(config.otpKeyFile, otpKey);
    set1(config.otpKeyUri, otpKeyUri);
    set1(config.logLevel, logLevel); set1(config.portsFile, portsFile); set1(config.adminListen, adminListen);
    set1(config.logFormat, logFormat); set1(config.httpThreads, threads);
    set1(config.httpHandlers, handlers);
    set1(config.limits.maxFailuresPerDevice, maxDev); set1(config.limits.maxFailuresPerClient, maxClient);
    if (lockoutS) config.limits.lockout = config.limits.window = std::chrono::seconds(*lockoutS);

    if (!admin->parsed()) {
        if (auto s = ms::validateConfig(config); !s) return failWith(s.error());
        return serve(config);
    }
    if (kgOtp->parsed()) {
        if (auto s = ms::writeNewKeyFile(out, force); !s) return failWith(s.error());
        std::printf("wrote %s\n", out.c_str());
        return 0;
    }
    if (kgDtls->parsed()) {
        if (!force && std::ifstream(keyOut)) return failWith(tte::Error{tte::Errc::alreadyExists, keyOut + " exists already (use --force to rotate)", {}, 0, {}});
        const std::string cn = config.msId ? ms::msHostName(config.msId) : "tte-mothership";
        if (auto s = ms::writeSelfSignedP256(keyOut, certOut, cn, 3650); !s) return failWith(s.error());
        std::ifstream in(certOut);
        std::stringstream pem;
        pem << in.rdbuf();
        std::printf("%s\n", ms::fingerprintOfPem(pem.str()).value_or("?").c_str());
        return 0;
    }
    if (fpCmd->parsed()) {
        std::ifstream in(certIn);
        std::stringstream pem;
        pem << in.rdbuf();
        auto fp = ms::fingerprintOfPem(pem.str());
        if (!fp) return failWith(fp.error());
        std::printf("%s\n", fp->c_str());
        return 0;
    }
    if (backup->parsed()) {
        if (auto s = ms::adminBackup(config.database, out); !s) return failWith(s.error());
        return 0;
    }
    if (restore->parsed()) {
        auto summary = ms::adminRestore(config.database, from, ms::RestoreOptions{.force = force});
        if (!summary) return failWith(summary.error());
        std::printf("%s\n", summary->c_str());
        return 0;
    }
    auto registry = ms::openRegistry(config.database, 1);
    if (!registry) return failWith(registry.error());
    auto& reg = **registry;
    const auto hexId = [](const std::string& text, const char* what) { return tte::parseHexInt(text, 8, what); };
    if (stationAdd->parsed()) {
        auto fp = ms::adminStationAdd(reg, certIn, name, nowMs());
        if (!fp) return failWith(fp.error());
        std::printf("station %s fingerprint %s\n", name.c_str(), fp->c_str());
    } else if (stationRemove->parsed()) {
        if (auto s = reg.removeStation(name, "admin", nowMs()); !s) return failWith(s.error());
        std::printf("station %s removed\n", name.c_str());
    } else if (stationList->parsed()) {
        if (auto s = ms::adminStationList(reg, std::cout); !s) return failWith(s.error());
    } else if (lotList->parsed()) {
        if (auto s = ms::adminLotList(reg, listFormat, std::cout); !s) return failWith(s.error());
    } else if (lotSet->parsed()) {
        auto first = hexId(firstHex, "--first");
        auto last = hexId(lastHex, "--last");
        if (!first) return failWith(first.error());
        if (!last) return failWith(last.error());
        if (auto s = reg.setLotQuota(lot, static_cast<std::uint32_t>(*first), static_cast<std::uint32_t>(*last)); !s)
            return failWith(s.error());
    } else if (revoke->parsed()) {
        auto id = hexId(devIdHex, "--devid");
        if (!id) return failWith(id.error());
        if (auto s = reg.revoke(static_cast<std::uint32_t>(*id), reason, "admin", nowMs()); !s) return failWith(s.error());
    } else if (show->parsed()) {
        auto id = hexId(devIdHex, "--devid");
        if (!id) return failWith(id.error());
        auto text = ms::adminShow(reg, static_cast<std::uint32_t>(*id));
        if (!text) return failWith(text.error());
        std::printf("%s\n", text->c_str());
    } else if (exportCmd->parsed()) {
        std::ofstream file;
        if (!out.empty()) file.open(out);
        if (!out.empty() && !file) return failWith(tte::Error{tte::Errc::io, "cannot write " + out, {}, 0, {}});
        if (auto s = ms::adminExport(reg, format, out.empty() ? std::cout : file); !s) return failWith(s.error());
    }
    return 0;
}
