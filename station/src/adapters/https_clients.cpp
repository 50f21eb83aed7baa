// MotherShipClient and ControllerClient over tte::client's HTTPS (PROTOCOL.md §6, §8, §10):
// every document built and read by protocol/. Request bodies that carry an OTP are wiped after
// the request and never logged.
#include "tte/station/adapters/https_clients.h"

#include "tte/base/hex.h"
#include "tte/client/https_client.h"
#include "tte/station/adapters/token_tls_key.h"

namespace tte::station {
namespace {

/// The station's view of a transport failure: the peer is not reachable now (retry later),
/// or the request took too long. The CURLcode stays in the native fields.
Error transportError(Error e) {
    if (e.code != Errc::timeout) e.code = Errc::unavailable;
    return e;
}

client::HttpsOptions httpsOptions(const TlsClientConfig& c) {
    auto o = c.pinnedFingerprint.empty() ? client::HttpsOptions::verified(c.caFile, {}, std::chrono::milliseconds(c.timeoutMs))
                                         : client::HttpsOptions::pinned(c.pinnedFingerprint, std::chrono::milliseconds(c.timeoutMs));
    o.clientCertFile = c.certFile;
    o.clientKeyFile = c.keyFile;
    if (c.tokenKey) {
        o.clientKey = std::shared_ptr<EVP_PKEY>(c.tokenKey, c.tokenKey->pkey());
        o.clientSigalgs = "ECDSA+SHA256";  // what the token signs
    }
    return o;
}

class Https {
public:
    explicit Https(const TlsClientConfig& c) : m_base(c.baseUrl), m_options(httpsOptions(c)), m_keyError(c.keyError) {}

    /// One request to `path` (below the base URL); a non-2xx answer is the error it names.
    Result<client::HttpResponse> call(const char* method, const std::string& path, std::string_view body = {}) {
        if (m_keyError) return std::unexpected(*m_keyError);
        auto a = client::httpsRequest(m_options, method, m_base + path, body, "application/json");
        if (!a) return std::unexpected(transportError(a.error()));
        if (a->status < 200 || a->status > 299) {
            return std::unexpected(client::answerError(*a, std::string(method) + " " + path.substr(0, path.find('?'))));
        }
        return a;
    }

private:
    std::string m_base;
    client::HttpsOptions m_options;
    std::optional<Error> m_keyError;
};

/// A 2xx answer's document, or corrupt naming the request.
template <class T>
Result<T> answerOf(const Result<client::HttpResponse>& a, std::string_view what) {
    if (!a) return std::unexpected(a.error());
    auto doc = T::fromJson(a->body);
    if (!doc) return fail(Errc::corrupt, std::string(what) + ": the answer does not parse: " + doc.error().message);
    return doc;
}

class HttpsMotherShip final : public MotherShipClient {
public:
    explicit HttpsMotherShip(const TlsClientConfig& c) : m_http(c) {}

    Result<std::vector<protocol::RecordResult>> uploadRecords(const protocol::RecordBatch& batch) override {
        std::string body = batch.toJson();
        auto a = m_http.call("POST", "/api/v1/records", body);
        secureZero(body.data(), body.size());
        auto results = answerOf<protocol::RecordResults>(a, "POST /api/v1/records");
        if (!results) return std::unexpected(results.error());
        return std::move(results->results);
    }

    Result<protocol::LotQuota> lotQuota(std::string_view lot) override {
        const std::string path = "/api/v1/lots/" + std::string(lot);
        return answerOf<protocol::LotQuota>(m_http.call("GET", path), "GET " + path);
    }

    Status registerBox(const protocol::BoxRegistration& box) override {
        auto a = m_http.call("POST", "/api/v1/boxes", box.toJson());
        if (!a) return std::unexpected(a.error());
        return {};
    }

    Result<protocol::DeviceInfo> device(std::uint32_t devId) override {
        const std::string path = "/api/v1/devices/" + toHex(devId, 8);
        return answerOf<protocol::DeviceInfo>(m_http.call("GET", path), "GET " + path);
    }

    Result<protocol::RevokeResponse> revokeDevice(std::uint32_t devId, const protocol::RevokeRequest& request) override {
        const std::string path = "/api/v1/devices/" + toHex(devId, 8) + "/revoke";
        auto answer = answerOf<protocol::RevokeResponse>(m_http.call("POST", path, request.toJson()), "POST " + path);
        if (answer && (answer->devId.value != devId || answer->state != protocol::EnrollmentState::revoked))
            return fail(Errc::corrupt, "POST " + path + ": the answer is not the revocation of this device");
        return answer;
    }

    Result<protocol::PreEnrollResponse> preEnroll(std::uint32_t devId, const protocol::PreEnrollRequest& request) override {
        const std::string path = "/api/v1/devices/" + toHex(devId, 8) + "/pre-enroll";
        auto answer = answerOf<protocol::PreEnrollResponse>(m_http.call("POST", path, request.toJson()), "POST " + path);
        if (answer && (answer->devId.value != devId || answer->cfingerprint != request.controller.cfingerprint))
            return fail(Errc::corrupt, "POST " + path + ": the answer is not the pre-enrollment of this device");
        return answer;
    }

    Result<protocol::StatusResponse> status(const protocol::EnrollmentCredentials& credentials) override {
        std::string path = std::string(protocol::kStatusPath) + "?" + protocol::credentialsQuery(credentials);
        auto a = m_http.call("GET", path);
        secureZero(path.data(), path.size());
        return answerOf<protocol::StatusResponse>(a, "GET " + std::string(protocol::kStatusPath));
    }

private:
    Https m_http;
};

class HttpsController final : public ControllerClient {
public:
    HttpsController(std::string ca, long timeoutMs) : m_ca(std::move(ca)), m_timeoutMs(timeoutMs) {}
    Status introduce(const ControllerTarget& c, const protocol::Introduction& introduction) override {
        TlsClientConfig config;
        config.baseUrl = c.url;
        config.caFile = m_ca;
        if (m_ca.empty()) config.pinnedFingerprint = c.fingerprint;
        config.timeoutMs = m_timeoutMs;
        std::string body = introduction.toJson();
        auto a = Https(config).call("POST", "/tte/v1/introductions", body);
        secureZero(body.data(), body.size());
        if (!a) return std::unexpected(a.error());
        return {};
    }

private:
    std::string m_ca;
    long m_timeoutMs;
};

}  // namespace

std::unique_ptr<MotherShipClient> makeHttpsMotherShip(TlsClientConfig config) {
    return std::make_unique<HttpsMotherShip>(config);
}

std::unique_ptr<ControllerClient> makeHttpsController(std::string caFile, long timeoutMs) {
    return std::make_unique<HttpsController>(std::move(caFile), timeoutMs);
}

}  // namespace tte::station
