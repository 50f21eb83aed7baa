// A MotherShip for tests (mothership.h).
#include "support/mothership.h"

#include <coap3/coap.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tte/base/hex.h"
#include "tte/protocol/address.h"
#include "tte/protocol/crypto.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/station_messages.h"

extern char** environ;

namespace tte::test {

namespace {

void must(const std::string& cmd) {
    auto r = runShell(cmd);
    if (r.exitCode != 0) throw std::runtime_error("command failed: " + cmd + "\n" + r.output);
}

void selfSigned(const std::string& key, const std::string& cert, const std::string& cn) {
    must("openssl ecparam -name prime256v1 -genkey -noout -out " + key);
    must("openssl req -x509 -new -key " + key + " -sha256 -days 30 -subj /CN=" + cn + " -out " + cert);
}

std::string fingerprintOf(const std::string& certFile) {
    return runShell("openssl x509 -in " + certFile +
                      " -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1")
        .output.substr(0, 64);
}

}  // namespace

Pki makePki(const TempDir& dir) {
    Pki p;
    p.caCert = dir.file("ca.pem");
    const std::string caKey = dir.file("ca.key");
    must("openssl ecparam -name prime256v1 -genkey -noout -out " + caKey);
    must("openssl req -x509 -new -key " + caKey + " -sha256 -days 30 -subj '/CN=TTE test CA'"
         " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out " + p.caCert);
    p.tlsKey = dir.file("tls.key");
    p.tlsCert = dir.file("tls.pem");
    writeFile(dir.file("san.ext"), "subjectAltName=DNS:tte-000001.net,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");
    must("openssl ecparam -name prime256v1 -genkey -noout -out " + p.tlsKey);
    must("openssl req -new -key " + p.tlsKey + " -subj /CN=tte-000001.net -out " + dir.file("tls.csr"));
    must("openssl x509 -req -in " + dir.file("tls.csr") + " -CA " + p.caCert + " -CAkey " + caKey +
         " -CAcreateserial -days 30 -sha256 -extfile " + dir.file("san.ext") + " -out " + p.tlsCert);
    p.serverSpkiBase64 = runShell("openssl x509 -in " + p.tlsCert +
                                    " -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary"
                                    " | openssl base64 -A").output;
    p.dtlsKey = dir.file("dtls.key");
    p.dtlsCert = dir.file("dtls.pem");
    must(binary("tte-mothership") + " --ms-id 1 admin keygen dtls --key " + p.dtlsKey + " --cert " + p.dtlsCert);
    p.dtlsFingerprint = fingerprintOf(p.dtlsCert);
    p.stationKey = dir.file("station.key");
    p.stationCert = dir.file("station.pem");
    selfSigned(p.stationKey, p.stationCert, "station-1");
    p.deviceKey = dir.file("device.key");
    p.deviceCert = dir.file("device.pem");
    selfSigned(p.deviceKey, p.deviceCert, "device");
    p.deviceFingerprint = fingerprintOf(p.deviceCert);
    p.otherKey = dir.file("other.key");
    p.otherCert = dir.file("other.pem");
    selfSigned(p.otherKey, p.otherCert, "other");
    p.otherFingerprint = fingerprintOf(p.otherCert);
    return p;
}

std::string devUrn(std::uint32_t devId) { return "urn:dev:ops:32473-tte.demo-00000001" + toHex(devId, 8); }

nlohmann::json signedRecord(const std::string& stationKey, const std::string& station, std::uint32_t devId,
                            std::uint64_t otp, const std::string& deviceFingerprint, std::uint64_t seq,
                            const std::string& lot, std::optional<std::uint32_t> box,
                            std::optional<std::uint32_t> reworkedFrom, std::optional<std::string> pskHex) {
    protocol::StationRecord r;  // the station's own document (PROTOCOL §10), signed as a station signs it
    r.recordId = station + "-" + std::to_string(seq);
    r.station = station;
    r.seq = seq;
    r.devId = protocol::DevId{devId};
    r.urn = protocol::parseDevUrn(devUrn(devId)).value();
    r.fingerprint = protocol::parseFingerprint(deviceFingerprint).value();
    r.otp = protocol::Otp(otp);
    r.lot = lot;
    r.box = box;
    if (reworkedFrom) r.reworkedFrom = protocol::DevId{*reworkedFrom};
    if (pskHex) r.psk = protocol::parsePsk(*pskHex).value();  // a DTLS-PSK device (PROTOCOL §11)
    r.firmwareSha256.fill(0xaa);
    r.created = "2026-11-23T07:00:00Z";
    const std::string canonical = r.canonicalBytes();
    FILE* f = std::fopen(stationKey.c_str(), "r");
    if (f == nullptr) throw std::runtime_error("cannot read " + stationKey);
    EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size());
    std::vector<unsigned char> sig(len);
    EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    r.signature = protocol::base64Encode(sig);
    return nlohmann::json::parse(r.toJson());
}

