// libcurl adapters of MotherShipClient and ControllerClient (PROTOCOL.md §6, §8, §10).
// Request bodies that carry an OTP are Secrets and are never logged.
#include "tte/station/adapters/https_clients.h"

#include <curl/curl.h>
#include <openssl/ssl.h>

#include <nlohmann/json.hpp>

#include "tte/base/hex.h"
#include "tte/station/adapters/token_tls_key.h"

namespace tte::station {
namespace {

struct Answer {
    long status = 0;
    std::string body;
};

size_t collect(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

Errc errcOfName(const std::string& name) {
    for (Errc c : {Errc::invalidArgument, Errc::outOfRange, Errc::notFound, Errc::alreadyExists, Errc::conflict,
                   Errc::permissionDenied, Errc::unauthenticated, Errc::rateLimited, Errc::resourceExhausted,
                   Errc::unavailable, Errc::timeout, Errc::unsupported})
        if (errcName(c) == name) return c;
    return Errc::internal;
}

/// The error an HTTP answer stands for: the JSON body's code and message when present.
Error httpError(const Answer& a, const std::string& what) {
    Errc code = a.status >= 500 ? Errc::unavailable : a.status == 404 ? Errc::notFound
              : a.status == 409 ? Errc::conflict : a.status == 429 ? Errc::rateLimited
              : a.status == 401 ? Errc::unauthenticated : a.status == 403 ? Errc::permissionDenied
                                                                          : Errc::invalidArgument;
    std::string message = what + ": HTTP " + std::to_string(a.status);
    auto j = nlohmann::json::parse(a.body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
        message += ": " + j["message"].get<std::string>();
        if (j.contains("error") && j["error"].is_string() && a.status < 500) code = errcOfName(j["error"]);
    }
    return Error{code, message, "HTTP", a.status, {}};
}

/// libcurl's SSL_CTX hook for a token key: the certificate from its file, the key from the
/// token, and only ECDSA+SHA256 offered for the client signature (what the token signs).
CURLcode useTokenKey(CURL*, void* sslContext, void* user) {
    auto* c = static_cast<const TlsClientConfig*>(user);
    auto* ctx = static_cast<SSL_CTX*>(sslContext);
    if (SSL_CTX_use_certificate_chain_file(ctx, c->certFile.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, c->tokenKey->pkey()) != 1 || SSL_CTX_check_private_key(ctx) != 1 ||
        SSL_CTX_set1_client_sigalgs_list(ctx, "ECDSA+SHA256") != 1)
        return CURLE_SSL_CERTPROBLEM;
    return CURLE_OK;
}

class Https {
public:
    explicit Https(TlsClientConfig c) : m_c(std::move(c)) {}

    /// One request. `body` may be a secret; it is passed to curl without a copy in a log.
    Result<Answer> request(const char* method, const std::string& url, std::string_view body) {
        if (m_c.keyError) return std::unexpected(*m_c.keyError);
        CURL* curl = curl_easy_init();
        if (!curl) return fail(Errc::internal, "curl_easy_init failed");
        Answer a;
        char errbuf[CURL_ERROR_SIZE] = "";
        curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
        headers = curl_slist_append(headers, "Accept: application/json");
        curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, m_c.timeoutMs);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a.body);
        curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
        if (!m_c.caFile.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, m_c.caFile.c_str());
        if (m_c.tokenKey) {
            curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, useTokenKey);
            curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, &m_c);
        } else if (!m_c.certFile.empty()) {
            curl_easy_setopt(curl, CURLOPT_SSLCERT, m_c.certFile.c_str());
            curl_easy_setopt(curl, CURLOPT_SSLKEY, m_c.keyFile.c_str());
        }
        if (std::string_view(method) != "GET") {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        }
        const CURLcode rc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        if (rc != CURLE_OK) {
            const Errc code = rc == CURLE_OPERATION_TIMEDOUT ? Errc::timeout : Errc::unavailable;
            return failNative(code, std::string(method) + " " + redact(url) + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)),
                              "curl", rc, curl_easy_strerror(rc));
        }
        return a;
    }
    [[nodiscard]] const std::string& base() const { return m_c.baseUrl; }

    /// The URL without its query (which may hold an OTP), for messages.
    static std::string redact(const std::string& url) { return url.substr(0, url.find('?')); }

private:
    TlsClientConfig m_c;
};

class HttpsMotherShip final : public MotherShipClient {
public:
    explicit HttpsMotherShip(TlsClientConfig c) : m_http(std::move(c)) {}

