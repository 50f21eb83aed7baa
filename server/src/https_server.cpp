// Boost.Beast HTTPS server, and the same without TLS (https_server.h).
#include "tte/server/https_server.h"

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without including it

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <list>
#include <mutex>
#include <thread>
#include <type_traits>

#include "tte/protocol/mothership_messages.h"

namespace tte::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct Shared {
    Handler handler;
    HttpsObserver observer;
    HttpsServerOptions options;
    /// Runs the handler when it may wait (a durable commit): while it waits, the I/O threads
    /// go on with TLS and HTTP for other connections. Null: the handler runs on the I/O thread.
    asio::thread_pool* handlers;
    std::atomic<bool> stopping{false};
};

/// What the server keeps of a connection, TLS or not.
class Connection {
public:
    virtual ~Connection() = default;
    /// Closes the connection if it is waiting for a request (shutdown); a request being
    /// handled finishes and the connection closes after its response.
    virtual void closeIfIdle() = 0;
};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using PlainStream = beast::tcp_stream;

/// One connection: HTTP/1.1 requests in turn over `Stream`, TLS (TlsStream) or not (PlainStream).
template <class Stream>
class Session final : public Connection, public std::enable_shared_from_this<Session<Stream>> {
    static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
    using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

public:
    Session(tcp::socket socket, ssl::context* ctx, Shared& shared) : m_stream(makeStream(std::move(socket), ctx)), m_shared(shared) {
        beast::error_code ec;
        auto ep = beast::get_lowest_layer(m_stream).socket().remote_endpoint(ec);
        m_client = ec ? "unknown" : ep.address().to_string();
    }

    void run() {
        if constexpr (kTls) {
            beast::get_lowest_layer(m_stream).expires_after(m_shared.options.readTimeout);
            m_stream.async_handshake(ssl::stream_base::server, beast::bind_front_handler(&Session::onHandshake, shared_from_this()));
        } else {
            readRequest();
        }
    }

    void closeIfIdle() override {
        asio::post(m_stream.get_executor(), [self = shared_from_this()] {
            if (self->m_idle) beast::get_lowest_layer(self->m_stream).cancel();
        });
    }

private:
    static Stream makeStream(tcp::socket socket, [[maybe_unused]] ssl::context* ctx) {
        if constexpr (kTls) return Stream(std::move(socket), *ctx);
        else return Stream(std::move(socket));
    }

    void onHandshake(beast::error_code ec) {
        if (ec) {
            if (m_shared.observer.handshakeFailed) m_shared.observer.handshakeFailed(m_client, ec.message());
            return;
        }
        if (m_shared.options.clientCertificates != ClientCertificates::none)
            m_fingerprint = peerFingerprint(m_stream.native_handle());
        readRequest();
    }

    void readRequest() {
        m_parser.emplace();
        m_parser->body_limit(m_shared.options.bodyLimit);
        m_parser->header_limit(static_cast<std::uint32_t>(m_shared.options.headerLimit));
        m_idle = true;
        if (m_shared.stopping) return close();
        beast::get_lowest_layer(m_stream).expires_after(m_shared.options.readTimeout);
        http::async_read(m_stream, m_buffer, *m_parser, beast::bind_front_handler(&Session::onRead, shared_from_this()));
    }

    void onRead(beast::error_code ec, std::size_t) {
        m_idle = false;
        if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout)
            return close();
        if (ec == http::error::body_limit || ec == http::error::header_limit) return refuse(413, "request too large");
        if (ec) return refuse(400, "malformed HTTP request");
        auto& req = m_parser->get();
        auto request = std::make_shared<HttpRequest>(
            HttpRequest{std::string(req.method_string()), std::string(req.target()), std::move(req.body()),
                        std::string(req[http::field::content_type]), std::string(req[http::field::accept]), m_client,
                        m_fingerprint});
        const unsigned version = req.version();
        const bool keepAlive = req.keep_alive();
        if (m_shared.handlers == nullptr) return send(handle(*request), version, keepAlive);
        asio::post(*m_shared.handlers, [self = shared_from_this(), request, version, keepAlive] {
            auto response = std::make_shared<HttpResponse>(self->handle(*request));
            asio::post(self->m_stream.get_executor(), [self, response, version, keepAlive] {
                self->send(std::move(*response), version, keepAlive);
            });
        });
    }

    HttpResponse handle(const HttpRequest& request) {
        const auto started = std::chrono::steady_clock::now();
        HttpResponse response = m_shared.handler(request);
        if (m_shared.observer.served) {
            m_shared.observer.served(request, response, std::chrono::duration_cast<std::chrono::microseconds>(
                                                            std::chrono::steady_clock::now() - started));
        }
        return response;
    }

    void refuse(int status, const std::string& message) {
        if (m_shared.observer.refused) m_shared.observer.refused(status);
        send(HttpResponse{status, "application/json", protocol::ErrorBody{Errc::invalidArgument, message}.toJson() + "\n", {}},
             11, false);
    }

    void send(HttpResponse r, unsigned version, bool keepAlive) {
        auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
        if (!m_shared.options.serverName.empty()) res->set(http::field::server, m_shared.options.serverName);
        res->set(http::field::content_type, r.contentType);
        for (const auto& [k, v] : m_shared.options.headers) res->set(k, v);
        for (auto& [k, v] : r.headers) res->set(k, v);
        res->body() = std::move(r.body);
        res->keep_alive(keepAlive && !m_shared.stopping);
        res->prepare_payload();
        beast::get_lowest_layer(m_stream).expires_after(m_shared.options.readTimeout);
        http::async_write(m_stream, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
            if (ec || !res->keep_alive()) return self->close();
            self->readRequest();
        });
    }

    void close() {
        if constexpr (kTls) {
            beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(2));
            m_stream.async_shutdown([self = shared_from_this()](beast::error_code) {
                beast::error_code ignored;
                beast::get_lowest_layer(self->m_stream).socket().close(ignored);
            });
        } else {
            beast::error_code ignored;
            m_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            m_stream.socket().close(ignored);
        }
    }

    Stream m_stream;
    Shared& m_shared;
    beast::flat_buffer m_buffer;
    std::optional<http::request_parser<http::string_body>> m_parser;
    std::string m_client;
    std::optional<std::string> m_fingerprint;
    bool m_idle = false;
};

