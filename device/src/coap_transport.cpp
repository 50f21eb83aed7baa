// libcoap client: one context and one DTLS session per request (the device sends one
// request per boot step, so reusing sessions would buy nothing but state).
#include "tte/device_host/coap_transport.h"

#include <coap3/coap.h>
#include <netdb.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "tte/base/secret.h"
#include "tte/device_host/credentials.h"
#include "tte/protocol/fingerprint.h"

namespace tte::devicehost {

struct CoapTransport::Request {
    const device::Credentials* self;
    device::Endpoint server;
    const device::Fingerprint* pinned;
    coap_pdu_code_t method;
    const char* path;
    const char* query;
    std::uint16_t accept;
    std::uint16_t contentFormat;
    std::span<const std::uint8_t> payload;
};

namespace {

struct State {
    const device::Fingerprint* pinned = nullptr;
    bool done = false;
    bool peerMismatch = false;
    device::TransportResult result;
    device::Buffer* response = nullptr;
};

State* stateOf(coap_session_t* session) { return static_cast<State*>(coap_get_app_data(coap_session_get_context(session))); }

int onServerCertificate(const char*, const uint8_t* der, size_t len, coap_session_t*, unsigned depth, int, void* arg) {
    auto* st = static_cast<State*>(arg);
    if (depth != 0) return 1;
    auto fp = protocol::fingerprintFromDer(std::span<const std::uint8_t>(der, len));
    if (fp && std::equal(fp->bytes.begin(), fp->bytes.end(), st->pinned->begin())) return 1;
    st->peerMismatch = true;  // pinning (docs/PROTOCOL.md §1): anything else is refused
    return 0;
}

coap_response_t onResponse(coap_session_t* session, const coap_pdu_t*, const coap_pdu_t* received, const coap_mid_t) {
    State* st = stateOf(session);
    st->result.status = device::TransportStatus::answered;
    st->result.code = static_cast<std::uint8_t>(coap_pdu_get_code(received));
    coap_opt_iterator_t it;
    if (coap_opt_t* opt = coap_check_option(received, COAP_OPTION_CONTENT_FORMAT, &it))
        st->result.contentFormat = static_cast<std::uint16_t>(coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt)));
    size_t len = 0, offset = 0, total = 0;
    const uint8_t* data = nullptr;
    if (coap_get_data_large(received, &len, &data, &offset, &total) && len > 0) {
        if (len > st->response->storage.size()) {
            st->result.status = device::TransportStatus::tooLarge;
        } else {
            std::memcpy(st->response->storage.data(), data, len);
            st->response->size = len;
        }
    }
    st->done = true;
    return COAP_RESPONSE_OK;
}

void onNack(coap_session_t* session, const coap_pdu_t*, const coap_nack_reason_t, const coap_mid_t) {
    stateOf(session)->done = true;
}

int onEvent(coap_session_t* session, const coap_event_t event) {
    if (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_SESSION_FAILED || event == COAP_EVENT_DTLS_CLOSED)
        stateOf(session)->done = true;
    return 0;
}

bool resolve(const char* host, std::uint16_t port, coap_address_t& out) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host, std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) return false;
    coap_address_init(&out);
    out.size = static_cast<socklen_t>(res->ai_addrlen);
    std::memcpy(&out.addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return true;
}

void addPath(coap_optlist_t*& list, const char* path) {
    std::string_view p(path);
    while (!p.empty()) {
        if (p.front() == '/') {
            p.remove_prefix(1);
            continue;
        }
        auto slash = p.find('/');
        auto seg = p.substr(0, slash);
        coap_insert_optlist(&list, coap_new_optlist(COAP_OPTION_URI_PATH, seg.size(), reinterpret_cast<const uint8_t*>(seg.data())));
        p = slash == std::string_view::npos ? std::string_view() : p.substr(slash);
    }
}

void addUint(coap_optlist_t*& list, std::uint16_t number, unsigned value) {
    uint8_t buf[4];
    unsigned len = coap_encode_var_safe(buf, sizeof buf, value);
    coap_insert_optlist(&list, coap_new_optlist(number, len, buf));
}

}  // namespace

CoapTransport::CoapTransport(Options options) : m_options(std::move(options)) {
    coap_startup();
    coap_set_log_level(LOG_EMERG);
}

CoapTransport::~CoapTransport() = default;

device::TransportResult CoapTransport::get(const device::Credentials& self, const device::Endpoint& server,
                                           const device::Fingerprint& pinned, const char* path, const char* query,
                                           std::uint16_t accept, device::Buffer& response) {
    return exchange({&self, server, &pinned, COAP_REQUEST_CODE_GET, path, query, accept, device::kNoContentFormat, {}}, response);
}

