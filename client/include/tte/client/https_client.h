// HTTPS requests with libcurl, as every TTE client makes them: the server certificate checked
// against the URL's host with the system CAs or a given CA file (draft 2: "MUST verify that
// the HTTPS certificate of the MotherShip matches the URL"), or pinned to a key fingerprint
// (a Controller's self-signed key); a client certificate for mutual TLS, its key in a PEM file
// or in a token (the station's identity key); curl-style --connect-to.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace tte::client {

struct HttpsOptions {
    std::string caFile;                  ///< PEM CA bundle; empty: the system's CAs
    std::vector<std::string> connectTo;  ///< curl --connect-to entries HOST:PORT:ADDR:PORT
    std::string pinnedFingerprint;       ///< 64 hex: trust exactly this key (no CA check)
    std::chrono::milliseconds timeout{20000};
    std::string clientCertFile;          ///< PEM certificate (chain) for mutual TLS; empty: none
    std::string clientKeyFile;           ///< its PEM key, unless `clientKey` is set
    /// The client key as an OpenSSL key (e.g. one whose signatures a token makes); kept alive
    /// by the pointer for as long as requests use it.
    std::shared_ptr<EVP_PKEY> clientKey;
    std::string clientSigalgs;           ///< with `clientKey`: the signature algorithms it can make ("ECDSA+SHA256")

    /// The server's certificate checked by `caFile` (empty: the system's CAs) for the URL's host.
    static HttpsOptions verified(std::string caFile, std::vector<std::string> connectTo = {},
                                 std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        HttpsOptions o;
        o.caFile = std::move(caFile);
        o.connectTo = std::move(connectTo);
        o.timeout = timeout;
        return o;
    }
    /// Exactly the server key with this fingerprint, no CA (a Controller's self-signed key).
    static HttpsOptions pinned(std::string fingerprintHex, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        HttpsOptions o;
        o.pinnedFingerprint = std::move(fingerprintHex);
        o.timeout = timeout;
        return o;
    }
};

struct HttpResponse {
    long status = 0;
    std::string body;
    std::string retryAfter;  ///< Retry-After header, if any
};

/// Performs one request; the body (which may hold an OTP) is handed to libcurl without a copy
/// and never logged, and messages name the URL without its query. A response with any status
/// is a value; transport failures are errors: unauthenticated (certificate not trusted for the
/// host, key not the pinned one, client certificate refused), unavailable (cannot connect or
/// resolve, TLS broke off), timeout, invalidArgument (bad URL or option), io (anything else).
/// The curl code and text are kept as the native code.
Result<HttpResponse> httpsRequest(const HttpsOptions& options, std::string_view method, const std::string& url,
                                  std::string_view body = {}, std::string_view contentType = {});

/// The error a non-2xx answer stands for: the code named by its {"error", "message"} body
/// (protocol::ErrorBody) below 500, else by the status (404 notFound, 409 conflict, 429
/// rateLimited, 401 unauthenticated, 403 permissionDenied, 5xx unavailable, other
/// invalidArgument); message "<what>: HTTP <status>[: <the body's message>]", native code the
/// status.
Error answerError(const HttpResponse& response, std::string_view what);

/// libcurl's process-wide set-up (curl_global_init) for the life of the object: a program
/// makes one in main() before it starts a thread.
class CurlGlobal {
public:
    CurlGlobal();
    ~CurlGlobal();
    CurlGlobal(const CurlGlobal&) = delete;
    CurlGlobal& operator=(const CurlGlobal&) = delete;
};

/// Checks a --connect-to entry (HOST:PORT:ADDR:PORT). Errors: invalidArgument.
Status validateConnectTo(std::string_view entry);

/// libcurl's pin string for a key fingerprint: "sha256//<base64 of the 32 bytes>".
/// Errors: invalidArgument (not 64 hex digits).
Result<std::string> curlPin(std::string_view fingerprintHex);

}  // namespace tte::client
