// The DTLS side of mothership_bench: the raw bounds (OpenSSL DTLS 1.2 handshakes with mutual
// P-256 certificates between two SSL objects over memory BIOs, in one thread, and the memory
// such a connection keeps) and a libcoap client acting as a fleet of devices.
#include <coap3/coap.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <deque>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "support/mothership.h"
#include "mothership_bench.h"
#include "tte/server/tls.h"
#include "tte/protocol/fingerprint.h"

namespace tte::bench {

namespace {

SSL_CTX* context(bool server, const KeyPair& keys) {
    SSL_CTX* ctx = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_use_certificate_file(ctx, keys.cert.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx, keys.key.c_str(), SSL_FILETYPE_PEM);
    // Both sides ask for the peer's certificate and accept a self-signed one, as the
    // MotherShip and the devices do (PROTOCOL §7); pinning is a hash compare, not measured.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       [](int, X509_STORE_CTX*) { return 1; });
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
    return ctx;
}

void move(BIO* from, BIO* to) {
    char buf[16384];
    int n;
    while ((n = BIO_read(from, buf, sizeof buf)) > 0) BIO_write(to, buf, n);
}

/// One full handshake between a new server and client SSL; returns the server side when it
/// completed (the caller owns it), else nullptr.
SSL* handshake(SSL_CTX* sctx, SSL_CTX* cctx) {
    SSL* s = SSL_new(sctx);
    SSL* c = SSL_new(cctx);
    BIO *s2c = BIO_new(BIO_s_mem()), *c2s = BIO_new(BIO_s_mem());
    BIO *sIn = BIO_new(BIO_s_mem()), *cIn = BIO_new(BIO_s_mem());
    SSL_set_bio(s, sIn, s2c);
    SSL_set_bio(c, cIn, c2s);
    DTLS_set_link_mtu(s, 1400);
    DTLS_set_link_mtu(c, 1400);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    for (int round = 0; round < 20 && !(SSL_is_init_finished(s) && SSL_is_init_finished(c)); ++round) {
        SSL_do_handshake(c);
        move(c2s, sIn);
        SSL_do_handshake(s);
        move(s2c, cIn);
    }
    const bool ok = SSL_is_init_finished(s) && SSL_is_init_finished(c);
    SSL_free(c);
    if (!ok) {
        SSL_free(s);
        ERR_clear_error();
        return nullptr;
    }
    return s;
}

using Clock = std::chrono::steady_clock;

/// What a device gives one attempt, handshake and answer included, before it starts over
/// (device_host::CoapTransport's request timeout): a handshake the server dropped half-way
/// would otherwise wait out OpenSSL's retransmission backoff.
constexpr std::chrono::seconds kAttemptTimeout{10};

}  // namespace

std::size_t residentBytes(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6)) * 1024;
    }
    return 0;
}

double rawDtlsHandshakesPerSecond(const KeyPair& server, const KeyPair& client, int count) {
    SSL_CTX* sctx = context(true, server);
    SSL_CTX* cctx = context(false, client);
    int done = 0;
    const auto start = Clock::now();
    for (int i = 0; i < count; ++i) {
        SSL* s = handshake(sctx, cctx);
        done += s != nullptr;
        SSL_free(s);
    }
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return done == count ? count / secs : 0;
}

double rawDtlsBytesPerConnection(const KeyPair& server, const KeyPair& client, int count) {
    SSL_CTX* sctx = context(true, server);
    SSL_CTX* cctx = context(false, client);
    SSL_free(handshake(sctx, cctx));  // first-use allocations outside the measurement
    std::vector<SSL*> open;
    open.reserve(static_cast<std::size_t>(count));
    const std::size_t before = residentBytes(getpid());
    for (int i = 0; i < count; ++i) {
        if (SSL* s = handshake(sctx, cctx)) open.push_back(s);
    }
    const std::size_t after = residentBytes(getpid());
    for (SSL* s : open) SSL_free(s);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    if (open.size() != static_cast<std::size_t>(count) || after < before) return 0;
    return static_cast<double>(after - before) / count;
}

// ---------------------------------------------------------------------------------------

struct DeviceFleet::Impl {
    Impl(std::uint16_t p, KeyPair d, std::string fp) : port(p), device(std::move(d)), serverFingerprint(std::move(fp)) {}

