// The MotherShip on tte::server's HTTPS server (https_server.h).
#include "tte/mothership/https_server.h"

namespace tte::mothership {
namespace {

std::string pathOnly(const std::string& target) {
    // The query holds the OTP: never log it.
    return target.substr(0, std::min(target.find('?'), std::size_t{128}));
}

}  // namespace

Result<std::unique_ptr<server::HttpsServer>> makeHttpsServer(const HttpsOptions& o, Service& service, Metrics& metrics,
                                                             std::shared_ptr<spdlog::logger> log) {
    auto identity = server::loadCertifiedKey(o.certFile, o.keyFile);
    if (!identity) {
        return fail(Errc::invalidArgument, "cannot load TLS certificate " + o.certFile + " / key " + o.keyFile +
                                               " (or they do not match)");
    }
    server::HttpsServerOptions options;
    options.address = o.address;
    options.port = o.port;
    options.serverName = "tte-mothership";
    options.threads = o.threads;
    options.handlers = std::max(1, o.handlers);
    options.bodyLimit = o.bodyLimit;
    options.headerLimit = o.headerLimit;
    options.readTimeout = o.readTimeout;
    options.clientCertificates = server::ClientCertificates::requested;  // the station API pins it
    options.headers = {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}};  // PROTOCOL §6
    server::HttpsObserver observer;
    observer.handshakeFailed = [&metrics, log](const std::string& client, const std::string& reason) {
        metrics.tlsHandshakeFailures++;
        log->debug("event=tls-handshake-failed client={} error=\"{}\"", client, reason);
    };
    observer.served = [log](const HttpRequest& request, const HttpResponse& response, std::chrono::microseconds us) {
        log->info("event=http method={} path=\"{}\" status={} client={} us={}", request.method, pathOnly(request.target),
                  response.status, request.client, us.count());
    };
    observer.refused = [&metrics](int status) { metrics.httpResponse(status); };
    return server::HttpsServer::create(options, *identity, [&service](const HttpRequest& r) { return service.handle(r); },
                                       std::move(observer));
}

}  // namespace tte::mothership
