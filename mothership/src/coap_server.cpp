// libcoap server for GET /.well-known/tte?urn=… (coap_server.h).
#include "tte/mothership/coap_server.h"

#include <coap3/coap.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "coap_loop.h"
#include "tte/mothership/crypto.h"
#include "tte/protocol/ids.h"
#include "tte/protocol/query.h"

namespace tte::mothership {
namespace {

constexpr unsigned kFormatJson = 50;  // RFC 7252 Content-Format application/json
constexpr unsigned kFormatCbor = 60;  // application/cbor

std::optional<std::string> sessionFingerprint(coap_session_t* session) {
    coap_tls_library_t lib{};
    void* tls = coap_session_get_tls(session, &lib);
    if (!tls || lib != COAP_TLS_LIBRARY_OPENSSL) return std::nullopt;
    return peerFingerprint(static_cast<SSL*>(tls));
}

std::string remoteAddress(coap_session_t* session) {
    const coap_address_t* a = coap_session_get_addr_remote(session);
    char buf[INET6_ADDRSTRLEN] = "unknown";
    if (a->addr.sa.sa_family == AF_INET) inet_ntop(AF_INET, &a->addr.sin.sin_addr, buf, sizeof buf);
    else if (a->addr.sa.sa_family == AF_INET6) inet_ntop(AF_INET6, &a->addr.sin6.sin6_addr, buf, sizeof buf);
    return buf;
}

/// libcoap's messages as structured lines of the server's log. libcoap's log is one per
/// process; the last server created writes it.
std::atomic<std::shared_ptr<spdlog::logger>> g_libcoapLog;

void logLibcoap(coap_log_t level, const char* message) {
    std::string_view text(message);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    // Expected for every session: the server gives libcoap no key files (see init()).
    if (text.find("No Server Certificate defined") != std::string_view::npos) return;
    const auto log = g_libcoapLog.load();
    if (!log) return;
    const auto lvl = level <= LOG_ERR ? spdlog::level::err
                     : level == LOG_WARNING ? spdlog::level::warn
                     : level <= LOG_INFO ? spdlog::level::info
                                         : spdlog::level::debug;
    log->log(lvl, "event=libcoap message=\"{}\"", text);
}

/// Commits `registered` marks off the CoAP thread, so a DTLS enrollment never waits for
/// a disk flush; the SQLite writer groups them with other writes.
class RegistrationQueue {
public:
    RegistrationQueue(Registry& registry, Clock& clock, Metrics& metrics, std::shared_ptr<spdlog::logger> log)
        : m_registry(registry), m_clock(clock), m_metrics(metrics), m_log(std::move(log)),
          m_thread([this] { loop(); }) {}
    ~RegistrationQueue() { stop(); }
    RegistrationQueue(const RegistrationQueue&) = delete;
    RegistrationQueue& operator=(const RegistrationQueue&) = delete;

    void push(std::uint32_t devId, std::string client) {
        {
            std::lock_guard lock(m_mutex);
            m_queue.emplace_back(devId, std::move(client));
        }
        m_wake.notify_one();
    }
    void stop() {
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping) return;
            m_stopping = true;
        }
        m_wake.notify_one();
        m_thread.join();
    }

private:
    void loop() {
        for (;;) {
            std::pair<std::uint32_t, std::string> item;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
                if (m_queue.empty()) return;
                item = std::move(m_queue.front());
                m_queue.pop_front();
            }
            const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 m_clock.wallNow().time_since_epoch()).count();
            if (auto s = m_registry.markRegistered(item.first, "coap " + item.second, now); !s) {
                m_log->warn("event=register-failed devid={:08x} error=\"{}\"", item.first, s.error().toString());
            } else {
                m_metrics.registrations++;
            }
        }
    }

    Registry& m_registry;
    Clock& m_clock;
    Metrics& m_metrics;
    std::shared_ptr<spdlog::logger> m_log;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::pair<std::uint32_t, std::string>> m_queue;
    bool m_stopping = false;
    std::thread m_thread;
};

class LibcoapServer final : public CoapServer {
public:
    LibcoapServer(const CoapOptions& o, Registry& registry, Clock& clock, Metrics& metrics,
                  std::shared_ptr<spdlog::logger> log)
        : m_options(o), m_registry(registry), m_clock(clock), m_metrics(metrics), m_log(log),
          m_registrations(registry, clock, metrics, log) {}

    ~LibcoapServer() override {
        stop();
        if (m_ctx) coap_free_context(m_ctx);
    }

    Status init();
    [[nodiscard]] std::uint16_t port() const override { return m_port; }

    void start() override {
        m_thread = std::thread([this] {
            CoapLoop loop(m_ctx);
            while (!m_stop.load()) loop.runOnce(50);
        });
    }

