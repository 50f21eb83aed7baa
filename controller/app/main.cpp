// tte-controller: a customer's Controller. Parses flags (and a config file), starts the
// ControllerApp (controller/app.h), runs until SIGINT/SIGTERM.

#include <csignal>
#include <cstdio>
#include <iostream>

#include "tte/cli/config_file.h"
#include "tte/cli/program.h"
#include "tte/base/clock.h"
#include "tte/client/https_client.h"
#include "tte/controller/app.h"
#include "tte/controller/identity.h"
#include "tte/server/listen.h"

namespace {

using namespace tte;
using namespace tte::controller;

/// A listen address as the servers take it (server::parseListenAddress), checked while the flags
/// and the --config file are read: a bad one is a usage error, in the file named with its line
/// (also by --check-config).
CLI::Validator listenAddress() {
    return CLI::Validator(
        [](std::string& text) {
            auto address = server::parseListenAddress(text, "listen address");
            return address ? std::string{} : address.error().message;
        },
        "");
}

int die(const std::string& message) {
    std::cerr << "tte-controller: " << message << "\n";
    return 1;
}

int serve(const ControllerOptions& o) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // threads started below inherit the mask
    SystemClock clock;
    auto app = ControllerApp::start(o, clock);
    if (!app) return die(app.error().toString());
    const Ready& r = (*app)->ready();
    std::cout << "tte-controller ready https=" << r.https << " coaps=" << r.coaps << " fingerprint=" << r.fingerprint
              << std::endl;
    int sig = 0;
    sigwait(&signals, &sig);
    (*app)->stop();
    std::cout << "tte-controller stopped" << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tte-controller – a customer's Controller for TTE enrollment (HTTPS for introducers, CoAP/DTLS for devices)"};
    tte::cli::setUp(app, "tte-controller");
    ControllerOptions o;
    app.add_option("--state-dir", o.stateDir, "directory for the identity (key, certificate) and database")->capture_default_str();
    app.add_option("--https-listen", o.httpsListen, "HTTPS ADDR:PORT (port 0: any free port)")->capture_default_str()
        ->check(listenAddress());
    app.add_option("--coaps-listen", o.coapsListen, "CoAP/DTLS ADDR:PORT (port 0: any free port)")->capture_default_str()
        ->check(listenAddress());
    app.add_option("--introduction-ttl", o.ttlSeconds, "seconds an introduction stays pending")->capture_default_str()
        ->check(CLI::Range(1L, 10L * 365 * 86400));
    app.add_flag("--accept-unintroduced", o.acceptUnintroduced, "accept devices that were never introduced (draft 2)");
    app.add_option("--ms-cacert", o.msCaFile, "CA bundle for the MotherShip's HTTPS certificate (default: system CAs)");
    app.add_option("--ms-connect-to", o.msConnectTo, "HOST:PORT:ADDR:PORT, as curl --connect-to, for status queries");
    app.add_option("--poll-interval", o.pollInterval, "seconds between looks for due status queries")->capture_default_str()
        ->check(CLI::Range(1L, 86400L));
    app.add_option("--poll-concurrency", o.pollConcurrency, "status queries in flight at once")->capture_default_str()
        ->check(CLI::Range(1, 64));
    app.add_option("--poll-backoff", o.backoffBase, "first retry delay of a status query, seconds")->capture_default_str()
        ->check(CLI::Range(1L, 86400L));
    app.add_flag("--no-status-queries", o.noStatusQueries, "never ask the MotherShip about devices");
    app.add_option("--ports-file", o.portsFile, "write {\"https\",\"coaps\",\"fingerprint\"} JSON here when ready");
    auto* config = tte::cli::addConfigFile(app, "TOML file whose keys are these long option names (config/controller.toml)");
    bool checkConfig = false;
    tte::cli::addCheckConfig(app, checkConfig);
    auto* showIdentity = app.add_subcommand("show-identity", "print the fingerprint devices pin (creates the identity if missing)");
    app.require_subcommand(0, 1);
    if (auto exit = tte::cli::parse(app, argc, argv)) return *exit;
    if (checkConfig) {
        if (config->count() == 0) return tte::cli::usage("tte-controller", "--check-config needs --config FILE");
        return tte::cli::checkConfigResult(config->as<std::string>(), {});
    }
    if (*showIdentity) {
        auto id = loadOrCreateIdentity(o.stateDir);
        if (!id) return die(id.error().toString());
        std::cout << "fingerprint " << id->fingerprint << "\ncertificate " << o.stateDir << "/identity.crt\n";
        return 0;
    }
    client::CurlGlobal curl;
    return serve(o);
}
