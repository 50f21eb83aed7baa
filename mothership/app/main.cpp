// tte-mothership: the MotherShip server (HTTPS for introducers, controllers and stations;
// CoAP over DTLS for devices) and its `admin` commands. Parses flags into a Config or an
// AdminCommand, runs them (mothership/app.h) and waits for a signal.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>

#include "tte/cli/program.h"
#include "tte/mothership/app.h"
#include "tte/mothership/config.h"
#include "tte/mothership/logging.h"

namespace ms = tte::mothership;

namespace {

int failWith(const tte::Error& e) {
    std::fprintf(stderr, "tte-mothership: %s\n", e.toString().c_str());
    return 1;
}

int serve(const ms::Config& config, const sigset_t& signals) {
    auto logger = ms::makeLogger("tte-mothership", config.logLevel, config.logFormat);
    if (!logger) return failWith(logger.error());
    auto log = *logger;
    auto app = ms::MotherShipApp::start(config, log);
    if (!app) return failWith(app.error());
    const ms::Ready& r = (*app)->ready();
    std::printf("ready https=%s coaps=%s admin=%s\n", r.https.c_str(), r.coaps.c_str(), r.admin.c_str());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&signals, &sig);
    log->info("event=stopping signal={}", sig);
    (*app)->stop(std::chrono::seconds(5));
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
    tte::cli::setUp(app, "tte-mothership");
    app.require_subcommand(0, 1);
    std::string configFile;
    ms::Config config;
    std::optional<std::uint32_t> msId;
    std::optional<std::string> httpsListen, coapsListen, tlsCert, tlsKey, dtlsCert, dtlsKey, database, otpKey, otpKeyUri, logLevel, portsFile,
        adminListen, logFormat;
    std::optional<int> maxDev, maxClient, lockoutS, threads, handlers;
    app.add_option("-c,--config", configFile, "TOML configuration file (config/mothership.toml documents it)");
    bool checkConfig = false;
    tte::cli::addCheckConfig(app, checkConfig);
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
    app.add_option("--ports-file", portsFile,
                   "write {\"https\",\"coaps\",\"admin\",\"fingerprint\"} JSON here once listening");
    app.add_option("--admin-listen", adminListen,
                   "admin listener address:port, plain HTTP for /metrics, /healthz, /readyz (default 127.0.0.1:9474)");
    app.add_option("--log-format", logFormat, "text or json (one JSON object per line)");
    app.add_subcommand("serve", "run the server (the default)")->fallthrough();
    auto* admin = app.add_subcommand("admin", "operations on keys and the registry")->fallthrough();
    admin->require_subcommand(1);
    auto addAdmin = [&](CLI::App* parent, const char* name, const char* help) { return parent->add_subcommand(name, help)->fallthrough(); };
    auto* keygen = addAdmin(admin, "keygen", "create or rotate keys");
    keygen->require_subcommand(1);
    ms::AdminCommand cmd;
    auto* kgOtp = addAdmin(keygen, "otp", "new OTP-hash key file (rotation invalidates every stored OTP hash!)");
    kgOtp->add_option("--out", cmd.out, "key file")->required();
    kgOtp->add_flag("--force", cmd.force, "overwrite an existing key");
    auto* kgDtls = addAdmin(keygen, "dtls", "new self-signed P-256 DTLS key and certificate");
    kgDtls->add_option("--key", cmd.keyOut, "key file (PEM)")->required();
    kgDtls->add_option("--cert", cmd.certOut, "certificate file (PEM)")->required();
    kgDtls->add_flag("--force", cmd.force, "overwrite");
    auto* fpCmd = addAdmin(admin, "fingerprint", "print a certificate's SPKI SHA-256 fingerprint");
    fpCmd->add_option("--cert", cmd.certIn, "certificate (PEM)")->required();
    auto* station = addAdmin(admin, "station", "station certificates");
    station->require_subcommand(1);
    auto* stationAdd = addAdmin(station, "add", "register a station certificate for the station API");
    stationAdd->add_option("--cert", cmd.certIn, "station certificate (PEM)")->required();
    stationAdd->add_option("--name", cmd.name, "station name (the records' \"station\" field)")->required();
    auto* stationRemove = addAdmin(station, "remove", "unregister a station (its records stay; it can upload no more)");
    stationRemove->add_option("--name", cmd.name, "station name")->required();
    auto* stationList = addAdmin(station, "list", "list the registered stations");
    auto* lotCmd = addAdmin(admin, "lot", "lot quotas");
    lotCmd->require_subcommand(1);
    auto* lotSet = addAdmin(lotCmd, "set", "set a lot's Dev ID quota");
    lotSet->add_option("--lot", cmd.lot, "lot name")->required();
    lotSet->add_option("--first", cmd.first, "first Dev ID (8 hex)")->required();
    lotSet->add_option("--last", cmd.last, "last Dev ID (8 hex)")->required();
    auto* lotList = addAdmin(lotCmd, "list", "list the lots: quota and devices stored");
    lotList->add_option("--format", cmd.listFormat, "table or jsonl")->check(CLI::IsMember({"table", "jsonl"}));
    auto* revoke = addAdmin(admin, "revoke", "revoke a device, every device of a box, or every device of a lot");
    auto* revokeDev = revoke->add_option("--devid", cmd.devId, "Dev ID (8 hex)");
    auto* revokeBox = revoke->add_option("--box", cmd.box, "box number (8 hex): every device of the box");
    auto* revokeLot = revoke->add_option("--lot", cmd.lot, "lot name: every device of the lot");
    revokeDev->excludes(revokeBox, revokeLot);
    revokeBox->excludes(revokeLot);
    revoke->add_option("--reason", cmd.reason, "why (1-200 bytes, audited)")->required();
    auto* show = addAdmin(admin, "show", "show a device and its audit trail (JSON)");
    show->add_option("--devid", cmd.devId, "Dev ID (8 hex)")->required();
    auto* exportCmd = addAdmin(admin, "export", "export the registry");
    exportCmd->add_option("--format", cmd.format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
    exportCmd->add_option("--out", cmd.out, "file (default: stdout)");
    auto* backup = addAdmin(admin, "backup", "consistent copy while serving");
    backup->add_option("--out", cmd.out, "backup file (written 0600, replaced atomically)")->required();
    auto* restore = addAdmin(admin, "restore", "put a backup in place of the registry (stop the MotherShip first)");
    restore->add_option("--from", cmd.from, "backup file (SQLite copy, or pg_dump archive for PostgreSQL)")->required();
    restore->add_flag("--force", cmd.force, "replace a database that holds a registry");
    auto* copy = addAdmin(admin, "copy", "copy the whole registry into an empty PostgreSQL database (stop the MotherShip first)");
    copy->add_option("--to", cmd.to, "postgresql:// URL of an empty database, without a password (use ~/.pgpass or PGPASSFILE)")
        ->required();

    if (auto exit = tte::cli::parse(app, argc, argv)) return *exit;
    if (checkConfig && configFile.empty()) return tte::cli::usage("tte-mothership", "--check-config needs --config FILE");
    if (auto s = configFile.empty() ? tte::Status{} : ms::loadConfigFile(configFile, config); !s)
        return checkConfig ? tte::cli::checkConfigResult(configFile, s) : tte::cli::configFailed("tte-mothership", s.error());
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

    if (checkConfig) {
        auto s = ms::validateConfig(config);
        return tte::cli::checkConfigResult(configFile, s ? s : tte::withContext(s.error(), configFile));
    }
    if (!admin->parsed()) {
        // A configuration that cannot work is a usage error (exit 2: the unit does not restart it).
        if (auto s = ms::validateConfig(config); !s) return tte::cli::usage("tte-mothership", s.error().message);
        return serve(config, set);
    }
    using Kind = ms::AdminCommand::Kind;
    const std::pair<CLI::App*, Kind> kinds[] = {
        {kgOtp, Kind::keygenOtp},   {kgDtls, Kind::keygenDtls},         {fpCmd, Kind::fingerprint},
        {stationAdd, Kind::stationAdd}, {stationRemove, Kind::stationRemove}, {stationList, Kind::stationList},
        {lotSet, Kind::lotSet},     {lotList, Kind::lotList},           {revoke, Kind::revoke},
        {show, Kind::show},         {exportCmd, Kind::exportRegistry},  {backup, Kind::backup},
        {restore, Kind::restore},   {copy, Kind::copy}};
    for (const auto& [sub, kind] : kinds) {
        if (sub->parsed()) cmd.kind = kind;
    }
    if (auto s = ms::runAdmin(cmd, config, std::cout); !s) return failWith(s.error());
    return 0;
}
