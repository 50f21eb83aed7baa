// Plain-HTTP admin listener on Boost.Beast (admin_listener.h).
#include "tte/mothership/admin_listener.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

namespace tte::mothership {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, const AdminListener::Handler& handler, std::chrono::seconds timeout)
        : m_stream(std::move(socket)), m_handler(handler), m_timeout(timeout) {}

    void read() {
        m_request = {};
        m_stream.expires_after(m_timeout);
        http::async_read(m_stream, m_buffer, m_request, beast::bind_front_handler(&Connection::onRead, shared_from_this()));
    }

private:
    void onRead(beast::error_code ec, std::size_t) {
        if (ec) return close();
        beast::error_code ignored;
        const auto peer = m_stream.socket().remote_endpoint(ignored);
        const HttpRequest request{std::string(m_request.method_string()), std::string(m_request.target()), "", "", "",
                                  peer.address().to_string(), std::nullopt};
        HttpResponse r = m_handler(request);
        auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status),
                                                                       m_request.version());
        res->set(http::field::server, "tte-mothership");
        res->set(http::field::content_type, r.contentType);
        res->set(http::field::cache_control, "no-store");
        for (auto& [k, v] : r.headers) res->set(k, v);
        res->body() = std::move(r.body);
        res->keep_alive(m_request.keep_alive());
        res->prepare_payload();
        m_stream.expires_after(m_timeout);
        http::async_write(m_stream, *res, [self = shared_from_this(), res](beast::error_code wec, std::size_t) {
            if (wec || !res->keep_alive()) return self->close();
            self->read();
        });
    }

    void close() {
        beast::error_code ignored;
        m_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        m_stream.close();
    }

    beast::tcp_stream m_stream;
    const AdminListener::Handler& m_handler;
    std::chrono::seconds m_timeout;
    beast::flat_buffer m_buffer;
    http::request<http::empty_body> m_request;
};

class BeastAdminListener final : public AdminListener {
public:
    BeastAdminListener(AdminListenerOptions options, Handler handler, std::shared_ptr<spdlog::logger> log)
        : m_options(std::move(options)), m_handler(std::move(handler)), m_log(std::move(log)), m_acceptor(m_io) {}
    ~BeastAdminListener() override { stop(); }

    Status init() {
        beast::error_code ec;
        const auto address = asio::ip::make_address(m_options.address, ec);
        if (ec) return fail(Errc::invalidArgument, "admin listen address '" + m_options.address + "' is not an IP address");
        const tcp::endpoint ep(address, m_options.port);
        m_acceptor.open(ep.protocol(), ec);
        if (!ec) m_acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) m_acceptor.bind(ep, ec);
        if (!ec) m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec)
            return failNative(Errc::io, "cannot listen on admin " + m_options.address + ":" + std::to_string(m_options.port) +
                                            ": " + ec.message(), "errno", ec.value());
        m_port = m_acceptor.local_endpoint().port();
        if (!address.is_loopback())
            m_log->warn("event=admin-listener-exposed address={} note=\"/metrics and /readyz are served without "
                        "authentication; keep this address behind a firewall\"", m_options.address);
        return {};
    }

    [[nodiscard]] std::uint16_t port() const override { return m_port; }

    void start() override {
        accept();
        m_thread = std::thread([this] { m_io.run(); });
    }

    void stop() override {
        if (!m_thread.joinable()) return;
        m_io.stop();
        m_thread.join();
    }

private:
    void accept() {
        m_acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) std::make_shared<Connection>(std::move(socket), m_handler, m_options.readTimeout)->read();
            accept();
        });
    }

    AdminListenerOptions m_options;
    Handler m_handler;
    std::shared_ptr<spdlog::logger> m_log;
    asio::io_context m_io;
    tcp::acceptor m_acceptor;
    std::uint16_t m_port = 0;
    std::thread m_thread;
};

}  // namespace

Result<std::unique_ptr<AdminListener>> AdminListener::create(const AdminListenerOptions& options, Handler handler,
                                                             std::shared_ptr<spdlog::logger> log) {
    auto listener = std::make_unique<BeastAdminListener>(options, std::move(handler), std::move(log));
    if (auto s = listener->init(); !s) return std::unexpected(s.error());
    return listener;
}

}  // namespace tte::mothership