    void stop() override {
        if (m_thread.joinable()) {
            m_stop = true;
            m_thread.join();
        }
        m_registrations.stop();
    }

private:
    /// Gives a new server session the certificate and key parsed at start (shared, not copied).
    static int setupSession(void* tls, coap_dtls_pki_t* setup) {
        auto* self = static_cast<LibcoapServer*>(setup->cn_call_back_arg);
        auto* ssl = static_cast<SSL*>(tls);
        return SSL_use_cert_and_key(ssl, self->m_identity.cert.get(), self->m_identity.key.get(), nullptr, 1) == 1;
    }
    /// Keeps the session gauge: libcoap reports each server session it creates and frees.
    static int onEvent(coap_session_t* session, coap_event_t event) {
        auto* self = static_cast<LibcoapServer*>(coap_get_app_data(coap_session_get_context(session)));
        if (self == nullptr) return 0;
        if (event == COAP_EVENT_SERVER_SESSION_NEW) {
            self->m_metrics.coapSessions++;
            self->m_metrics.coapSessionsOpened++;
        } else if (event == COAP_EVENT_SERVER_SESSION_DEL) {
            self->m_metrics.coapSessions--;
        }
        return 0;
    }
    static void onGet(coap_resource_t* resource, coap_session_t* session, const coap_pdu_t* request,
                      const coap_string_t* query, coap_pdu_t* response) {
        auto* self = static_cast<LibcoapServer*>(coap_resource_get_userdata(resource));
        const std::string q = query ? std::string(reinterpret_cast<const char*>(query->s), query->length) : "";
        const auto started = std::chrono::steady_clock::now();
        self->answer(session, request, q, response);
        self->m_metrics.coapRequest(std::chrono::steady_clock::now() - started);
    }

    void answer(coap_session_t* session, const coap_pdu_t* request, const std::string& query, coap_pdu_t* response);
    void reply(coap_pdu_t* response, coap_pdu_code_t code, int metricCode) {
        coap_pdu_set_code(response, code);
        m_metrics.coapResponse(metricCode);
    }

