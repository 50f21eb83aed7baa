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
    server::CoapServerOptions options;
    options.address = listen.host;
    options.port = listen.port;
    // §11: DTLS-PSK devices, identity = URN, key = the one their introducer gave (message 6).
    options.pskLookup = [&service](std::string_view id) { return service.devicePsk(id); };
    auto coap = server::CoapServer::create(options, std::move(identity));
    if (!coap) return std::unexpected(coap.error());
    (*coap)->addResource("tte/v1/checkin", server::CoapMethod::post, [&service](const server::CoapRequest& r) {
        const std::string_view payload(reinterpret_cast<const char*>(r.payload.data()), r.payload.size());
        const CoapAnswer answer = r.pskIdentity       ? service.checkinWithPsk(*r.pskIdentity, payload)
                                  : r.peerFingerprint ? service.checkin(*r.peerFingerprint, payload)
                                                      : CoapAnswer{403, "no client certificate"};
        return server::CoapReply{answer.code, std::nullopt, {answer.payload.begin(), answer.payload.end()}};
    });
    return coap;
}

}  // namespace tte::controller
