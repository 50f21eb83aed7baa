// Boost.Beast HTTPS server: accept loop, TLS handshake, keep-alive request loop.
#include "tte/controller/https_server.h"

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <thread>
#include <vector>

namespace tte::controller {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr std::size_t kBodyLimit = 64 * 1024;

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket socket, asio::ssl::context& ctx, const HttpsServer::Handler& handler)
        : m_stream(std::move(socket), ctx), m_handler(handler) {}

    void run() {
        beast::get_lowest_layer(m_stream).expires_after(kIdleTimeout);
        m_stream.async_handshake(asio::ssl::stream_base::server,
                                 [self = shared_from_this()](beast::error_code ec) {
                                     if (!ec) self->read();
                                 });
    }

private:
    void read() {
        m_parser.emplace();
        m_parser->body_limit(kBodyLimit);
        beast::get_lowest_layer(m_stream).expires_after(kIdleTimeout);
        http::async_read(m_stream, m_buffer, *m_parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec == http::error::body_limit) return self->reply(413, "request body too large", false);
            if (ec) return self->close();
            self->handle();
        });
    }

    void handle() {
        auto& req = m_parser->get();
        HttpAnswer answer = m_handler(std::string_view(req.method_string().data(), req.method_string().size()),
                                      std::string_view(req.target().data(), req.target().size()), req.body());
        send(answer, req.keep_alive(), req.version());
    }

    void reply(int status, const std::string& message, bool keepAlive) {
        send(HttpAnswer{status, "application/json", errorBody(Errc::invalidArgument, message)}, keepAlive, 11);
    }

    void send(const HttpAnswer& answer, bool keepAlive, unsigned version) {
        auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(answer.status), version);
        res->set(http::field::server, "tte-controller");
        res->set(http::field::content_type, answer.contentType);
        res->keep_alive(keepAlive);
        res->body() = answer.body;
        res->prepare_payload();
        http::async_write(m_stream, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
            if (ec || !res->keep_alive()) return self->close();
            self->read();
        });
    }

    void close() {
        beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(2));
        m_stream.async_shutdown([self = shared_from_this()](beast::error_code) {
            beast::get_lowest_layer(self->m_stream).close();
        });
    }

    beast::ssl_stream<beast::tcp_stream> m_stream;
    beast::flat_buffer m_buffer;
    std::optional<http::request_parser<http::string_body>> m_parser;
    const HttpsServer::Handler& m_handler;
};

}  // namespace

struct HttpsServer::Impl {
    Handler handler;
    asio::io_context io;
    asio::ssl::context ssl{asio::ssl::context::tls_server};
    tcp::acceptor acceptor{io};
    std::vector<std::thread> threads;

    void accept() {
        acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
            if (ec) return;  // acceptor closed
            std::make_shared<Session>(std::move(socket), ssl, handler)->run();
            accept();
        });
    }
};

HttpsServer::HttpsServer(Handler handler) : m_impl(std::make_unique<Impl>()) { m_impl->handler = std::move(handler); }

HttpsServer::~HttpsServer() { stop(); }

Result<std::uint16_t> HttpsServer::start(const std::string& address, std::uint16_t port, const std::string& certPem,
                                         const Secret& keyPem, int threads) {
    auto& im = *m_impl;
    beast::error_code ec;
    im.ssl.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    im.ssl.use_certificate_chain(asio::buffer(certPem), ec);
    if (ec) return fail(Errc::invalidArgument, "HTTPS certificate: " + ec.message());
    im.ssl.use_private_key(asio::buffer(keyPem.bytes().data(), keyPem.size()), asio::ssl::context::pem, ec);
    if (ec) return fail(Errc::invalidArgument, "HTTPS private key: " + ec.message());
    auto ip = asio::ip::make_address(address, ec);
    if (ec) return fail(Errc::invalidArgument, "bad listen address " + address);
    tcp::endpoint ep(ip, port);
    im.acceptor.open(ep.protocol(), ec);
    if (!ec) im.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) im.acceptor.bind(ep, ec);
    if (!ec) im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return failNative(Errc::unavailable, "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message(),
                          "errno", ec.value());
    std::uint16_t bound = im.acceptor.local_endpoint().port();
    im.accept();
    for (int i = 0; i < threads; ++i) im.threads.emplace_back([&im] { im.io.run(); });
    return bound;
}

void HttpsServer::stop() {
    auto& im = *m_impl;
    if (im.threads.empty()) return;
    asio::post(im.io, [&im] {
        beast::error_code ec;
        im.acceptor.close(ec);
    });
    im.io.stop();
    for (auto& t : im.threads) t.join();
    im.threads.clear();
}

}  // namespace tte::controller
