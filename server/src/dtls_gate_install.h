// What putting the DTLS cookie gate (dtls_gate.h) in front of libcoap 4.3.1 needs and libcoap
// has no API for (coap_server.cpp, LibcoapServer::installCookieGate): the endpoint's UDP socket,
// found among the process's descriptors by its bound port; one DTLS handshake from a plain
// OpenSSL client to the endpoint, during which libcoap's session set-up callback notes the
// DTLS SSL_CTX that every server session's SSL shares (coap_openssl.c); and the gate's cookie
// callbacks on that SSL_CTX, so that libcoap's cookie check is the gate's verdict.
#pragma once

#include <coap3/coap.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <functional>

#include "tte/base/error.h"

namespace tte::server {

class DtlsGate;

/// The UDP socket bound to `port` on `family` (AF_INET or AF_INET6) among this process's
/// descriptors: the endpoint libcoap just made. -1 when there is none.
int boundUdpSocket(int family, std::uint16_t port);

/// Makes one DTLS handshake from a plain OpenSSL client to `bound` (loopback for a wildcard
/// address), driving `ctx` with coap_io_process until `found()` says the session set-up
/// callback has seen what it waited for, 5 s at most. Errors: io (no socket to the endpoint).
/// Whether `found()` came true is the caller's to check.
Status handshakeWithEndpoint(coap_context_t* ctx, const coap_address_t& bound, const std::function<bool()>& found);

/// Makes `gate` the cookie check of `dtlsContext` (libcoap's DTLSv1_listen): a cookie is good
/// exactly when the gate passed it in the current batch (DtlsGate::admitted); making a cookie
/// there fails, as the gate answers cookie-less ClientHellos itself. `gate` must outlive the
/// context's use. Errors: internal (OpenSSL refused the ex-data).
Status attachCookieGate(SSL_CTX* dtlsContext, const DtlsGate& gate);

}  // namespace tte::server