    /// One device's attempt; lives in `attempts` while its session may call back.
    struct Attempt {
        std::size_t device = 0;
        Clock::time_point started = Clock::now();
        coap_session_t* session = nullptr;
        int code = 0;       ///< class*100+detail once answered
        bool failed = false;
    };

    std::uint16_t port;
    KeyPair device;
    std::string serverFingerprint;
    server::CertifiedKey identity;  ///< the device's, parsed once (as a device holds its key)
    coap_context_t* ctx = nullptr;
    coap_dtls_pki_t pki{};
    std::deque<std::unique_ptr<Attempt>> attempts;  ///< unanswered
    std::vector<coap_session_t*> kept;               ///< answered, kept open
    std::uint32_t started = 0;                       ///< attempts so far (picks the source address)

    static int pin(const char*, const uint8_t* der, size_t len, coap_session_t*, unsigned depth, int, void* arg) {
        if (depth != 0) return 1;
        auto fp = protocol::fingerprintFromDer({der, len});
        return fp && fp->hex() == *static_cast<const std::string*>(arg) ? 1 : 0;
    }
    static Attempt* of(coap_session_t* s) { return static_cast<Attempt*>(coap_session_get_app_data(s)); }
    static coap_response_t onResponse(coap_session_t* s, const coap_pdu_t*, const coap_pdu_t* received,
                                      const coap_mid_t) {
        if (Attempt* a = of(s)) {
            const auto code = coap_pdu_get_code(received);
            a->code = static_cast<int>(COAP_RESPONSE_CLASS(code)) * 100 + (code & 0x1f);
        }
        return COAP_RESPONSE_OK;
    }
    static void onNack(coap_session_t* s, const coap_pdu_t*, const coap_nack_reason_t, const coap_mid_t) {
        if (Attempt* a = of(s)) a->failed = true;
    }
    static int onEvent(coap_session_t* s, const coap_event_t event) {
        Attempt* a = of(s);
        if (a && (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_DTLS_CLOSED ||
                  event == COAP_EVENT_SESSION_FAILED))
            a->failed = true;
        return 0;
    }

    void start(std::size_t deviceIndex, const std::string& urn) {
        const coap_address_t dst = tte::test::coapIpv4(0x7f000001, port);
        // Every attempt from its own loopback address, as devices have their own: one host's
        // reused ephemeral ports would otherwise land on server sessions not yet expired.
        const coap_address_t local = tte::test::coapIpv4(0x7f000000U | (0x10000U + (++started % 0xfe0000U)), 0);
        auto a = std::make_unique<Attempt>();
        a->device = deviceIndex;
        a->session = coap_new_client_session_pki(ctx, &local, &dst, COAP_PROTO_DTLS, &pki);
        coap_tls_library_t lib{};
        auto* ssl = a->session ? static_cast<SSL*>(coap_session_get_tls(a->session, &lib)) : nullptr;
        // The certificate is asked for only later in the handshake, after the ClientHello sent here.
        if (ssl == nullptr || lib != COAP_TLS_LIBRARY_OPENSSL || SSL_use_cert_and_key(ssl, identity.cert.get(), identity.key.get(), nullptr, 1) != 1) {
            a->failed = true;
        } else {
            coap_session_set_app_data(a->session, a.get());
            coap_pdu_t* pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, coap_new_message_id(a->session),
                                            coap_session_max_pdu_size(a->session));
            coap_add_option(pdu, COAP_OPTION_URI_PATH, 11, reinterpret_cast<const uint8_t*>(".well-known"));
            coap_add_option(pdu, COAP_OPTION_URI_PATH, 3, reinterpret_cast<const uint8_t*>("tte"));
            const std::string q = "urn=" + urn;
            coap_add_option(pdu, COAP_OPTION_URI_QUERY, q.size(), reinterpret_cast<const uint8_t*>(q.data()));
            if (coap_send(a->session, pdu) == COAP_INVALID_MID) a->failed = true;
        }
        attempts.push_back(std::move(a));
    }
    void newContext() {
        ctx = coap_new_context(nullptr);
        coap_register_response_handler(ctx, onResponse);
        coap_register_nack_handler(ctx, onNack);
        coap_register_event_handler(ctx, onEvent);
    }
    void finish(Attempt& a, bool keepOpen) {
        if (a.session == nullptr) return;
        coap_session_set_app_data(a.session, nullptr);
        if (keepOpen && a.code != 0) kept.push_back(a.session);
        else coap_session_release(a.session);
        a.session = nullptr;
    }
};

