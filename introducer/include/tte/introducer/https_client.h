// HTTPS requests with libcurl, as the introducer (and the Controller's status queries) make
// them: the server certificate checked against the URL's host with the system CAs or a given
// CA file (draft 2: "MUST verify that the HTTPS certificate of the MotherShip matches the
// URL"), or pinned to a key fingerprint for the Controller; curl-style --connect-to.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"

namespace tte::introducer {

struct HttpsOptions {
    std::string caFile;                  ///< PEM CA bundle; empty: the system's CAs
    std::vector<std::string> connectTo;  ///< curl --connect-to entries HOST:PORT:ADDR:PORT
    std::string pinnedFingerprint;       ///< 64 hex: trust exactly this key (no CA check)
    std::chrono::seconds timeout{20};
};

struct HttpResponse {
    long status = 0;
    std::string body;
    std::string retryAfter;  ///< Retry-After header, if any
};

/// Performs one request. A response with any status is a value; transport failures are
/// errors: unauthenticated (certificate not trusted for the host, or key not the pinned one),
/// unavailable (cannot connect/resolve), timeout, invalidArgument (bad URL or option),
/// io (anything else). The curl code and text are kept as the native code.
Result<HttpResponse> httpsRequest(const HttpsOptions& options, std::string_view method, const std::string& url,
                                  std::string_view body = {}, std::string_view contentType = {});

/// Checks a --connect-to entry (HOST:PORT:ADDR:PORT). Errors: invalidArgument.
Status validateConnectTo(std::string_view entry);

/// libcurl's pin string for a key fingerprint: "sha256//<base64 of the 32 bytes>".
/// Errors: invalidArgument (not 64 hex digits).
Result<std::string> curlPin(std::string_view fingerprintHex);

}  // namespace tte::introducer
