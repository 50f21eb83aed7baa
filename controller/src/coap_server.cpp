// libcoap DTLS server: one context, one thread, POST /tte/v1/checkin.
#include "tte/controller/coap_server.h"

#include <coap3/coap.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <cstring>
#include <map>
#include <thread>

#include "tte/protocol/fingerprint.h"

namespace tte::controller {

struct CoapServer::Impl {
    ControllerService& service;
    coap_context_t* ctx = nullptr;
    std::thread thread;
    std::atomic<bool> stopping{false};
    std::string certPem;
    Secret keyPem;
    std::map<const coap_session_t*, std::string> peerFingerprints;  // only touched by the coap thread

    explicit Impl(ControllerService& s) : service(s) {}

    static Impl* of(coap_session_t* session) {
        return static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
    }

    // Called by libcoap during the handshake for each certificate of the client's chain.
    static int onPeerCertificate(const char*, const uint8_t* der, size_t len, coap_session_t* session, unsigned depth,
                                 int, void* arg) {
        if (depth != 0) return 1;
        auto fp = protocol::fingerprintFromDer(std::span<const std::uint8_t>(der, len));
        if (!fp) return 0;
        static_cast<Impl*>(arg)->peerFingerprints[session] = fp->hex();
        return 1;
    }

    static int onEvent(coap_session_t* session, coap_event_t event) {
        if (event == COAP_EVENT_SERVER_SESSION_DEL || event == COAP_EVENT_DTLS_CLOSED)
            of(session)->peerFingerprints.erase(session);
        return 0;
    }

    static void onCheckin(coap_resource_t*, coap_session_t* session, const coap_pdu_t* request, const coap_string_t*,
                          coap_pdu_t* response) {
        Impl* self = of(session);
        size_t len = 0;
        const uint8_t* data = nullptr;
        coap_get_data(request, &len, &data);
        auto it = self->peerFingerprints.find(session);
        CoapAnswer answer = it == self->peerFingerprints.end()
                                ? CoapAnswer{403, "no client certificate"}
                                : self->service.checkin(it->second, std::string_view(reinterpret_cast<const char*>(data), len));
        coap_pdu_set_code(response, static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(answer.code)));
        if (!answer.payload.empty())
            coap_add_data(response, answer.payload.size(), reinterpret_cast<const uint8_t*>(answer.payload.data()));
    }
};

CoapServer::CoapServer(ControllerService& service) : m_impl(std::make_unique<Impl>(service)) {}

CoapServer::~CoapServer() { stop(); }

Result<std::uint16_t> CoapServer::start(const std::string& address, std::uint16_t port, const std::string& certPem,
                                        const Secret& keyPem) {
    auto& im = *m_impl;
    coap_startup();
    coap_set_log_level(LOG_EMERG);
    if (!coap_dtls_is_supported()) return fail(Errc::unsupported, "libcoap was built without DTLS");
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &sin.sin_addr) != 1)
        return fail(Errc::invalidArgument, "bad CoAP listen address " + address + " (IPv4 literal expected)");
    im.certPem = certPem;
    im.keyPem = keyPem.clone();
    im.ctx = coap_new_context(nullptr);
    if (im.ctx == nullptr) return fail(Errc::internal, "cannot create a CoAP context");
    coap_set_app_data(im.ctx, &im);
    coap_register_event_handler(im.ctx, &Impl::onEvent);

    coap_dtls_pki_t pki{};
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.verify_peer_cert = 1;   // ask for and check the client's certificate...
    pki.allow_self_signed = 1;  // ...which is self-signed; trust comes from the fingerprint (docs §1)
    pki.validate_cn_call_back = &Impl::onPeerCertificate;
    pki.cn_call_back_arg = &im;
    pki.pki_key.key_type = COAP_PKI_KEY_PEM_BUF;
    pki.pki_key.key.pem_buf.public_cert = reinterpret_cast<const uint8_t*>(im.certPem.data());
    pki.pki_key.key.pem_buf.public_cert_len = im.certPem.size();
    pki.pki_key.key.pem_buf.private_key = im.keyPem.bytes().data();
    pki.pki_key.key.pem_buf.private_key_len = im.keyPem.size();
    if (!coap_context_set_pki(im.ctx, &pki)) {
        stop();
        return fail(Errc::invalidArgument, "libcoap refused the controller's certificate or key");
    }
    coap_address_t addr;
    coap_address_init(&addr);
    addr.size = sizeof sin;
    std::memcpy(&addr.addr.sin, &sin, sizeof sin);
    coap_endpoint_t* ep = coap_new_endpoint(im.ctx, &addr, COAP_PROTO_DTLS);
    if (ep == nullptr) {
        stop();
        return fail(Errc::unavailable, "cannot listen for CoAP/DTLS on udp " + address + ":" + std::to_string(port));
    }
    std::string desc = coap_endpoint_str(ep);  // "127.0.0.1:NNNNN (DTLS)" style
    auto colon = desc.rfind(':', desc.find(' '));
    std::uint16_t bound = static_cast<std::uint16_t>(std::stoi(desc.substr(colon + 1)));

    coap_resource_t* r = coap_resource_init(coap_make_str_const("tte/v1/checkin"), 0);
    coap_register_handler(r, COAP_REQUEST_POST, &Impl::onCheckin);
    coap_add_resource(im.ctx, r);
    im.thread = std::thread([&im] {
        while (!im.stopping.load()) coap_io_process(im.ctx, 100);
    });
    return bound;
}

void CoapServer::stop() {
    auto& im = *m_impl;
    im.stopping = true;
    if (im.thread.joinable()) im.thread.join();
    if (im.ctx != nullptr) {
        coap_free_context(im.ctx);
        im.ctx = nullptr;
    }
}

}  // namespace tte::controller
