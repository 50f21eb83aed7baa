// The MotherShip's station API and a controller's introduction API over HTTPS (tte::client,
// libcurl): mutual TLS with the station's certificate and its key (a PEM file, or the identity
// key in the token through TokenTlsKey), the server checked against a CA file; every document
// is protocol/'s.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "tte/station/ports.h"

namespace tte::station {

class TokenTlsKey;

struct TlsClientConfig {
    std::string baseUrl;   ///< https://host:port (no trailing slash)
    std::string caFile;    ///< CA that issued the server's certificate ("" = system store)
    std::string pinnedFingerprint;  ///< 64 hex: trust exactly this server key instead (no CA check)
    std::string certFile;  ///< client certificate (PEM), "" = none
    std::string keyFile;   ///< client key (PEM), unused when tokenKey is set
    std::shared_ptr<TokenTlsKey> tokenKey;  ///< client key in the HSM (certFile then holds its certificate)
    std::optional<Error> keyError;          ///< why the token key could not be opened: every call fails with it
    long timeoutMs = 10000;
};

/// Errors of every call: `keyError` when set, unavailable (cannot connect, TLS failure with the CURLcode kept),
/// timeout, for an HTTP error the code of the answer's {"error"} body with its message
/// (invalid-argument → invalidArgument, not-found → notFound, …; 5xx → unavailable;
/// client::answerError), corrupt for a 2xx answer that is not the expected document.
std::unique_ptr<MotherShipClient> makeHttpsMotherShip(TlsClientConfig config);
/// The Controller's HTTPS is checked against `caFile` when the lot gives one, else pinned to the
/// lot's controller fingerprint (PROTOCOL.md §8: one key serves the Controller's HTTPS and
/// CoAP, and its certificate is self-signed).
std::unique_ptr<ControllerClient> makeHttpsController(std::string caFile, long timeoutMs = 10000);

}  // namespace tte::station
