// The MotherShip's station API and a controller's introduction API over HTTPS (libcurl):
// mutual TLS with the station's certificate and key, the server checked against a CA file.
#pragma once

#include <memory>
#include <string>

#include "tte/station/ports.h"

namespace tte::station {

struct TlsClientConfig {
    std::string baseUrl;   ///< https://host:port (no trailing slash)
    std::string caFile;    ///< CA that issued the server's certificate ("" = system store)
    std::string certFile;  ///< client certificate (PEM), "" = none
    std::string keyFile;   ///< client key (PEM)
    long timeoutMs = 10000;
};

/// Errors of every call: unavailable (cannot connect, TLS failure with the CURLcode kept),
/// timeout, and for an HTTP error the code of the answer's {"error"} body with its message
/// (invalid-argument → invalidArgument, not-found → notFound, …; 5xx → unavailable).
std::unique_ptr<MotherShipClient> makeHttpsMotherShip(TlsClientConfig config);
std::unique_ptr<ControllerClient> makeHttpsController(std::string caFile, long timeoutMs = 10000);

}  // namespace tte::station
