// Test helpers (test_support.h).
#include "test_support.h"

#include <coap3/coap.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tte/base/hex.h"

extern char** environ;

namespace tte::mstest {

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tte-ms-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    m_path = tmpl;
}
TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
}

CommandResult runCommand(const std::string& command) {
    CommandResult r;
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf{};
    std::size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
    const int status = pclose(p);
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
void writeFile(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string binary(const std::string& name) {
    const char* dir = std::getenv("TTE_BIN");
    return std::string(dir ? dir : "build/bin") + "/" + name;
}

namespace {

void must(const std::string& cmd) {
    auto r = runCommand(cmd);
    if (r.exitCode != 0) throw std::runtime_error("command failed: " + cmd + "\n" + r.output);
}

void selfSigned(const std::string& key, const std::string& cert, const std::string& cn) {
    must("openssl ecparam -name prime256v1 -genkey -noout -out " + key);
    must("openssl req -x509 -new -key " + key + " -sha256 -days 30 -subj /CN=" + cn + " -out " + cert);
}

std::string fingerprintOf(const std::string& certFile) {
    return runCommand("openssl x509 -in " + certFile +
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
    p.serverSpkiBase64 = runCommand("openssl x509 -in " + p.tlsCert +
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
                            const std::string& lot) {
    nlohmann::json rec{{"record_id", station + "-" + std::to_string(seq)},
                       {"station", station},
                       {"seq", seq},
                       {"devid", toHex(devId, 8)},
                       {"urn", devUrn(devId)},
                       {"fingerprint", deviceFingerprint},
                       {"otp", toHex(otp, 16)},
                       {"lot", lot},
                       {"box", nullptr},
                       {"firmware_sha256", std::string(64, 'a')},
                       {"created", "2026-11-23T07:00:00Z"},
                       {"prev", std::string(64, '0')}};
    const std::string canonical = rec.dump();
    FILE* f = std::fopen(stationKey.c_str(), "r");
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
    std::string b64(4 * ((len + 2) / 3) + 1, '\0');
    b64.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), sig.data(),
                                                        static_cast<int>(len))));
    rec["signature"] = b64;
    return rec;
}

ServerProcess::ServerProcess(const std::string& configFile, const TempDir& dir) {
    const std::string portsFile = dir.file("ports");
    m_logFile = dir.file("mothership.log");
    std::error_code ec;
    fs::remove(portsFile, ec);
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
    const bool up = eventually([&] {
        int status = 0;
        if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = -1;
            return true;  // exited: reported below
        }
        return fs::exists(portsFile);
    }, std::chrono::seconds(20));
    if (!up || m_pid < 0) throw std::runtime_error("tte-mothership did not start:\n" + log());
    std::istringstream in(readFile(portsFile));
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("https_port=")) m_https = static_cast<std::uint16_t>(std::stoi(line.substr(11)));
        if (line.starts_with("coaps_port=")) m_coaps = static_cast<std::uint16_t>(std::stoi(line.substr(11)));
        if (line.starts_with("admin_port=")) m_admin = static_cast<std::uint16_t>(std::stoi(line.substr(11)));
    }
}

ServerProcess::~ServerProcess() { stop(); }

int ServerProcess::stop() {
    if (m_pid < 0) return -1;
    kill(m_pid, SIGTERM);
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ServerProcess::log() const { return readFile(m_logFile); }

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

HttpResult https(std::uint16_t port, const std::string& caCert, const HttpCall& call) {
    CURL* c = curl_easy_init();
    const std::string url = "https://tte-000001.net" + call.path;
    const std::string connectTo = "tte-000001.net:443:127.0.0.1:" + std::to_string(port);
    curl_slist* connect = curl_slist_append(nullptr, connectTo.c_str());
    curl_slist* headers = nullptr;
    if (!call.contentType.empty()) headers = curl_slist_append(headers, ("Content-Type: " + call.contentType).c_str());
    if (!call.accept.empty()) headers = curl_slist_append(headers, ("Accept: " + call.accept).c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect);
    curl_easy_setopt(c, CURLOPT_CAINFO, caCert.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    if (call.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, call.body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(call.body.size()));
    }
    if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (!call.clientCert.empty()) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, call.clientCert.c_str());
        curl_easy_setopt(c, CURLOPT_SSLKEY, call.clientKey.c_str());
    }
    HttpResult r = perform(c);
    curl_slist_free_all(headers);
    curl_slist_free_all(connect);
    curl_easy_cleanup(c);
    return r;
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
    const unsigned char* p = der;
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(len));
    if (!cert) return 0;
    unsigned char* spki = nullptr;
    const int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
    std::array<std::uint8_t, 32> digest{};
    SHA256(spki, static_cast<std::size_t>(n), digest.data());
    OPENSSL_free(spki);
    X509_free(cert);
    if (toHex(digest) == st->expectedFingerprint) return 1;
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
                   const std::string& serverFingerprint, const std::string& urn, int accept) {
    coap_startup();
    CoapState st;
    st.expectedFingerprint = serverFingerprint;
    coap_context_t* ctx = coap_new_context(nullptr);
    coap_register_response_handler(ctx, onResponse);
    coap_register_event_handler(ctx, onEvent);
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
    pki.pki_key.key.pem.public_cert = cert.c_str();
    pki.pki_key.key.pem.private_key = key.c_str();
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
    coap_send(session, pdu);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!st.done && std::chrono::steady_clock::now() < end) coap_io_process(ctx, 100);
    st.result.serverKeyRejected = st.rejected;
    coap_session_release(session);
    coap_free_context(ctx);
    return st.result;
}

}  // namespace tte::mstest
