// libcoap DTLS server (coap_server.h).
#include "tte/server/coap_server.h"

#include <coap3/coap.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "coap_loop.h"
#include "dtls_gate.h"
#include "dtls_gate_install.h"

namespace tte::server {

/// Replies of deferred requests, from any thread to the CoAP thread: a list under a mutex and an
/// eventfd that wakes the CoAP thread's epoll wait. Shared by the server and every responder, so
/// a responder called after the server is gone finds it closed (and the eventfd still open).
struct CoapResponder::Mailbox {
    Mailbox() : fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
    ~Mailbox() {
        if (fd >= 0) close(fd);
    }
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;

    void post(std::uint64_t id, CoapReply reply) {
        {
            std::lock_guard lock(mutex);
            if (closed) return;
            ready.emplace_back(id, std::move(reply));
        }
        const std::uint64_t one = 1;
        (void)!write(fd, &one, sizeof one);
    }
    std::vector<std::pair<std::uint64_t, CoapReply>> take() {
        std::lock_guard lock(mutex);
        return std::exchange(ready, {});
    }
    void shut() {
        std::lock_guard lock(mutex);
        closed = true;
        ready.clear();
    }

    const int fd;
    std::mutex mutex;
    std::vector<std::pair<std::uint64_t, CoapReply>> ready;
    bool closed = false;
};

void CoapResponder::operator()(CoapReply reply) const { m_mailbox->post(m_id, std::move(reply)); }

namespace {

/// libcoap's messages for the sink of the last server created (libcoap's log is global).
std::atomic<std::shared_ptr<LogSink>> g_libcoapLog;

/// Set while a server checks its cookie gate at start (LibcoapServer::installCookieGate): the
/// handshake it aborts on purpose is not worth a log line.
std::atomic<bool> g_libcoapQuiet{false};

void logLibcoap(coap_log_t level, const char* message) {
    if (g_libcoapQuiet.load()) return;
    std::string_view text(message);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    // Expected for every session: the server gives libcoap no key files (see init()).
    if (text.find("No Server Certificate defined") != std::string_view::npos) return;
    // CoapLoop may have libcoap read the endpoint once more than datagrams were queued (see
    // coap_loop.cpp): an empty socket, said twice; any other read error keeps its own line.
    if (text.find("coap_network_read: Resource temporarily unavailable") != std::string_view::npos ||
        text.ends_with(": read failed"))
        return;
    const auto sink = g_libcoapLog.load();
    if (!sink || !*sink) return;
    const LogLevel l = level <= LOG_ERR ? LogLevel::error
                       : level == LOG_WARNING ? LogLevel::warning
                       : level <= LOG_INFO ? LogLevel::info
                                           : LogLevel::debug;
    (*sink)(l, text);
}

std::optional<std::string> sessionFingerprint(coap_session_t* session) {
    coap_tls_library_t lib{};
    void* tls = coap_session_get_tls(session, &lib);
    if (!tls || lib != COAP_TLS_LIBRARY_OPENSSL) return std::nullopt;
    return peerFingerprint(static_cast<SSL*>(tls));
}

std::optional<std::string> sessionPskIdentity(coap_session_t* session) {
    const coap_bin_const_t* id = coap_session_get_psk_identity(session);
    if (id == nullptr || id->length == 0) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(id->s), id->length);
}

std::string remoteAddress(coap_session_t* session) {
    const coap_address_t* a = coap_session_get_addr_remote(session);
    char buf[INET6_ADDRSTRLEN] = "unknown";
    if (a->addr.sa.sa_family == AF_INET) inet_ntop(AF_INET, &a->addr.sin.sin_addr, buf, sizeof buf);
    else if (a->addr.sa.sa_family == AF_INET6) inet_ntop(AF_INET6, &a->addr.sin6.sin6_addr, buf, sizeof buf);
    return buf;
}

class LibcoapServer final : public CoapServer {
public:
    LibcoapServer(const CoapServerOptions& o, CertifiedKey identity, CoapObserver observer)
        : m_options(o), m_identity(std::move(identity)), m_observer(std::move(observer)),
          m_mailbox(std::make_shared<CoapResponder::Mailbox>()) {}

    ~LibcoapServer() override {
        stop();
        m_mailbox->shut();
        // Before the context goes: the references taken for deferred requests (libcoap frees a
        // context's sessions whatever their count, and its asyncs with it).
        for (auto& [id, s] : m_separate) coap_session_release(s.session);
        m_separate.clear();
        if (m_ctx) coap_free_context(m_ctx);
    }

