// tte-controller: a customer's Controller. Composition root: flags and config file, identity,
// store, HTTPS and CoAP/DTLS servers, MotherShip status poller; runs until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "tte/base/clock.h"
#include "tte/controller/coap_server.h"
#include "tte/controller/https_server.h"
#include "tte/controller/identity.h"
#include "tte/controller/service.h"
#include "tte/controller/status_poller.h"
#include "tte/controller/store.h"

namespace {

using namespace tte;
using namespace tte::controller;

struct Options {
    std::string stateDir = "controller-state";
    std::string httpsListen = "127.0.0.1:8444";
    std::string coapsListen = "127.0.0.1:5685";
    long ttlSeconds = 30L * 24 * 3600;
    bool acceptUnintroduced = false;
    std::string msCaFile;
    std::vector<std::string> msConnectTo;
    long pollInterval = 5;
    int pollConcurrency = 4;
    long backoffBase = 10;
    bool noStatusQueries = false;
    std::string portsFile;
};

int die(const std::string& message) {
    std::cerr << "tte-controller: " << message << "\n";
    return 1;
}

Result<std::pair<std::string, std::uint16_t>> splitHostPort(const std::string& text, const char* what) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return fail(Errc::invalidArgument, std::string(what) + " must be ADDR:PORT");
    try {
        std::size_t used = 0;
        int port = std::stoi(text.substr(colon + 1), &used);
        if (used != text.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range("port");
        return std::make_pair(text.substr(0, colon), static_cast<std::uint16_t>(port));
    } catch (const std::exception&) {
        return fail(Errc::invalidArgument, std::string(what) + " has a bad port: " + text);
    }
}

Status writePortsFile(const std::string& path, const nlohmann::json& doc) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        out << doc.dump() << "\n";
        if (!out.flush()) return fail(Errc::io, "cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return fail(Errc::io, "cannot rename " + tmp + " to " + path);
    return {};
}

int serve(const Options& o) {
    auto https = splitHostPort(o.httpsListen, "--https-listen");
    auto coaps = splitHostPort(o.coapsListen, "--coaps-listen");
    if (!https) return die(https.error().message);
    if (!coaps) return die(coaps.error().message);
    if (o.ttlSeconds <= 0) return die("--introduction-ttl must be positive");
    auto id = loadOrCreateIdentity(o.stateDir);
    if (!id) return die(id.error().toString());
    auto store = DeviceStore::open(o.stateDir + "/controller.db");
    if (!store) return die(store.error().toString());

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // threads started below inherit the mask

    SystemClock clock;
    ControllerService service(**store, clock, {std::chrono::seconds(o.ttlSeconds), o.acceptUnintroduced});
    HttpsServer httpsServer([&service](auto m, auto t, auto b) { return service.handleHttp(m, t, b); });
    auto httpsPort = httpsServer.start(https->first, https->second, id->certPem, id->keyPem);
    if (!httpsPort) return die(httpsPort.error().toString());
    CoapServer coapServer(service);
    auto coapsPort = coapServer.start(coaps->first, coaps->second, id->certPem, id->keyPem);
    if (!coapsPort) return die(coapsPort.error().toString());
    StatusPoller poller(**store, service, clock,
                        makeHttpsStatusFetcher(client::HttpsOptions::verified(o.msCaFile, o.msConnectTo, std::chrono::seconds(15))),
                        {o.pollConcurrency, std::chrono::seconds(o.pollInterval), std::chrono::seconds(o.backoffBase),
                         std::chrono::hours(6)});
    if (!o.noStatusQueries) poller.start();

    std::string httpsAddr = https->first + ":" + std::to_string(*httpsPort);
    std::string coapsAddr = coaps->first + ":" + std::to_string(*coapsPort);
    if (!o.portsFile.empty()) {
        auto st = writePortsFile(o.portsFile, {{"https", httpsAddr}, {"coaps", coapsAddr}, {"fingerprint", id->fingerprint}});
        if (!st) return die(st.error().message);
    }
    std::cout << "tte-controller ready https=" << httpsAddr << " coaps=" << coapsAddr
              << " fingerprint=" << id->fingerprint << std::endl;
    int sig = 0;
    sigwait(&signals, &sig);
    poller.stop();
    coapServer.stop();
    httpsServer.stop();
    std::cout << "tte-controller stopped" << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tte-controller – a customer's Controller for TTE enrollment (HTTPS for introducers, CoAP/DTLS for devices)"};
    app.set_config("--config", "", "TOML file whose keys are these long option names");
    Options o;
    app.add_option("--state-dir", o.stateDir, "directory for the identity (key, certificate) and database")->capture_default_str();
    app.add_option("--https-listen", o.httpsListen, "HTTPS ADDR:PORT (port 0: any free port)")->capture_default_str();
    app.add_option("--coaps-listen", o.coapsListen, "CoAP/DTLS ADDR:PORT (port 0: any free port)")->capture_default_str();
    app.add_option("--introduction-ttl", o.ttlSeconds, "seconds an introduction stays pending")->capture_default_str();
    app.add_flag("--accept-unintroduced", o.acceptUnintroduced, "accept devices that were never introduced (draft 2)");
    app.add_option("--ms-cacert", o.msCaFile, "CA bundle for the MotherShip's HTTPS certificate (default: system CAs)");
    app.add_option("--ms-connect-to", o.msConnectTo, "HOST:PORT:ADDR:PORT, as curl --connect-to, for status queries");
    app.add_option("--poll-interval", o.pollInterval, "seconds between looks for due status queries")->capture_default_str();
    app.add_option("--poll-concurrency", o.pollConcurrency, "status queries in flight at once")->capture_default_str();
    app.add_option("--poll-backoff", o.backoffBase, "first retry delay of a status query, seconds")->capture_default_str();
    app.add_flag("--no-status-queries", o.noStatusQueries, "never ask the MotherShip about devices");
    app.add_option("--ports-file", o.portsFile, "write {\"https\",\"coaps\",\"fingerprint\"} JSON here when ready");
    auto* showIdentity = app.add_subcommand("show-identity", "print the fingerprint devices pin (creates the identity if missing)");
    app.require_subcommand(0, 1);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (o.pollConcurrency < 1) return die("--poll-concurrency must be at least 1");
    if (*showIdentity) {
        auto id = loadOrCreateIdentity(o.stateDir);
        if (!id) return die(id.error().toString());
        std::cout << "fingerprint " << id->fingerprint << "\ncertificate " << o.stateDir << "/identity.crt\n";
        return 0;
    }
    client::CurlGlobal curl;
    return serve(o);
}