DeviceFleet::DeviceFleet(std::uint16_t port, KeyPair device, std::string serverFingerprint)
    : m_impl(std::make_unique<Impl>(port, std::move(device), std::move(serverFingerprint))) {
    coap_startup();
    coap_set_log_level(LOG_CRIT);  // per-session warnings (retransmits, ICMP) would flood the output
    m_impl->newContext();
    auto& pki = m_impl->pki;
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.verify_peer_cert = 1;
    pki.allow_self_signed = 1;
    pki.allow_no_crl = 1;
    pki.allow_expired_crl = 1;
    pki.validate_cn_call_back = Impl::pin;  // the device's pin of the MotherShip's key
    pki.cn_call_back_arg = &m_impl->serverFingerprint;
    // No key files for libcoap, which would decode them again for every session: the
    // fleet's cost would then be the bench's, not the server's. Each session gets the
    // objects parsed here (Impl::start).
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.public_cert = "";
    pki.pki_key.key.pem.private_key = "";
    auto identity = server::loadCertifiedKey(m_impl->device.cert, m_impl->device.key);
    if (!identity) throw std::runtime_error(identity.error().message);
    m_impl->identity = std::move(*identity);
}

DeviceFleet::~DeviceFleet() {
    closeAll();
    for (auto& a : m_impl->attempts) m_impl->finish(*a, false);
    coap_free_context(m_impl->ctx);
}

void DeviceFleet::abandon() {
    closeAll();
    for (auto& a : m_impl->attempts) m_impl->finish(*a, false);
    m_impl->attempts.clear();
    // libcoap keeps a released session while it has a request or a handshake flight left to
    // retransmit, and sends them in later I/O: after the server under test had stopped, each
    // second one to its closed port failed with ECONNREFUSED and libcoap logged
    // "CRIT coap_network_send: Connection refused" (hundreds at the end of a loaded run). Freeing
    // the context ends them now, while the server still answers; the fleet goes on with a new one.
    coap_free_context(m_impl->ctx);
    m_impl->newContext();
}

void DeviceFleet::closeAll() {
    for (coap_session_t* s : m_impl->kept) coap_session_release(s);
    m_impl->kept.clear();
    coap_io_process(m_impl->ctx, COAP_IO_NO_WAIT);  // sends the close alerts
}

EnrollRun DeviceFleet::enroll(const std::vector<std::string>& urns, std::size_t inFlight, std::chrono::seconds limit,
                              bool keepOpen) {
    EnrollRun run;
    const auto start = Clock::now();
    const auto end = start + limit;
    std::size_t next = 0;
    std::deque<std::size_t> retry;
    while ((next < urns.size() || !retry.empty() || !m_impl->attempts.empty()) && Clock::now() < end) {
        // Opening a session costs the client a key load and a ClientHello; answers are read
        // between every 32 starts, so that handshakes already under way do not time out.
        for (int started = 0; started < 32 && m_impl->attempts.size() < inFlight && (!retry.empty() || next < urns.size());
             ++started) {
            std::size_t i = next;
            if (retry.empty()) {
                ++next;
            } else {
                i = retry.front();
                retry.pop_front();
            }
            m_impl->start(i, urns[i]);
        }
        coap_io_process(m_impl->ctx, 20);
        for (auto it = m_impl->attempts.begin(); it != m_impl->attempts.end();) {
            Impl::Attempt& a = **it;
            if (a.code == 0 && !a.failed && Clock::now() - a.started > kAttemptTimeout) a.failed = true;
            if (a.code == 0 && !a.failed) {
                ++it;
                continue;
            }
            if (a.code == 205) run.served++;
            else if (a.code != 0) run.refused++;
            else run.retried++, retry.push_back(a.device);
            m_impl->finish(a, keepOpen);
            it = m_impl->attempts.erase(it);
        }
    }
    run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return run;
}

}  // namespace tte::bench