    Result<std::vector<RecordResult>> uploadRecords(std::span<const Secret> records) override {
        std::string body = "{\"records\":[";
        for (std::size_t i = 0; i < records.size(); ++i) body += (i ? "," : "") + std::string(records[i].view());
        body += "]}";
        auto a = m_http.request("POST", m_http.base() + "/api/v1/records", body);
        secureZero(body.data(), body.size());
        if (!a) return std::unexpected(a.error());
        if (a->status != 200) return std::unexpected(httpError(*a, "POST /api/v1/records"));
        auto j = nlohmann::json::parse(a->body, nullptr, false);
        if (!j.is_object() || !j.contains("results") || !j["results"].is_array())
            return fail(Errc::corrupt, "POST /api/v1/records: the answer has no results array");
        std::vector<RecordResult> out;
        for (const auto& r : j["results"]) {
            RecordResult rr;
            rr.recordId = r.value("record_id", "");
            const std::string status = r.value("status", "");
            rr.state = status == "stored" ? RecordResult::State::stored
                     : status == "duplicate" ? RecordResult::State::duplicate : RecordResult::State::rejected;
            rr.message = r.value("message", status == "rejected" ? "" : "");
            out.push_back(std::move(rr));
        }
        return out;
    }

    Result<LotQuota> lotQuota(std::string_view lot) override {
        auto a = m_http.request("GET", m_http.base() + "/api/v1/lots/" + std::string(lot), "");
        if (!a) return std::unexpected(a.error());
        if (a->status != 200) return std::unexpected(httpError(*a, "GET /api/v1/lots/" + std::string(lot)));
        auto j = nlohmann::json::parse(a->body, nullptr, false);
        try {
            auto first = parseHexInt(j.at("first").get<std::string>(), 8, "first");
            auto last = parseHexInt(j.at("last").get<std::string>(), 8, "last");
            if (!first || !last) return fail(Errc::corrupt, "lot quota: bad first/last");
            return LotQuota{j.at("lot").get<std::string>(), static_cast<std::uint32_t>(*first),
                            static_cast<std::uint32_t>(*last), j.value("used", std::uint64_t{0})};
        } catch (const nlohmann::json::exception& e) {
            return fail(Errc::corrupt, std::string("lot quota: ") + e.what());
        }
    }

    Status registerBox(std::uint32_t box, std::string_view lot, std::uint32_t first, std::uint32_t last) override {
        const nlohmann::json body = {{"box", toHex(box, 8)}, {"lot", lot}, {"first", toHex(first, 8)}, {"last", toHex(last, 8)}};
        auto a = m_http.request("POST", m_http.base() + "/api/v1/boxes", body.dump());
        if (!a) return std::unexpected(a.error());
        if (a->status != 200 && a->status != 201) return std::unexpected(httpError(*a, "POST /api/v1/boxes"));
        return {};
    }

    Result<RemoteDevice> device(std::uint32_t devId) override {
        auto a = m_http.request("GET", m_http.base() + "/api/v1/devices/" + toHex(devId, 8), "");
        if (!a) return std::unexpected(a.error());
        if (a->status != 200) return std::unexpected(httpError(*a, "GET /api/v1/devices/" + toHex(devId, 8)));
        auto j = nlohmann::json::parse(a->body, nullptr, false);
        if (!j.is_object()) return fail(Errc::corrupt, "device lookup: the answer is not a JSON object");
        return RemoteDevice{devId, j.value("urn", ""), j.value("fingerprint", ""), j.value("state", ""),
                            j.value("record_id", "")};
    }

    Status mapDevice(std::uint32_t devId, const Secret& otp, const ControllerTarget& c) override {
        std::string url = m_http.base() + "/.well-known/tte?otp=" + toHex(otp.bytes()) + ",devid=" + toHex(devId, 8) +
                          ",cip=" + c.address + ",cport=" + std::to_string(c.port) + ",cfingerprint=" + c.fingerprint;
        auto a = m_http.request("POST", url, "");
        secureZero(url.data(), url.size());
        if (!a) return std::unexpected(a.error());
        if (a->status == 200 || a->status == 409) return {};  // 409: mapped already (a re-send)
        return std::unexpected(httpError(*a, "POST /.well-known/tte"));
    }

private:
    Https m_http;
};

class HttpsController final : public ControllerClient {
public:
    HttpsController(std::string ca, long timeoutMs) : m_ca(std::move(ca)), m_timeoutMs(timeoutMs) {}
    Status introduce(const ControllerTarget& c, const Secret& introduction) override {
        TlsClientConfig config;
        config.baseUrl = c.url;
        config.caFile = m_ca;
        config.timeoutMs = m_timeoutMs;
        Https http(std::move(config));
        auto a = http.request("POST", c.url + "/tte/v1/introductions", introduction.view());
        if (!a) return std::unexpected(a.error());
        if (a->status == 200 || a->status == 201) return {};
        return std::unexpected(httpError(*a, "POST /tte/v1/introductions"));
    }

private:
    std::string m_ca;
    long m_timeoutMs;
};

}  // namespace

std::unique_ptr<MotherShipClient> makeHttpsMotherShip(TlsClientConfig config) {
    return std::make_unique<HttpsMotherShip>(std::move(config));
}

std::unique_ptr<ControllerClient> makeHttpsController(std::string caFile, long timeoutMs) {
    return std::make_unique<HttpsController>(std::move(caFile), timeoutMs);
}

}  // namespace tte::station
