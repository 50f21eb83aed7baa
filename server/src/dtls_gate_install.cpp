// The DTLS cookie gate's installation into libcoap 4.3.1 (dtls_gate_install.h).
#include "dtls_gate_install.h"

#include <openssl/err.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>

#include "dtls_gate.h"

namespace tte::server {
namespace {

/// Where libcoap's DTLS SSL_CTX keeps the gate whose cookies it checks (an ex-data index,
/// taken once per process and never changed).
int gateIndex() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

/// libcoap's cookie check (OpenSSL's DTLSv1_listen, for a ClientHello with a cookie): the
/// gate's verdict. Every ClientHello libcoap reads was screened by the gate first, which hands
/// on only those whose cookie it made for their source, and remembers their cookies.
int verifyGateCookie(SSL* ssl, const unsigned char* cookie, unsigned int length) {
    const auto* gate = static_cast<const DtlsGate*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), gateIndex()));
    return gate != nullptr && gate->admitted(std::span<const std::uint8_t>(cookie, length)) ? 1 : 0;
}

/// libcoap's cookie making (DTLSv1_listen, for a ClientHello without a valid cookie): never
/// needed, as the gate answers those itself; failing makes OpenSSL drop the datagram.
int refuseCookie(SSL*, unsigned char*, unsigned int*) { return 0; }

}  // namespace

int boundUdpSocket(int family, std::uint16_t port) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        int fd = -1;
        const std::string name = entry.path().filename().string();
        if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc()) continue;
        int type = 0;
        socklen_t len = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_DGRAM) continue;
        sockaddr_storage addr{};
        len = sizeof addr;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.ss_family != family) continue;
        const std::uint16_t bound = family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port)
                                                      : ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
        if (bound == port) return fd;
    }
    return -1;
}

Status handshakeWithEndpoint(coap_context_t* ctx, const coap_address_t& bound, const std::function<bool()>& found) {
    sockaddr_storage to{};
    socklen_t toLength = bound.size;
    std::memcpy(&to, &bound.addr, bound.size);
    if (to.ss_family == AF_INET) {
        auto& a = reinterpret_cast<sockaddr_in&>(to);
        if (a.sin_addr.s_addr == htonl(INADDR_ANY)) a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
        auto& a = reinterpret_cast<sockaddr_in6&>(to);
        if (IN6_IS_ADDR_UNSPECIFIED(&a.sin6_addr)) a.sin6_addr = in6addr_loopback;
    }
    const int fd = ::socket(to.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&to), toLength) != 0) {
        const int e = errno;
        if (fd >= 0) ::close(fd);
        return failNative(Errc::io, "cannot reach the CoAP/DTLS endpoint to install the DTLS cookie gate", "errno", e, std::strerror(e));
    }
    SSL_CTX* clientCtx = SSL_CTX_new(DTLS_client_method());
    SSL* client = clientCtx != nullptr ? SSL_new(clientCtx) : nullptr;
    BIO* bio = client != nullptr ? BIO_new_dgram(fd, BIO_NOCLOSE) : nullptr;
    if (bio != nullptr) {
        BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &to);
        SSL_set_bio(client, bio, bio);
        SSL_set_min_proto_version(client, DTLS1_2_VERSION);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!found() && std::chrono::steady_clock::now() < deadline) {
            (void)SSL_connect(client);           // sends its ClientHello, then the one with the cookie
            (void)DTLSv1_handle_timeout(client);  // or again, if one was lost
            coap_io_process(ctx, 10);
        }
    }
    ERR_clear_error();
    if (client != nullptr) SSL_free(client);
    if (clientCtx != nullptr) SSL_CTX_free(clientCtx);
    ::close(fd);
    return {};
}

Status attachCookieGate(SSL_CTX* dtlsContext, const DtlsGate& gate) {
    if (SSL_CTX_set_ex_data(dtlsContext, gateIndex(), const_cast<DtlsGate*>(&gate)) != 1)
        return fail(Errc::internal, "OpenSSL: cannot attach the DTLS cookie gate to libcoap's SSL_CTX");
    SSL_CTX_set_cookie_verify_cb(dtlsContext, &verifyGateCookie);
    SSL_CTX_set_cookie_generate_cb(dtlsContext, &refuseCookie);
    return {};
}

}  // namespace tte::server