device::TransportResult CoapTransport::post(const device::Credentials& self, const device::Endpoint& server,
                                            const device::Fingerprint& pinned, const char* path,
                                            std::uint16_t contentFormat, std::span<const std::uint8_t> payload,
                                            device::Buffer& response) {
    return exchange({&self, server, &pinned, COAP_REQUEST_CODE_POST, path, nullptr, device::kNoContentFormat, contentFormat, payload},
                    response);
}

device::TransportResult CoapTransport::exchange(const Request& rq, device::Buffer& response) {
    State st;
    st.pinned = rq.pinned;
    st.response = &response;
    response.size = 0;
    std::string host = rq.server.host;
    std::uint16_t port = rq.server.port;
    if (m_options.redirectFrom && m_options.redirectTo && host == m_options.redirectFrom->first && port == m_options.redirectFrom->second) {
        host = m_options.redirectTo->first;
        port = m_options.redirectTo->second;
    }
    coap_address_t dst;
    const bool psk = !rq.self->psk.empty();  // PROTOCOL §11: DTLS-PSK, no key pair
    auto key = psk ? Result<Secret>(Secret()) : ecPrivateKeyDer(rq.self->privateKey);
    if (!key || !resolve(host.c_str(), port, dst)) return st.result;  // noAnswer

    coap_context_t* ctx = coap_new_context(nullptr);
    if (ctx == nullptr) return st.result;
    coap_set_app_data(ctx, &st);
    coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    coap_register_response_handler(ctx, &onResponse);
    coap_register_nack_handler(ctx, &onNack);
    coap_register_event_handler(ctx, &onEvent);

    coap_dtls_pki_t pki{};
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.verify_peer_cert = 1;
    pki.allow_self_signed = 1;  // peers are self-signed; the pin decides (onServerCertificate)
    pki.validate_cn_call_back = &onServerCertificate;
    pki.cn_call_back_arg = &st;
    pki.pki_key.key_type = COAP_PKI_KEY_ASN1;
    pki.pki_key.key.asn1.public_cert = rq.self->certificate.data();
    pki.pki_key.key.asn1.public_cert_len = rq.self->certificate.size();
    pki.pki_key.key.asn1.private_key = key->bytes().data();
    pki.pki_key.key.asn1.private_key_len = key->size();
    pki.pki_key.key.asn1.private_key_type = COAP_ASN1_PKEY_EC;
    coap_dtls_cpsk_t cpsk{};
    cpsk.version = COAP_DTLS_CPSK_SETUP_VERSION;
    cpsk.psk_info.identity = {std::strlen(rq.self->pskIdentity), reinterpret_cast<const std::uint8_t*>(rq.self->pskIdentity)};
    cpsk.psk_info.key = {rq.self->psk.size(), rq.self->psk.data()};
    coap_session_t* session = psk ? coap_new_client_session_psk2(ctx, nullptr, &dst, COAP_PROTO_DTLS, &cpsk)
                                  : coap_new_client_session_pki(ctx, nullptr, &dst, COAP_PROTO_DTLS, &pki);
    if (session != nullptr) {
        coap_pdu_t* pdu = coap_pdu_init(COAP_MESSAGE_CON, rq.method, coap_new_message_id(session), coap_session_max_pdu_size(session));
        uint8_t token[8];
        size_t tokenLen = 0;
        coap_session_new_token(session, &tokenLen, token);
        coap_add_token(pdu, tokenLen, token);
        coap_optlist_t* options = nullptr;
        addPath(options, rq.path);
        if (rq.contentFormat != device::kNoContentFormat) addUint(options, COAP_OPTION_CONTENT_FORMAT, rq.contentFormat);
        if (rq.query != nullptr)
            coap_insert_optlist(&options, coap_new_optlist(COAP_OPTION_URI_QUERY, std::strlen(rq.query),
                                                           reinterpret_cast<const uint8_t*>(rq.query)));
        if (rq.accept != device::kNoContentFormat) addUint(options, COAP_OPTION_ACCEPT, rq.accept);
        coap_add_optlist_pdu(pdu, &options);
        coap_delete_optlist(options);
        if (!rq.payload.empty()) coap_add_data(pdu, rq.payload.size(), rq.payload.data());
        if (coap_send(session, pdu) != COAP_INVALID_MID) {
            auto end = std::chrono::steady_clock::now() + m_options.timeout;
            while (!st.done && std::chrono::steady_clock::now() < end) coap_io_process(ctx, 50);
        }
    }
    coap_free_context(ctx);  // releases the session
    if (st.peerMismatch) st.result.status = device::TransportStatus::peerMismatch;
    return st.result;
}

}  // namespace tte::devicehost