ServerProcess::ServerProcess(const std::string& configFile, const TempDir& dir) {
    const std::string portsFile = dir.file("ports");
    m_logFile = dir.file("mothership.log");
    std::error_code ec;
    std::filesystem::remove(portsFile, ec);
    const std::string exe = binary("tte-mothership");
    // Every server its own admin port too (tests run in parallel).
    std::vector<std::string> args{exe, "--config", configFile, "--ports-file", portsFile, "--admin-listen", "127.0.0.1:0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, m_logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = 0;
    if (posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ) != 0) throw std::runtime_error("spawn failed");
    posix_spawn_file_actions_destroy(&fa);
    m_pid = pid;
    const bool up = waitFor([&] {
        int status = 0;
        if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = -1;
            return true;  // exited: reported below
        }
        return std::filesystem::exists(portsFile);
    }, std::chrono::seconds(20));
    if (!up || m_pid < 0) throw std::runtime_error("tte-mothership did not start:\n" + log());
    // {"https": "127.0.0.1:PORT", "coaps": "127.0.0.1:PORT", "admin": "127.0.0.1:PORT", "fingerprint": "…"}
    const auto ports = nlohmann::json::parse(readText(portsFile), nullptr, false);
    const auto portOf = [&](const char* name) -> std::uint16_t {
        auto address = protocol::parseHostPort(ports.is_object() ? ports.value(name, "") : "", name);
        if (!address) throw std::runtime_error("tte-mothership's ports file: " + address.error().message);
        return address->port;
    };
    m_https = portOf("https");
    m_coaps = portOf("coaps");
    m_admin = portOf("admin");
}

ServerProcess::~ServerProcess() { stop(); }

int ServerProcess::stop() { return kill(SIGTERM); }

int ServerProcess::kill(int sig) {
    if (m_pid < 0) return -1;
    ::kill(m_pid, sig);
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ServerProcess::log() const { return readText(m_logFile); }

namespace {
std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}
std::size_t header(char* data, std::size_t size, std::size_t n, void* out) {
    std::string line(data, size * n);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        value.erase(value.find_last_not_of("\r\n") + 1);
        (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
    }
    return size * n;
}
}  // namespace

namespace {
/// Runs the request set up on `c`, collecting status, headers and body (20 s at most).
HttpResult perform(CURL* c) {
    HttpResult r;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) r.error = curl_easy_strerror(rc);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    return r;
}
}  // namespace

HttpsSession::HttpsSession(std::uint16_t port, std::string caCert)
    : m_curl(curl_easy_init()),
      m_connect(curl_slist_append(nullptr, ("tte-000001.net:443:127.0.0.1:" + std::to_string(port)).c_str())),
      m_caCert(std::move(caCert)) {}

HttpsSession::~HttpsSession() {
    curl_slist_free_all(m_connect);
    curl_easy_cleanup(m_curl);
}

