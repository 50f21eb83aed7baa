// Test support for whatever talks to a MotherShip: a local PKI made with the openssl tool,
// record signing, a real tte-mothership process, an HTTPS client (libcurl) and a CoAP/DTLS
// client (libcoap) that pins the server's fingerprint.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <coap3/coap.h>
#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/temp_dir.h"

namespace tte::test {

/// CA, the server's certificate for tte-000001.net, a station and two device key pairs.
struct Pki {
    std::string caCert, tlsCert, tlsKey, dtlsCert, dtlsKey, stationCert, stationKey, deviceCert, deviceKey,
        otherCert, otherKey;
    std::string serverSpkiBase64;  ///< for Chromium's --ignore-certificate-errors-spki-list
    std::string dtlsFingerprint, deviceFingerprint, otherFingerprint;
};
Pki makePki(const TempDir& dir);

/// A station record signed with `stationKey` over its canonical bytes (PROTOCOL §10).
nlohmann::json signedRecord(const std::string& stationKey, const std::string& station, std::uint32_t devId,
                            std::uint64_t otp, const std::string& deviceFingerprint, std::uint64_t seq,
                            const std::string& lot = "lot-1", std::optional<std::uint32_t> box = std::nullopt,
                            std::optional<std::uint32_t> reworkedFrom = std::nullopt,
                            std::optional<std::string> pskHex = std::nullopt);
std::string devUrn(std::uint32_t devId);

/// A running tte-mothership; SIGTERM on stop(), which returns its exit status.
class ServerProcess {
public:
    /// Starts `tte-mothership --config CONFIG --ports-file …` and waits for its ports.
    ServerProcess(const std::string& configFile, const TempDir& dir);
    ~ServerProcess();
    int stop();
    /// Sends `sig` (e.g. SIGKILL) and reaps the process; its exit status, or 128+signal.
    int kill(int sig);
    [[nodiscard]] std::uint16_t httpsPort() const { return m_https; }
    [[nodiscard]] std::uint16_t coapsPort() const { return m_coaps; }
    /// The admin listener (plain HTTP: /metrics, /healthz, /readyz), on 127.0.0.1.
    [[nodiscard]] std::uint16_t adminPort() const { return m_admin; }
    /// The process id while it runs (-1 after stop()), e.g. for its /proc entries.
    [[nodiscard]] int pid() const { return m_pid; }
    [[nodiscard]] std::string log() const;

private:
    int m_pid = -1;
    std::uint16_t m_https = 0, m_coaps = 0, m_admin = 0;
    std::string m_logFile;
};

struct HttpResult {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  ///< lower-case names
    std::string error;                            ///< transport error, empty when a response came
};
struct HttpCall {
    std::string method = "GET";
    std::string path;  ///< with query
    std::string body;
    std::string contentType;
    std::string accept;
    std::string clientCert, clientKey;
};
/// HTTPS to tte-000001.net:443, connected to 127.0.0.1:port, trusting caCert.
HttpResult https(std::uint16_t port, const std::string& caCert, const HttpCall& call);

/// The same, over one connection kept open across requests (as a browser or an attacker's
/// client holds it); each request is timed. One thread at a time.
class HttpsSession {
public:
    HttpsSession(std::uint16_t port, std::string caCert);
    ~HttpsSession();
    HttpsSession(const HttpsSession&) = delete;
    HttpsSession& operator=(const HttpsSession&) = delete;
    HttpResult request(const HttpCall& call);
    /// Connections the last request opened: 0 when it went over the open one.
    [[nodiscard]] long lastNewConnections() const { return m_lastNewConnections; }
    /// From sending the last request to its whole answer.
    [[nodiscard]] std::chrono::nanoseconds lastDuration() const { return m_lastDuration; }

private:
    CURL* m_curl;
    curl_slist* m_connect;
    std::string m_caCert;
    long m_lastNewConnections = 0;
    std::chrono::nanoseconds m_lastDuration{0};
};

/// Plain HTTP GET http://127.0.0.1:port/path (the admin listener).
HttpResult http(std::uint16_t port, const std::string& path);

struct CoapResult {
    int code = 0;  ///< class*100+detail, 0 when there was no answer (handshake refused, timeout)
    std::vector<std::uint8_t> payload;
    bool serverKeyRejected = false;  ///< our pin of the MotherShip's fingerprint failed
};
/// An IPv4 address for libcoap; `address` in host byte order (0x7f000001 is 127.0.0.1).
coap_address_t coapIpv4(std::uint32_t address, std::uint16_t port);
/// GET coaps://127.0.0.1:port/.well-known/tte?urn=… with the given client key, pinning the
/// server's SPKI fingerprint; a negative `accept` means no Accept option. Gives up (code 0)
/// after `wait`, closing the session as a device that gives up does.
CoapResult coapGet(std::uint16_t port, const std::string& cert, const std::string& key,
                   const std::string& serverFingerprint, const std::string& urn, int accept = -1,
                   std::chrono::milliseconds wait = std::chrono::seconds(10));

/// A device's DTLS credentials for coapPost(): certificate and key PEM files, or (when
/// `psk` is not empty) a PSK identity and key (PROTOCOL §11).
struct CoapClientKey {
    std::string certFile, keyFile;
    std::string pskIdentity;
    std::vector<std::uint8_t> psk;
};
/// POST coaps://127.0.0.1:port/<path> ("tte/v1/checkin") with `payload` as the device `key`,
/// pinning the server's SPKI fingerprint in certificate mode. Gives up (code 0) after `wait`,
/// or as soon as `giveUp` (when given) says so – a server killed mid-request never answers.
CoapResult coapPost(std::uint16_t port, const CoapClientKey& key, const std::string& serverFingerprint,
                    const std::string& path, const std::vector<std::uint8_t>& payload,
                    std::chrono::milliseconds wait = std::chrono::seconds(10),
                    const std::function<bool()>& giveUp = {});

}  // namespace tte::test