    Status init(LogSink log);

    void addResource(std::string_view path, CoapMethod method, CoapHandler handler) override {
        m_routes.push_back(Route{this, std::move(handler)});
        coap_resource_t* r = coap_resource_init(coap_new_str_const(reinterpret_cast<const std::uint8_t*>(path.data()), path.size()),
                                                COAP_RESOURCE_FLAGS_RELEASE_URI);
        coap_resource_set_userdata(r, &m_routes.back());
        coap_register_handler(r, method == CoapMethod::get ? COAP_REQUEST_GET : COAP_REQUEST_POST, &LibcoapServer::onRequest);
        coap_add_resource(m_ctx, r);
    }

    [[nodiscard]] std::uint16_t port() const override { return m_port; }

    void start() override {
        m_thread = std::thread([this] {
            CoapLoop loop(m_ctx, m_mailbox->fd, [this] { deliverReplies(); }, m_endpointFd, m_gate.get());
            while (!m_stop.load()) {
                loop.runOnce(50);
                reportGate();
            }
        });
    }

    void stop() override {
        if (m_thread.joinable()) {
            m_stop = true;
            m_thread.join();
        }
    }

private:
    struct Route {
        LibcoapServer* server;
        CoapHandler handler;
    };

    /// Gives a new server session the certificate and key parsed at start (shared, not copied).
    /// While the server checks its gate at start, it only notes the session's SSL_CTX instead
    /// and fails the session (installCookieGate).
    static int setupSession(void* tls, coap_dtls_pki_t* setup) {
        auto* self = static_cast<LibcoapServer*>(setup->cn_call_back_arg);
        auto* ssl = static_cast<SSL*>(tls);
        if (self->m_findingDtlsContext) {
            self->m_dtlsContext = SSL_get_SSL_CTX(ssl);
            return 0;
        }
        if (SSL_use_cert_and_key(ssl, self->m_identity.cert.get(), self->m_identity.key.get(), nullptr, 1) != 1) return 0;
        for (const auto& ca : self->m_identity.chain) {
            if (SSL_add1_chain_cert(ssl, ca.get()) != 1) return 0;
        }
        return 1;
    }

    /// libcoap's validate_id_call_back: the PSK for the identity the client sent. libcoap copies
    /// the key into the session at once; the copy here is wiped at the next handshake.
    static const coap_bin_const_t* pskForIdentity(coap_bin_const_t* identity, coap_session_t*, void* arg) {
        auto* self = static_cast<LibcoapServer*>(arg);
        self->m_lastPsk.clear();
        if (identity == nullptr) return nullptr;
        auto key = self->m_options.pskLookup(
            std::string_view(reinterpret_cast<const char*>(identity->s), identity->length));
        if (!key || key->empty()) return nullptr;
        self->m_lastPsk = std::move(*key);
        self->m_lastPskBin = {self->m_lastPsk.size(), self->m_lastPsk.bytes().data()};
        return &self->m_lastPskBin;
    }

    static int onEvent(coap_session_t* session, coap_event_t event) {
        auto* self = static_cast<LibcoapServer*>(coap_get_app_data(coap_session_get_context(session)));
        if (self == nullptr || !self->m_observer.session || self->m_findingDtlsContext) return 0;
        if (event == COAP_EVENT_SERVER_SESSION_NEW) self->m_observer.session(true);
        else if (event == COAP_EVENT_SERVER_SESSION_DEL) self->m_observer.session(false);
        return 0;
    }

    /// A request answered later (CoapDeferred), while libcoap holds its async (which makes it
    /// acknowledge retransmissions of the request meanwhile): the client's session (referenced
    /// here as well, so that the pointer stays valid whatever the client does), the request's
    /// token and whether it was confirmable.
    struct Separate {
        coap_session_t* session = nullptr;
        std::vector<std::uint8_t> token;
        bool confirmable = true;
    };

    static void setReply(coap_pdu_t* response, const CoapReply& reply) {
        coap_pdu_set_code(response, static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(reply.code)));
        if (reply.contentFormat) {
            unsigned char buf[4];
            coap_add_option(response, COAP_OPTION_CONTENT_FORMAT, coap_encode_var_safe(buf, sizeof buf, *reply.contentFormat), buf);
        }
        if (!reply.payload.empty()) coap_add_data(response, reply.payload.size(), reply.payload.data());
    }