HttpResult HttpsSession::request(const HttpCall& call) {
    CURL* c = m_curl;
    const std::string url = "https://tte-000001.net" + call.path;
    curl_slist* headers = nullptr;
    if (!call.contentType.empty()) headers = curl_slist_append(headers, ("Content-Type: " + call.contentType).c_str());
    if (!call.accept.empty()) headers = curl_slist_append(headers, ("Accept: " + call.accept).c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECT_TO, m_connect);
    curl_easy_setopt(c, CURLOPT_CAINFO, m_caCert.c_str());
    if (call.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, call.body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(call.body.size()));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);  // no body left from an earlier POST
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_SSLCERT, call.clientCert.empty() ? nullptr : call.clientCert.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, call.clientKey.empty() ? nullptr : call.clientKey.c_str());
    const auto start = std::chrono::steady_clock::now();
    HttpResult r = perform(c);
    m_lastDuration = std::chrono::steady_clock::now() - start;
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &m_lastNewConnections);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);
    return r;
}

HttpResult https(std::uint16_t port, const std::string& caCert, const HttpCall& call) {
    return HttpsSession(port, caCert).request(call);
}

HttpResult http(std::uint16_t port, const std::string& path) {
    CURL* c = curl_easy_init();
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    HttpResult r = perform(c);
    curl_easy_cleanup(c);
    return r;
}

namespace {

struct CoapState {
    std::string expectedFingerprint;
    bool rejected = false;
    bool done = false;
    CoapResult result;
};

int checkServerKey(const char*, const uint8_t* der, size_t len, coap_session_t* session, unsigned depth, int, void* arg) {
    auto* st = static_cast<CoapState*>(arg);
    (void)session;
    if (depth != 0) return 1;
    const auto fp = protocol::fingerprintFromDer(std::span<const std::uint8_t>(der, len));
    if (fp && fp->hex() == st->expectedFingerprint) return 1;
    st->rejected = true;
    return 0;
}

coap_response_t onResponse(coap_session_t* session, const coap_pdu_t*, const coap_pdu_t* received, const coap_mid_t) {
    auto* st = static_cast<CoapState*>(coap_session_get_app_data(session));
    const auto code = coap_pdu_get_code(received);
    st->result.code = static_cast<int>(COAP_RESPONSE_CLASS(code)) * 100 + (code & 0x1f);
    size_t len = 0;
    const uint8_t* data = nullptr;
    if (coap_get_data(received, &len, &data)) st->result.payload.assign(data, data + len);
    st->done = true;
    return COAP_RESPONSE_OK;
}

int onEvent(coap_session_t* session, const coap_event_t event) {
    auto* st = static_cast<CoapState*>(coap_session_get_app_data(session));
    if (st && (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_DTLS_CLOSED || event == COAP_EVENT_SESSION_FAILED))
        st->done = true;
    return 0;
}

/// A DTLS client's certificate setup: its certificate and key files (which must outlive the
/// session), the server pinned by `st`'s expected fingerprint instead of a CA.
coap_dtls_pki_t clientPki(CoapState& st, const std::string& certFile, const std::string& keyFile) {
    coap_dtls_pki_t pki{};
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.verify_peer_cert = 1;
    pki.allow_self_signed = 1;
    pki.allow_expired_certs = 1;
    pki.allow_no_crl = 1;
    pki.allow_expired_crl = 1;
    pki.validate_cn_call_back = checkServerKey;  // our pin: the SPKI fingerprint, not a CA
    pki.cn_call_back_arg = &st;
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.public_cert = certFile.c_str();
    pki.pki_key.key.pem.private_key = keyFile.c_str();
    return pki;
}

/// A client context with this file's response and event handlers.
coap_context_t* newClientContext() {
    coap_startup();
    coap_context_t* ctx = coap_new_context(nullptr);
    coap_register_response_handler(ctx, onResponse);
    coap_register_event_handler(ctx, onEvent);
    return ctx;
}

/// Sends `pdu` on `session` (nullptr: nothing to send) and waits for the answer, at most
/// `wait` and while `giveUp` (if any) says no; frees the session and `ctx`.
CoapResult exchange(coap_context_t* ctx, coap_session_t* session, coap_pdu_t* pdu, CoapState& st,
                    std::chrono::milliseconds wait, const std::function<bool()>& giveUp = {}) {
    if (session != nullptr) {
        coap_send(session, pdu);
        const auto end = std::chrono::steady_clock::now() + wait;
        while (!st.done && std::chrono::steady_clock::now() < end && !(giveUp && giveUp())) coap_io_process(ctx, 50);
        st.result.serverKeyRejected = st.rejected;
        coap_session_release(session);
    }
    coap_free_context(ctx);
    return st.result;
}

}  // namespace