    CoapOptions m_options;
    Registry& m_registry;
    Clock& m_clock;
    Metrics& m_metrics;
    std::shared_ptr<spdlog::logger> m_log;
    RegistrationQueue m_registrations;
    CertifiedKey m_identity;  ///< the DTLS certificate and key, parsed once when the server starts
    coap_context_t* m_ctx = nullptr;
    std::uint16_t m_port = 0;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

void LibcoapServer::answer(coap_session_t* session, const coap_pdu_t* request, const std::string& query,
                           coap_pdu_t* response) {
    const std::string client = remoteAddress(session);
    unsigned format = kFormatCbor;
    coap_opt_iterator_t it;
    if (const coap_opt_t* accept = coap_check_option(request, COAP_OPTION_ACCEPT, &it)) {
        format = coap_decode_var_bytes(coap_opt_value(accept), coap_opt_length(accept));
        if (format != kFormatJson && format != kFormatCbor) return reply(response, COAP_RESPONSE_CODE_NOT_ACCEPTABLE, 406);
    }
    // PROTOCOL §7: `urn` must be the only parameter and a valid Dev URN.
    const auto params = protocol::parseQuery(query);
    const std::string* urnParam = params && params->size() == 1 ? params->find("urn") : nullptr;
    if (urnParam == nullptr || !protocol::parseDevUrn(*urnParam)) return reply(response, COAP_RESPONSE_CODE_BAD_REQUEST, 400);
    const std::string& urn = *urnParam;
    auto row = m_registry.deviceByUrn(urn);
    if (!row) {
        if (row.error().code != Errc::notFound) {
            m_log->error("event=coap-registry-error error=\"{}\"", row.error().toString());
            return reply(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE, 500);
        }
        return reply(response, COAP_RESPONSE_CODE_NOT_FOUND, 404);
    }
    const auto fp = sessionFingerprint(session);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(m_clock.wallNow().time_since_epoch()).count();
    if (!fp || *fp != row->fingerprint) {
        (void)m_registry.recordFailure(row->devId, "coap-fingerprint-mismatch", "coap " + client,
                                       "client key " + fp.value_or("none"), now);
        m_log->warn("event=coap-forbidden devid={:08x} client={} reason=fingerprint", row->devId, client);
        return reply(response, COAP_RESPONSE_CODE_FORBIDDEN, 403);
    }
    if (row->state == DeviceState::revoked) return reply(response, COAP_RESPONSE_CODE_FORBIDDEN, 403);
    if (row->state == DeviceState::notMapped || !row->controller) return reply(response, COAP_RESPONSE_CODE_NOT_FOUND, 404);
    const nlohmann::json body{{"cip", row->controller->ip},
                              {"cport", row->controller->port},
                              {"cfingerprint", row->controller->fingerprint}};
    std::vector<std::uint8_t> payload;
    if (format == kFormatJson) {
        const std::string text = body.dump();
        payload.assign(text.begin(), text.end());
    } else {
        payload = nlohmann::json::to_cbor(body);
    }
    unsigned char buf[4];
    coap_add_option(response, COAP_OPTION_CONTENT_FORMAT, coap_encode_var_safe(buf, sizeof buf, format), buf);
    coap_add_data(response, payload.size(), payload.data());
    reply(response, COAP_RESPONSE_CODE_CONTENT, 205);
    if (row->state == DeviceState::mapped) m_registrations.push(row->devId, client);
    m_log->info("event=coap-enrolled devid={:08x} client={}", row->devId, client);
}

Status LibcoapServer::init() {
    auto identity = loadCertifiedKey(m_options.certFile, m_options.keyFile);
    if (!identity)
        return fail(Errc::invalidArgument, "cannot load the DTLS certificate " + m_options.certFile + " / key " +
                                               m_options.keyFile + " (or they do not match)");
    m_identity = std::move(*identity);
    coap_startup();
    g_libcoapLog.store(m_log);
    coap_set_log_handler(&logLibcoap);
    m_ctx = coap_new_context(nullptr);
    if (!m_ctx) return fail(Errc::internal, "libcoap: cannot create a context");
    coap_dtls_pki_t pki{};
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.verify_peer_cert = 1;   // a client certificate is required …
    pki.check_common_ca = 0;
    pki.allow_self_signed = 1;  // … any self-signed one; the handler pins it by fingerprint
    pki.allow_expired_certs = 1;
    pki.cert_chain_validation = 0;
    pki.allow_no_crl = 1;
    pki.allow_expired_crl = 1;
    // No key files for libcoap: 4.3 would read and decode them again for every new session
    // (about 0.5 ms of OpenSSL 3 decoding, as much as the handshake's own cryptography, and
    // a private copy of both in every session). Its per-session setup then finds no
    // certificate (it says so in a message dropped by logLibcoap, and goes on), and
    // setupSession() gives the session the ones parsed above.
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.public_cert = "";
    pki.pki_key.key.pem.private_key = "";
    pki.additional_tls_setup_call_back = &LibcoapServer::setupSession;
    pki.cn_call_back_arg = this;  // the argument field of the setup libcoap hands to setupSession
    if (!coap_context_set_pki(m_ctx, &pki)) return fail(Errc::internal, "libcoap: cannot set up DTLS with certificates");
    coap_set_app_data(m_ctx, this);
    coap_register_event_handler(m_ctx, &LibcoapServer::onEvent);
    coap_context_set_max_idle_sessions(m_ctx, m_options.maxIdleSessions);
    coap_context_set_max_handshake_sessions(m_ctx, m_options.maxHandshakeSessions);
    coap_context_set_session_timeout(m_ctx, m_options.sessionTimeoutSeconds);
    coap_address_t addr;
    coap_address_init(&addr);
    if (inet_pton(AF_INET, m_options.address.c_str(), &addr.addr.sin.sin_addr) == 1) {
        addr.addr.sin.sin_family = AF_INET;
        addr.addr.sin.sin_port = htons(m_options.port);
        addr.size = sizeof(addr.addr.sin);
    } else if (inet_pton(AF_INET6, m_options.address.c_str(), &addr.addr.sin6.sin6_addr) == 1) {
        addr.addr.sin6.sin6_family = AF_INET6;
        addr.addr.sin6.sin6_port = htons(m_options.port);
        addr.size = sizeof(addr.addr.sin6);
    } else {
        return fail(Errc::invalidArgument, "CoAP listen address '" + m_options.address + "' is not an IP address");
    }
    coap_endpoint_t* ep = coap_new_endpoint(m_ctx, &addr, COAP_PROTO_DTLS);
    if (!ep) return fail(Errc::io, "cannot listen for CoAP/DTLS on " + m_options.address + ":" + std::to_string(m_options.port));
    // "127.0.0.1:PORT" or "[::1]:PORT": the bound port, also when 0 was asked for.
    std::string bound = coap_endpoint_str(ep);
    bound = bound.substr(0, bound.find(' '));
    const auto colon = bound.rfind(':');
    m_port = static_cast<std::uint16_t>(std::stoi(bound.substr(colon + 1)));
    coap_resource_t* r = coap_resource_init(coap_make_str_const(".well-known/tte"), 0);
    coap_resource_set_userdata(r, this);
    coap_register_handler(r, COAP_REQUEST_GET, &LibcoapServer::onGet);
    coap_add_resource(m_ctx, r);
    return {};
}

}  // namespace

Result<std::unique_ptr<CoapServer>> CoapServer::create(const CoapOptions& options, Registry& registry, Clock& clock,
                                                       Metrics& metrics, std::shared_ptr<spdlog::logger> log) {
    auto server = std::make_unique<LibcoapServer>(options, registry, clock, metrics, std::move(log));
    if (auto s = server->init(); !s) return std::unexpected(s.error());
    return server;
}

}  // namespace tte::mothership