    /// Sends `reply` as the separate response of `s` now: a confirmable response (non-confirmable
    /// for a non-confirmable request) with the request's token, which libcoap retransmits
    /// until the client acknowledges it. Whether it went out.
    static bool sendSeparate(const Separate& s, const CoapReply& reply) {
        coap_pdu_t* pdu = coap_pdu_init(s.confirmable ? COAP_MESSAGE_CON : COAP_MESSAGE_NON, COAP_EMPTY_CODE,
                                        coap_new_message_id(s.session), coap_session_max_pdu_size(s.session));
        if (pdu == nullptr) return false;
        if (coap_add_token(pdu, s.token.size(), s.token.data()) == 0) {
            coap_delete_pdu(pdu);
            return false;
        }
        setReply(pdu, reply);
        return coap_send(s.session, pdu) != COAP_INVALID_MID;  // takes the PDU in every case
    }

    /// Hands the observer what the gate counted since the last report, if anything (CoAP
    /// thread: the gate's counts are plain numbers of that thread).
    void reportGate() {
        if (!m_gate || !m_observer.gate) return;
        const CoapGateCounts& now = m_gate->counters();
        const CoapGateCounts added = now - m_gateReported;
        if (added == CoapGateCounts{}) return;
        m_gateReported = now;
        m_observer.gate(added);
    }

    /// On the CoAP thread, when the mailbox's eventfd woke it: each reply that came is sent at
    /// once (sendSeparate) and its async freed. Not through coap_async_trigger(): libcoap 4.3.1
    /// fires a triggered async only in a walk over every session (coap_check_async, from
    /// coap_io_prepare_epoll), and arms its timerfd to wake the loop for it, so each batch of
    /// replies cost two extra walks and a second pass of the request through the handler
    /// (measured in docs/MOTHERSHIP.md). A reply whose session is no longer established (the
    /// client closed it, or started a new handshake) is dropped: libcoap 4.3.1 would send on such
    /// a session by opening a DTLS *client* handshake towards the device.
    void deliverReplies() {
        for (auto& [id, reply] : m_mailbox->take()) {
            auto it = m_separate.find(id);
            if (it == m_separate.end()) continue;  // a second call of a responder
            const Separate s = std::move(it->second);
            m_separate.erase(it);
            coap_async_t* async = coap_find_async(s.session, coap_bin_const_t{s.token.size(), s.token.data()});
            const bool sent = async != nullptr && coap_session_get_state(s.session) == COAP_SESSION_STATE_ESTABLISHED &&
                              sendSeparate(s, reply);
            // Never triggered, so never fired: ours to free (with the session reference it holds).
            if (async != nullptr) coap_free_async(s.session, async);
            coap_session_release(s.session);
            if (sent) {
                if (m_observer.replied) m_observer.replied(reply.code);
            } else if (m_observer.replyDropped) {
                m_observer.replyDropped();
            }
        }
    }

