// The Controller's listeners (servers.h).
#include "tte/controller/servers.h"

namespace tte::controller {

Result<std::unique_ptr<server::HttpsServer>> makeHttpsServer(ControllerService& service,
                                                             const server::CertifiedKey& identity,
                                                             const protocol::HostPort& listen) {
    server::HttpsServerOptions options;
    options.address = listen.host;
    options.port = listen.port;
    options.serverName = "tte-controller";
    options.threads = 2;
    options.bodyLimit = 64 * 1024;  // an introduction is well under 1 KiB
    return server::HttpsServer::create(options, identity, [&service](const HttpRequest& r) { return service.handle(r); });
}

Result<std::unique_ptr<server::CoapServer>> makeCoapServer(ControllerService& service, server::CertifiedKey identity,
                                                           const protocol::HostPort& listen) {
    auto coap = server::CoapServer::create({listen.host, listen.port}, std::move(identity));
    if (!coap) return std::unexpected(coap.error());
    (*coap)->addResource("tte/v1/checkin", server::CoapMethod::post, [&service](const server::CoapRequest& r) {
        const CoapAnswer answer = r.peerFingerprint
                                      ? service.checkin(*r.peerFingerprint,
                                                        std::string_view(reinterpret_cast<const char*>(r.payload.data()),
                                                                         r.payload.size()))
                                      : CoapAnswer{403, "no client certificate"};
        return server::CoapReply{answer.code, std::nullopt, {answer.payload.begin(), answer.payload.end()}};
    });
    return coap;
}

}  // namespace tte::controller