class BeastServer final : public HttpsServer {
public:
    BeastServer(const HttpsServerOptions& options, Handler handler, HttpsObserver observer)
        : m_handlers(options.handlers > 0 ? std::make_unique<asio::thread_pool>(static_cast<std::size_t>(options.handlers))
                                          : nullptr),
          m_acceptor(m_io), m_shared{std::move(handler), std::move(observer), options, m_handlers.get()} {}

    /// With `identity` TLS; without it plain HTTP.
    Status init(const CertifiedKey* identity) {
        const auto& o = m_shared.options;
        if (identity != nullptr) {
            m_ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
            if (auto s = configureTlsServer(m_ctx->native_handle(), *identity, o.clientCertificates); !s) return s;
        }
        beast::error_code ec;
        auto addr = asio::ip::make_address(o.address, ec);
        if (ec)
            return fail(Errc::invalidArgument,
                        std::string(m_ctx ? "HTTPS" : "HTTP") + " listen address '" + o.address + "' is not an IP address");
        tcp::endpoint ep(addr, o.port);
        m_acceptor.open(ep.protocol(), ec);
        if (!ec) m_acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) m_acceptor.bind(ep, ec);
        if (!ec) m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            return failNative(Errc::io, "cannot listen on " + o.address + ":" + std::to_string(o.port) + ": " + ec.message(),
                              "errno", ec.value());
        }
        m_port = m_acceptor.local_endpoint().port();
        return {};
    }

    [[nodiscard]] std::uint16_t port() const override { return m_port; }

    void start() override {
        accept();
        for (int i = 0; i < std::max(1, m_shared.options.threads); ++i) m_threads.emplace_back([this] { m_io.run(); });
    }

    void stop(std::chrono::milliseconds grace) override {
        if (m_threads.empty()) return;
        m_shared.stopping = true;
        asio::post(m_acceptor.get_executor(), [this] {
            beast::error_code ec;
            m_acceptor.close(ec);
        });
        {
            std::lock_guard lock(m_mutex);
            for (auto& w : m_sessions) {
                if (auto s = w.lock()) s->closeIfIdle();
            }
        }
        const auto deadline = std::chrono::steady_clock::now() + grace;
        while (liveSessions() > 0 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // bounded drain at shutdown
        }
        m_io.stop();
        for (auto& t : m_threads) t.join();
        m_threads.clear();
        if (m_handlers) m_handlers->join();  // a handler past the grace finishes its commit; its answer is not sent
    }

    ~BeastServer() override { stop(std::chrono::milliseconds(0)); }

private:
    std::size_t liveSessions() {
        std::lock_guard lock(m_mutex);
        m_sessions.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
        return m_sessions.size();
    }

    void accept() {
        m_acceptor.async_accept(asio::make_strand(m_io), [this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !m_acceptor.is_open()) return;
            if (!ec) {
                if (m_ctx) start(std::make_shared<Session<TlsStream>>(std::move(socket), m_ctx.get(), m_shared));
                else start(std::make_shared<Session<PlainStream>>(std::move(socket), nullptr, m_shared));
            }
            accept();
        });
    }

    template <class Stream>
    void start(std::shared_ptr<Session<Stream>> s) {
        {
            std::lock_guard lock(m_mutex);
            if (m_sessions.size() > 1024) m_sessions.remove_if([](auto& w) { return w.expired(); });
            m_sessions.push_back(s);
        }
        s->run();
    }

    asio::io_context m_io;
    std::unique_ptr<asio::thread_pool> m_handlers;
    std::unique_ptr<ssl::context> m_ctx;  ///< null: plain HTTP
    tcp::acceptor m_acceptor;
    Shared m_shared;
    std::uint16_t m_port = 0;
    std::vector<std::thread> m_threads;
    std::mutex m_mutex;
    std::list<std::weak_ptr<Connection>> m_sessions;
};

}  // namespace

Result<std::unique_ptr<HttpsServer>> HttpsServer::create(const HttpsServerOptions& options, const CertifiedKey& identity,
                                                         Handler handler, HttpsObserver observer) {
    auto server = std::make_unique<BeastServer>(options, std::move(handler), std::move(observer));
    if (auto s = server->init(&identity); !s) return std::unexpected(s.error());
    return server;
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::createPlain(const HttpsServerOptions& options, Handler handler,
                                                              HttpsObserver observer) {
    auto server = std::make_unique<BeastServer>(options, std::move(handler), std::move(observer));
    if (auto s = server->init(nullptr); !s) return std::unexpected(s.error());
    return server;
}

}  // namespace tte::server