    /// Registers the async (libcoap then sends an empty ACK for a confirmable request) and
    /// hands the handler its responder; 5.03 when libcoap cannot hold the request.
    void defer(coap_session_t* session, const coap_pdu_t* request, coap_pdu_t* response, const CoapDeferred& deferred) {
        coap_async_t* async = coap_register_async(session, request, 0);  // 0: until triggered
        if (async == nullptr) {
            const std::string text = "the server cannot hold this request now; try again";
            setReply(response, CoapReply{503, std::nullopt, {text.begin(), text.end()}});
            if (m_observer.replied) m_observer.replied(503);
            return;
        }
        const std::uint64_t id = ++m_lastSeparate;
        coap_async_set_app_data(async, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)));
        const coap_bin_const_t token = coap_pdu_get_token(request);
        m_separate.emplace(id, Separate{coap_session_reference(session), {token.s, token.s + token.length},
                                        coap_pdu_get_type(request) == COAP_MESSAGE_CON});
        deferred.start(CoapResponder(m_mailbox, id));
    }

    static void onRequest(coap_resource_t* resource, coap_session_t* session, const coap_pdu_t* request,
                          const coap_string_t* query, coap_pdu_t* response) {
        auto* route = static_cast<Route*>(coap_resource_get_userdata(resource));
        // While a deferred request's async is held, libcoap acknowledges retransmissions of the
        // request itself and calls no handler; once the reply went out, a late retransmission
        // is a new request.
        CoapRequest r;
        if (query) r.query = std::string_view(reinterpret_cast<const char*>(query->s), query->length);
        size_t len = 0;
        const uint8_t* data = nullptr;
        if (coap_get_data(request, &len, &data)) r.payload = std::span<const std::uint8_t>(data, len);
        coap_opt_iterator_t it;
        if (const coap_opt_t* accept = coap_check_option(request, COAP_OPTION_ACCEPT, &it))
            r.accept = coap_decode_var_bytes(coap_opt_value(accept), coap_opt_length(accept));
        r.pskIdentity = sessionPskIdentity(session);
        if (!r.pskIdentity) r.peerFingerprint = sessionFingerprint(session);
        r.client = remoteAddress(session);
        CoapAnswer answer = route->handler(r);
        if (const auto* deferred = std::get_if<CoapDeferred>(&answer)) {
            route->server->defer(session, request, response, *deferred);
            return;
        }
        const CoapReply& reply = std::get<CoapReply>(answer);
        setReply(response, reply);
        if (route->server->m_observer.replied) route->server->m_observer.replied(reply.code);
    }

    Status installCookieGate(const coap_address_t& bound);
    Status findDtlsContext(const coap_address_t& bound);

    CoapServerOptions m_options;
    CertifiedKey m_identity;  ///< parsed once when the server starts
    std::unique_ptr<DtlsGate> m_gate;     ///< CoAP thread only, once started
    CoapGateCounts m_gateReported;    ///< CoAP thread: the gate's counts the observer was given
    bool m_findingDtlsContext = false;    ///< installCookieGate() is running
    SSL_CTX* m_dtlsContext = nullptr;     ///< libcoap's, whose cookie callbacks are the gate's
    CoapObserver m_observer;
    std::list<Route> m_routes;  ///< stable addresses: libcoap keeps pointers to them
    coap_context_t* m_ctx = nullptr;
    std::uint16_t m_port = 0;
    int m_endpointFd = -1;  ///< the endpoint's UDP socket (libcoap's), for CoapLoop
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
    std::shared_ptr<CoapResponder::Mailbox> m_mailbox;
    std::unordered_map<std::uint64_t, Separate> m_separate;  ///< CoAP thread only
    std::uint64_t m_lastSeparate = 0;
    Secret m_lastPsk;                  ///< CoAP thread only: the key pskForIdentity() returned last
    coap_bin_const_t m_lastPskBin{0, nullptr};
};

Status LibcoapServer::init(LogSink log) {
    coap_startup();
    if (!coap_dtls_is_supported()) return fail(Errc::unsupported, "libcoap was built without DTLS");
    if (!coap_async_is_supported()) return fail(Errc::unsupported, "libcoap was built without separate responses (async)");
    if (m_mailbox->fd < 0) return failNative(Errc::io, "cannot create an eventfd", "errno", errno, std::strerror(errno));
    g_libcoapLog.store(std::make_shared<LogSink>(std::move(log)));
    coap_set_log_handler(&logLibcoap);
    m_ctx = coap_new_context(nullptr);
    if (!m_ctx) return fail(Errc::internal, "libcoap: cannot create a context");
    // PSK first: libcoap 4.3 makes the SSL object that takes the next new client when DTLS is
    // first set up, and an SSL object copies its context's PSK callback when it is made – set
    // after the certificates, the first PSK handshake of a server failed (measured).
    if (m_options.pskLookup) {
        coap_dtls_spsk_t psk{};
        psk.version = COAP_DTLS_SPSK_SETUP_VERSION;
        psk.validate_id_call_back = &LibcoapServer::pskForIdentity;
        psk.id_call_back_arg = this;
        if (!coap_context_set_psk2(m_ctx, &psk)) return fail(Errc::internal, "libcoap: cannot set up DTLS-PSK");
    }
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
    // setupSession() gives the session the ones parsed at start.
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.public_cert = "";
    pki.pki_key.key.pem.private_key = "";
    pki.additional_tls_setup_call_back = &LibcoapServer::setupSession;
    pki.cn_call_back_arg = this;  // the argument field of the setup libcoap hands to setupSession
    if (!coap_context_set_pki(m_ctx, &pki)) return fail(Errc::internal, "libcoap: cannot set up DTLS with certificates");
    coap_set_app_data(m_ctx, this);
    coap_register_event_handler(m_ctx, &LibcoapServer::onEvent);
    if (m_options.maxIdleSessions) coap_context_set_max_idle_sessions(m_ctx, m_options.maxIdleSessions);
    if (m_options.maxHandshakeSessions) coap_context_set_max_handshake_sessions(m_ctx, m_options.maxHandshakeSessions);
    if (m_options.sessionTimeoutSeconds) coap_context_set_session_timeout(m_ctx, m_options.sessionTimeoutSeconds);
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
    // libcoap 4.3 shows an endpoint's bound address only as text, "127.0.0.1:PORT (DTLS)" or
    // "[::1]:PORT (DTLS)": the port asked for, or the one the kernel chose for 0.
    const std::string_view bound = coap_endpoint_str(ep);
    const std::string_view address = bound.substr(0, bound.find(' '));
    const std::size_t colon = address.rfind(':');
    unsigned port = 0;
    const char* end = address.data() + address.size();
    if (colon == std::string_view::npos || std::from_chars(address.data() + colon + 1, end, port).ptr != end || port == 0 ||
        port > 65535) {
        return fail(Errc::internal, "libcoap: cannot read the bound port from its endpoint '" + std::string(bound) + "'");
    }
    m_port = static_cast<std::uint16_t>(port);
    m_endpointFd = boundUdpSocket(addr.addr.sa.sa_family, m_port);
    addr.addr.sin.sin_port = htons(m_port);  // the same field of sin6
    return installCookieGate(addr);
}