coap_address_t coapIpv4(std::uint32_t address, std::uint16_t port) {
    coap_address_t a;
    coap_address_init(&a);
    a.addr.sin.sin_family = AF_INET;
    a.addr.sin.sin_port = htons(port);
    a.addr.sin.sin_addr.s_addr = htonl(address);
    a.size = sizeof(a.addr.sin);
    return a;
}

CoapResult coapGet(std::uint16_t port, const std::string& cert, const std::string& key,
                   const std::string& serverFingerprint, const std::string& urn, int accept,
                   std::chrono::milliseconds wait) {
    CoapState st;
    st.expectedFingerprint = serverFingerprint;
    coap_context_t* ctx = newClientContext();
    coap_dtls_pki_t pki = clientPki(st, cert, key);
    const coap_address_t dst = coapIpv4(0x7f000001, port);
    coap_session_t* session = coap_new_client_session_pki(ctx, nullptr, &dst, COAP_PROTO_DTLS, &pki);
    coap_session_set_app_data(session, &st);
    coap_pdu_t* pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, coap_new_message_id(session),
                                    coap_session_max_pdu_size(session));
    coap_add_option(pdu, COAP_OPTION_URI_PATH, 11, reinterpret_cast<const uint8_t*>(".well-known"));
    coap_add_option(pdu, COAP_OPTION_URI_PATH, 3, reinterpret_cast<const uint8_t*>("tte"));
    if (accept >= 0) {
        unsigned char buf[4];
        coap_add_option(pdu, COAP_OPTION_ACCEPT, coap_encode_var_safe(buf, sizeof buf, static_cast<unsigned>(accept)), buf);
    }
    const std::string query = "urn=" + urn;
    coap_add_option(pdu, COAP_OPTION_URI_QUERY, query.size(), reinterpret_cast<const uint8_t*>(query.data()));
    return exchange(ctx, session, pdu, st, wait);
}

CoapResult coapPost(std::uint16_t port, const CoapClientKey& key, const std::string& serverFingerprint,
                    const std::string& path, const std::vector<std::uint8_t>& payload, std::chrono::milliseconds wait,
                    const std::function<bool()>& giveUp) {
    CoapState st;
    st.expectedFingerprint = serverFingerprint;
    coap_context_t* ctx = newClientContext();
    const coap_address_t dst = coapIpv4(0x7f000001, port);
    coap_session_t* session = nullptr;
    if (key.psk.empty()) {
        coap_dtls_pki_t pki = clientPki(st, key.certFile, key.keyFile);
        session = coap_new_client_session_pki(ctx, nullptr, &dst, COAP_PROTO_DTLS, &pki);
    } else {
        coap_dtls_cpsk_t cpsk{};
        cpsk.version = COAP_DTLS_CPSK_SETUP_VERSION;
        cpsk.psk_info.identity = {key.pskIdentity.size(), reinterpret_cast<const std::uint8_t*>(key.pskIdentity.data())};
        cpsk.psk_info.key = {key.psk.size(), key.psk.data()};
        session = coap_new_client_session_psk2(ctx, nullptr, &dst, COAP_PROTO_DTLS, &cpsk);
    }
    coap_pdu_t* pdu = nullptr;
    if (session != nullptr) {
        coap_session_set_app_data(session, &st);
        pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST, coap_new_message_id(session),
                            coap_session_max_pdu_size(session));
        for (std::size_t start = 0; start <= path.size();) {
            const auto slash = std::min(path.find('/', start), path.size());
            coap_add_option(pdu, COAP_OPTION_URI_PATH, slash - start, reinterpret_cast<const uint8_t*>(path.data() + start));
            start = slash + 1;
        }
        if (!payload.empty()) coap_add_data(pdu, payload.size(), payload.data());
    }
    return exchange(ctx, session, pdu, st, wait, giveUp);
}

}  // namespace tte::test
