// The Controller's two listeners on tte::server, over one identity: HTTPS for introducers
// (message 6), the device list and /metrics, and CoAP over DTLS for device check-in (message
// 11/12), where the client key's fingerprint decides.
#pragma once

#include <memory>

#include "tte/base/error.h"
#include "tte/controller/service.h"
#include "tte/protocol/address.h"
#include "tte/server/coap_server.h"
#include "tte/server/https_server.h"
#include "tte/server/tls.h"

namespace tte::controller {

/// HTTPS on `listen` (port 0: any free port), 2 I/O threads answering with `service`, not
/// started. Errors: those of server::HttpsServer::create().
Result<std::unique_ptr<server::HttpsServer>> makeHttpsServer(ControllerService& service,
                                                             const server::CertifiedKey& identity,
                                                             const protocol::HostPort& listen);

/// CoAP/DTLS on `listen` with POST /tte/v1/checkin, not started; a client without a
/// certificate gets 4.03 "no client certificate". Errors: those of server::CoapServer::create().
Result<std::unique_ptr<server::CoapServer>> makeCoapServer(ControllerService& service, server::CertifiedKey identity,
                                                           const protocol::HostPort& listen);

}  // namespace tte::controller
