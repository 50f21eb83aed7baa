// Starting and stopping a whole Controller (app.h).
#include "tte/controller/app.h"

#include "tte/controller/identity.h"
#include "tte/controller/servers.h"
#include "tte/controller/service.h"
#include "tte/controller/status_poller.h"
#include "tte/controller/store.h"
#include "tte/server/listen.h"

namespace tte::controller {

struct ControllerApp::Parts {
    Ready ready;
    std::unique_ptr<DeviceStore> store;
    std::unique_ptr<ControllerService> service;
    std::unique_ptr<server::HttpsServer> https;
    std::unique_ptr<server::CoapServer> coaps;
    std::unique_ptr<StatusPoller> poller;
};

ControllerApp::ControllerApp(std::unique_ptr<Parts> parts) : m_parts(std::move(parts)) {}

ControllerApp::~ControllerApp() { stop(); }

const Ready& ControllerApp::ready() const { return m_parts->ready; }

void ControllerApp::stop() {
    if (m_parts->poller) m_parts->poller->stop();
    if (m_parts->coaps) m_parts->coaps->stop();
    if (m_parts->https) m_parts->https->stop(std::chrono::seconds(2));
}

Result<std::unique_ptr<ControllerApp>> ControllerApp::start(const ControllerOptions& o, Clock& clock) {
    auto httpsListen = server::parseListenAddress(o.httpsListen, "--https-listen");
    if (!httpsListen) return std::unexpected(httpsListen.error());
    auto coapsListen = server::parseListenAddress(o.coapsListen, "--coaps-listen");
    if (!coapsListen) return std::unexpected(coapsListen.error());
    if (o.ttlSeconds <= 0) return fail(Errc::invalidArgument, "--introduction-ttl must be positive");
    if (o.pollConcurrency < 1) return fail(Errc::invalidArgument, "--poll-concurrency must be at least 1");
    auto id = loadOrCreateIdentity(o.stateDir);
    if (!id) return std::unexpected(id.error());
    auto identity = server::certifiedKeyFromPem(id->certPem, id->keyPem);
    if (!identity) return std::unexpected(identity.error());
    auto parts = std::make_unique<Parts>();
    auto store = DeviceStore::open(o.stateDir + "/controller.db");
    if (!store) return std::unexpected(store.error());
    parts->store = std::move(*store);
    // Introductions that expired while the Controller was down keep no OTP (PROTOCOL §8),
    // whether or not the status poller runs.
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock.wallNow().time_since_epoch()).count();
    if (auto forgot = parts->store->forgetUnneededOtps(now); !forgot) return std::unexpected(forgot.error());
    parts->service = std::make_unique<ControllerService>(
        *parts->store, clock, ServiceOptions{std::chrono::seconds(o.ttlSeconds), o.acceptUnintroduced});
    auto https = makeHttpsServer(*parts->service, *identity, *httpsListen);
    if (!https) return std::unexpected(https.error());
    parts->https = std::move(*https);
    auto coaps = makeCoapServer(*parts->service, identity->share(), *coapsListen);
    if (!coaps) return std::unexpected(coaps.error());
    parts->coaps = std::move(*coaps);
    parts->poller = std::make_unique<StatusPoller>(
        *parts->store, *parts->service, clock,
        makeHttpsStatusFetcher(client::HttpsOptions::verified(o.msCaFile, o.msConnectTo, std::chrono::seconds(15))),
        PollerOptions{o.pollConcurrency, std::chrono::seconds(o.pollInterval), std::chrono::seconds(o.backoffBase),
                      std::chrono::hours(6)});
    parts->https->start();
    parts->coaps->start();
    if (!o.noStatusQueries) parts->poller->start();
    parts->ready = {protocol::formatHostPort(httpsListen->host, parts->https->port()),
                    protocol::formatHostPort(coapsListen->host, parts->coaps->port()), id->fingerprint};
    auto app = std::unique_ptr<ControllerApp>(new ControllerApp(std::move(parts)));
    if (!o.portsFile.empty()) {
        const Ready& r = app->ready();
        if (auto st = server::writePortsFile(o.portsFile, {{"https", r.https}, {"coaps", r.coaps}, {"fingerprint", r.fingerprint}});
            !st)
            return std::unexpected(st.error());
    }
    return app;
}

}  // namespace tte::controller
