// libcurl easy-handle requests for the introducer, the Controller and the station.
#include "tte/client/https_client.h"

#include <curl/curl.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <memory>

#include "tte/protocol/crypto.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/mothership_messages.h"

namespace tte::client {
namespace {

size_t onBody(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

size_t onHeader(char* data, size_t size, size_t n, void* user) {
    std::string_view line(data, size * n);
    constexpr std::string_view name = "retry-after:";
    if (line.size() > name.size()) {
        std::string head(line.substr(0, name.size()));
        std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
        if (head == name) {
            auto value = line.substr(name.size());
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
            while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
            *static_cast<std::string*>(user) = std::string(value);
        }
    }
    return size * n;
}

Errc errcOf(CURLcode code) {
    switch (code) {
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_CACERT_BADFILE: return Errc::unauthenticated;
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING: return Errc::unavailable;
        case CURLE_OPERATION_TIMEDOUT: return Errc::timeout;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL: return Errc::invalidArgument;
        default: return Errc::io;
    }
}

/// libcurl's SSL_CTX hook for a client key that is no file: the certificate from its file,
/// the key as given, and only the signature algorithms the key can make.
CURLcode useClientKey(CURL*, void* sslContext, void* user) {
    const auto* o = static_cast<const HttpsOptions*>(user);
    auto* ctx = static_cast<SSL_CTX*>(sslContext);
    if (SSL_CTX_use_certificate_chain_file(ctx, o->clientCertFile.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, o->clientKey.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1 ||
        (!o->clientSigalgs.empty() && SSL_CTX_set1_client_sigalgs_list(ctx, o->clientSigalgs.c_str()) != 1)) {
        return CURLE_SSL_CERTPROBLEM;
    }
    return CURLE_OK;
}

struct CurlFree {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
    void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};

}  // namespace

CurlGlobal::CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }

CurlGlobal::~CurlGlobal() { curl_global_cleanup(); }

Status validateConnectTo(std::string_view entry) {
    int colons = static_cast<int>(std::count(entry.begin(), entry.end(), ':'));
    if (colons != 3) return fail(Errc::invalidArgument, "--connect-to must be HOST:PORT:ADDR:PORT, got \"" + std::string(entry) + "\"");
    return {};
}

Result<std::string> curlPin(std::string_view fingerprintHex) {
    auto fp = protocol::parseFingerprint(fingerprintHex);
    if (!fp) return fail(Errc::invalidArgument, "fingerprint must be 64 hex digits");
    return "sha256//" + protocol::base64Encode(fp->bytes);
}

Error answerError(const HttpResponse& response, std::string_view what) {
    const long s = response.status;
    Errc code = s >= 500 ? Errc::unavailable : s == 404 ? Errc::notFound : s == 409 ? Errc::conflict
              : s == 429 ? Errc::rateLimited : s == 401 ? Errc::unauthenticated : s == 403 ? Errc::permissionDenied
                                                                                        : Errc::invalidArgument;
    std::string message = std::string(what) + ": HTTP " + std::to_string(s);
    if (auto body = protocol::ErrorBody::fromJson(response.body)) {
        message += ": " + body->message;
        if (s < 500) code = body->error;
    }
    return Error{code, std::move(message), "HTTP", s, {}};
}

Result<HttpResponse> httpsRequest(const HttpsOptions& options, std::string_view method, const std::string& url,
                                  std::string_view body, std::string_view contentType) {
    std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
    if (!curl) return fail(Errc::internal, "cannot initialise libcurl");
    CURL* c = curl.get();
    HttpResponse response;
    char errbuf[CURL_ERROR_SIZE] = {};
    std::unique_ptr<curl_slist, SlistFree> connectTo, headers;
    for (const auto& e : options.connectTo) {
        if (auto st = validateConnectTo(e); !st) return std::unexpected(st.error());
        connectTo.reset(curl_slist_append(connectTo.release(), e.c_str()));
    }
    std::string pin;
    if (!options.pinnedFingerprint.empty()) {
        auto p = curlPin(options.pinnedFingerprint);
        if (!p) return std::unexpected(p.error());
        pin = *p;
    }
    std::string contentTypeHeader = "Content-Type: " + std::string(contentType);
    if (!contentType.empty()) headers.reset(curl_slist_append(headers.release(), contentTypeHeader.c_str()));
    headers.reset(curl_slist_append(headers.release(), "Accept: application/json"));
    std::string methodText(method);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &onBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &onHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.retryAfter);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
    if (connectTo) curl_easy_setopt(c, CURLOPT_CONNECT_TO, connectTo.get());
    if (!pin.empty()) {
        // The Controller's key is self-signed: the pin is the whole trust decision.
        curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, pin.c_str());
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!options.caFile.empty()) {
        curl_easy_setopt(c, CURLOPT_CAINFO, options.caFile.c_str());
    }
    if (options.clientKey) {
        curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, &useClientKey);
        curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &options);
    } else if (!options.clientCertFile.empty()) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, options.clientCertFile.c_str());
        curl_easy_setopt(c, CURLOPT_SSLKEY, options.clientKeyFile.c_str());
    }
    if (methodText == "POST") {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());  // never NULL: curl would read stdin
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    } else if (methodText != "GET") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, methodText.c_str());
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
        std::string host = url.substr(0, url.find('?'));
        return failNative(errcOf(rc), std::string(method) + " " + host + ": " + detail, "libcurl", rc,
                          curl_easy_strerror(rc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

}  // namespace tte::client