/// One DTLS handshake with the endpoint (dtls_gate_install.h), until the session set-up
/// callback has noted libcoap's DTLS SSL_CTX (and failed that session), quietly.
Status LibcoapServer::findDtlsContext(const coap_address_t& bound) {
    m_findingDtlsContext = true;
    g_libcoapQuiet = true;
    auto done = handshakeWithEndpoint(m_ctx, bound, [this] { return m_dtlsContext != nullptr; });
    g_libcoapQuiet = false;
    m_findingDtlsContext = false;
    return done;
}

/// The gate in front of libcoap (dtls_gate.h) needs three things libcoap 4.3.1 has no API for
/// (dtls_gate_install.h): its endpoint's socket (found by its port, boundUdpSocket), a peek
/// offset on it, and the cookie check of its DTLSv1_listen. That runs on libcoap's DTLS SSL_CTX, which every server
/// session's SSL shares (coap_openssl.c: the listening SSL and each session's come from it), so
/// it is reached from a session's SSL in the setup callback: an OpenSSL DTLS client here makes
/// one handshake to the endpoint, the callback notes the SSL_CTX and fails that session. The
/// SSL_CTX's cookie callbacks are then the gate's, from before any device is read.
Status LibcoapServer::installCookieGate(const coap_address_t& bound) {
    if (m_endpointFd < 0)
        return fail(Errc::internal, "cannot find libcoap's CoAP/DTLS socket among the process's descriptors (the DTLS cookie gate needs it)");
    const int zero = 0;
    if (setsockopt(m_endpointFd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) != 0)
        return failNative(Errc::unsupported, "the DTLS cookie gate needs SO_PEEK_OFF on the CoAP/DTLS socket (Linux), and setsockopt refused it",
                          "errno", errno, std::strerror(errno));
    DtlsGateOptions gateOptions;
    if (m_options.handshakesPerAddressPerSecond != 0) gateOptions.handshakesPerAddressPerSecond = m_options.handshakesPerAddressPerSecond;
    gateOptions.handshakeBurstPerAddress = gateOptions.handshakesPerAddressPerSecond * kHandshakeBurstSeconds;
    coap_context_t* ctx = m_ctx;
    m_gate = std::make_unique<DtlsGate>(gateOptions, [ctx](const DatagramSource& source) {
        coap_address_t a;
        coap_address_init(&a);
        a.size = std::min<socklen_t>(source.length, sizeof a.addr);
        std::memcpy(&a.addr, &source.address, a.size);
        return coap_session_get_by_peer(ctx, &a, source.ifindex) != nullptr;  // a walk: malformed ClientHellos only
    });

    if (auto found = findDtlsContext(bound); !found) return found;
    if (m_dtlsContext == nullptr)
        return fail(Errc::internal, "libcoap: no DTLS handshake reached its session set-up within 5 s, so the DTLS cookie gate could not be installed");
    return attachCookieGate(m_dtlsContext, *m_gate);
}

}  // namespace

Result<std::unique_ptr<CoapServer>> CoapServer::create(const CoapServerOptions& options, CertifiedKey identity, LogSink log,
                                                       CoapObserver observer) {
    auto server = std::make_unique<LibcoapServer>(options, std::move(identity), std::move(observer));
    if (auto s = server->init(std::move(log)); !s) return std::unexpected(s.error());
    return server;
}

}  // namespace tte::server
