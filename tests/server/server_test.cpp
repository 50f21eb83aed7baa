// tte::server on loopback: an identity made and parsed, the HTTPS server's answers, limits,
// headers and client-certificate fingerprint, the same server as plain HTTP, the CoAP/DTLS
// server's fingerprint and reply, listen addresses and the ports file.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "dtls_gate_install.h"
#include "support/dtls_datagrams.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "support/mothership.h"
#include "tte/client/https_client.h"
#include "tte/protocol/dtls_hello.h"
#include "tte/protocol/fingerprint.h"
#include "tte/server/coap_server.h"
#include "tte/server/https_server.h"
#include "tte/server/listen.h"
#include "tte/server/tls.h"

namespace tte::server {

void PrintTo(const CoapGateCounts& c, std::ostream* os) {
    *os << "{helloVerifyRequests " << c.helloVerifyRequests << ", admitted " << c.admitted << ", rateLimited "
        << c.rateLimited << ", malformedDropped " << c.malformedDropped << "}";
}

namespace {

CertifiedKey identity(SelfSigned* made = nullptr) {
    auto m = makeSelfSignedP256("tte-test", 1);
    EXPECT_TRUE(m) << m.error().toString();
    auto k = certifiedKeyFromPem(m->certPem, m->keyPem);
    EXPECT_TRUE(k) << k.error().toString();
    EXPECT_EQ(k->fingerprint(), protocol::fingerprintFromPem(m->certPem)->hex());
    if (made) *made = std::move(*m);
    return std::move(*k);
}

/// A device's certificate and key as files in `dir` (d.pem, d.key), for test::coapGet.
CertifiedKey writeDeviceIdentity(const test::TempDir& dir) {
    SelfSigned deviceId;
    CertifiedKey device = identity(&deviceId);
    test::writeFile(dir.path() / "d.pem", deviceId.certPem);
    test::writeFile(dir.path() / "d.key", std::string(deviceId.keyPem.view()));
    return device;
}

TEST(Tls, SelfSignedIdentityAndItsChecks) {
    SelfSigned made;
    const CertifiedKey k = identity(&made);
    EXPECT_EQ(k.fingerprint().size(), 64u);
    EXPECT_EQ(k.share().fingerprint(), k.fingerprint());
    EXPECT_EQ(certifiedKeyFromPem("nope", made.keyPem).error().message, "not a PEM certificate");
    EXPECT_EQ(certifiedKeyFromPem(made.certPem, Secret(std::string_view("nope"))).error().message, "not a PEM private key");
    SelfSigned other;
    identity(&other);
    EXPECT_EQ(certifiedKeyFromPem(made.certPem, other.keyPem).error().message,
              "the private key does not belong to the certificate");
}

TEST(HttpsServer, AnswersWithTheHandlerWithinItsLimits) {
    const CertifiedKey k = identity();
    HttpsServerOptions o;
    o.port = 0;
    o.bodyLimit = 64;
    o.handlers = 2;
    o.headers = {{"Cache-Control", "no-store"}};
    std::atomic<int> served{0}, refused{0};
    HttpsObserver observer;
    observer.served = [&](const HttpRequest&, const HttpResponse&, std::chrono::microseconds) { ++served; };
    observer.refused = [&](int status) { refused += status; };
    auto s = HttpsServer::create(
        o, k,
        [](const HttpRequest& r) {
            return HttpResponse{r.method == "POST" ? 201 : 200, "text/plain", r.method + " " + r.target + " " + r.body,
                                {{"X-Client", r.client}}};
        },
        observer);
    ASSERT_TRUE(s) << s.error().toString();
    (*s)->start();
    const auto pin = client::HttpsOptions::pinned(k.fingerprint(), std::chrono::seconds(10));
    const std::string base = "https://127.0.0.1:" + std::to_string((*s)->port());
    auto get = client::httpsRequest(pin, "GET", base + "/a?b=c");
    ASSERT_TRUE(get) << get.error().toString();
    EXPECT_EQ(get->status, 200);
    EXPECT_EQ(get->body, "GET /a?b=c ");
    auto post = client::httpsRequest(pin, "POST", base + "/p", "small", "text/plain");
    ASSERT_TRUE(post) << post.error().toString();
    EXPECT_EQ(post->status, 201);
    auto big = client::httpsRequest(pin, "POST", base + "/p", std::string(65, 'x'), "text/plain");
    ASSERT_TRUE(big) << big.error().toString();
    EXPECT_EQ(big->status, 413);
    EXPECT_EQ(big->body, "{\"error\":\"invalid-argument\",\"message\":\"request too large\"}\n");
    EXPECT_EQ(served.load(), 2);
    EXPECT_EQ(refused.load(), 413);
    auto wrongPin = client::httpsRequest(client::HttpsOptions::pinned(std::string(64, '0')), "GET", base + "/");
    ASSERT_FALSE(wrongPin);
    EXPECT_EQ(wrongPin.error().code, Errc::unauthenticated);
    (*s)->stop(std::chrono::seconds(1));
    (*s)->stop(std::chrono::seconds(1));  // idempotent
}

TEST(HttpsServer, HandsOnTheClientCertificatesFingerprint) {
    test::TempDir dir;
    const CertifiedKey k = identity();
    SelfSigned clientId;
    const CertifiedKey clientKey = identity(&clientId);
    test::writeFile(dir.path() / "c.pem", clientId.certPem);
    test::writeFile(dir.path() / "c.key", std::string(clientId.keyPem.view()));
    HttpsServerOptions o;
    o.clientCertificates = ClientCertificates::requested;
    auto s = HttpsServer::create(o, k, [](const HttpRequest& r) {
        return HttpResponse{200, "text/plain", r.clientFingerprint.value_or("none"), {}};
    });
    ASSERT_TRUE(s) << s.error().toString();
    (*s)->start();
    auto opts = client::HttpsOptions::pinned(k.fingerprint(), std::chrono::seconds(10));
    const std::string url = "https://127.0.0.1:" + std::to_string((*s)->port()) + "/";
    EXPECT_EQ(client::httpsRequest(opts, "GET", url)->body, "none");
    opts.clientCertFile = (dir.path() / "c.pem").string();
    opts.clientKeyFile = (dir.path() / "c.key").string();
    EXPECT_EQ(client::httpsRequest(opts, "GET", url)->body, clientKey.fingerprint());
}

TEST(HttpsServer, RefusesWhatItCannotServe) {
    const CertifiedKey k = identity();
    HttpsServerOptions o;
    o.address = "localhost";
    EXPECT_EQ(HttpsServer::create(o, k, {}).error().message, "HTTPS listen address 'localhost' is not an IP address");
    o.address = "127.0.0.1";
    auto first = HttpsServer::create(o, k, {});
    ASSERT_TRUE(first);
    o.port = (*first)->port();
    auto taken = HttpsServer::create(o, k, {});
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, Errc::io);
}

TEST(HttpsServer, PlainHttpForAnAdminPort) {
    HttpsServerOptions o;
    o.serverName = "tte-test";
    o.threads = 1;
    o.headers = {{"Cache-Control", "no-store"}};
    auto s = HttpsServer::createPlain(o, [](const HttpRequest& r) {
        return HttpResponse{r.target == "/metrics" ? 200 : 404, "text/plain", r.method + " " + r.target, {}};
    });
    ASSERT_TRUE(s) << s.error().toString();
    (*s)->start();
    auto metrics = test::http((*s)->port(), "/metrics");
    ASSERT_EQ(metrics.error, "");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_EQ(metrics.body, "GET /metrics");
    EXPECT_EQ(metrics.headers["server"], "tte-test");
    EXPECT_EQ(metrics.headers["cache-control"], "no-store");
    EXPECT_EQ(test::http((*s)->port(), "/other").status, 404);
    // TLS to a plain port: no answer, and the server goes on serving.
    const auto pin = client::HttpsOptions::pinned(std::string(64, '0'), std::chrono::seconds(5));
    EXPECT_FALSE(client::httpsRequest(pin, "GET", "https://127.0.0.1:" + std::to_string((*s)->port()) + "/metrics"));
    EXPECT_EQ(test::http((*s)->port(), "/metrics").status, 200);
    (*s)->stop(std::chrono::seconds(1));
    o.address = "localhost";
    EXPECT_EQ(HttpsServer::createPlain(o, {}).error().message, "HTTP listen address 'localhost' is not an IP address");
}

TEST(CoapServer, RepliesWithThePeersFingerprint) {
    test::TempDir dir;
    const CertifiedKey k = identity();
    const CertifiedKey device = writeDeviceIdentity(dir);
    std::atomic<int> sessions{0};
    CoapObserver observer;
    observer.session = [&](bool opened) { sessions += opened ? 1 : 0; };
    auto s = CoapServer::create({"127.0.0.1", 0}, k.share(), {}, observer);
    ASSERT_TRUE(s) << s.error().toString();
    (*s)->addResource(".well-known/tte", CoapMethod::get, [](const CoapRequest& r) {
        const std::string text = std::string(r.query) + "|" + r.peerFingerprint.value_or("none") + "|" +
                                 std::to_string(r.accept.value_or(0));
        return CoapReply{205, 50u, {text.begin(), text.end()}};
    });
    (*s)->start();
    auto r = test::coapGet((*s)->port(), (dir.path() / "d.pem").string(), (dir.path() / "d.key").string(),
                             k.fingerprint(), "urn:x", 50);
    EXPECT_EQ(r.code, 205);
    EXPECT_EQ(std::string(r.payload.begin(), r.payload.end()), "urn=urn:x|" + device.fingerprint() + "|50");
    EXPECT_EQ(sessions.load(), 1);
    (*s)->stop();
}

/// A UDP socket on 127.0.0.1 sending to `port`, non-blocking.
struct UdpPeer {
    explicit UdpPeer(std::uint16_t port) : fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
        to.sin_family = AF_INET;
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        to.sin_port = htons(port);
    }
    ~UdpPeer() { ::close(fd); }
    void send(const std::vector<std::uint8_t>& d) const {
        (void)::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    }
    /// The datagrams received so far.
    std::vector<std::vector<std::uint8_t>> received() const {
        std::vector<std::vector<std::uint8_t>> all;
        std::uint8_t buf[2048];
        for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) all.emplace_back(buf, buf + n);
        return all;
    }
    int fd;
    sockaddr_in to{};
};

/// What a CoapObserver was told of the cookie gate, summed (the observer runs on the CoAP thread).
class GateTally {
public:
    std::function<void(const CoapGateCounts&)> observer() {
        return [this](const CoapGateCounts& added) {
            std::lock_guard lock(m_mutex);
            m_total.helloVerifyRequests += added.helloVerifyRequests;
            m_total.admitted += added.admitted;
            m_total.rateLimited += added.rateLimited;
            m_total.malformedDropped += added.malformedDropped;
            EXPECT_NE(added, CoapGateCounts{}) << "told of a round that counted nothing";
        };
    }
    CoapGateCounts total() {
        std::lock_guard lock(m_mutex);
        return m_total;
    }

private:
    std::mutex m_mutex;
    CoapGateCounts m_total;
};

/// A minimal DTLS 1.2 ClientHello without a cookie (record sequence `seq`), or in `epoch`.
std::vector<std::uint8_t> bareClientHello(std::uint8_t seq, std::uint8_t epoch = 0) { return test::clientHello(seq, epoch); }

/// An in-process server on 127.0.0.1 that answers GET .well-known/tte with 2.05, with the
/// sessions it made and what its cookie gate did, and a device identity in `dir` for deviceGet().
struct GatedServer {
    test::TempDir dir;
    const CertifiedKey k = identity();
    std::atomic<int> sessions{0};
    GateTally gate;
    std::unique_ptr<CoapServer> server;

    /// Creates and starts `server`: "", or why it could not.
    std::string start() {
        (void)writeDeviceIdentity(dir);
        CoapObserver observer;
        observer.session = [this](bool opened) { sessions += opened ? 1 : 0; };
        observer.gate = gate.observer();
        auto s = CoapServer::create({"127.0.0.1", 0}, k.share(), {}, observer);
        if (!s) return s.error().toString();
        server = std::move(*s);
        server->addResource(".well-known/tte", CoapMethod::get, [](const CoapRequest&) { return CoapReply{205, 0u, {}}; });
        server->start();
        return "";
    }
    /// A real client's GET over DTLS with the device identity: the CoAP code of the answer.
    int deviceGet() const {
        return test::coapGet(server->port(), (dir.path() / "d.pem").string(), (dir.path() / "d.key").string(), k.fingerprint(),
                             "urn:x")
            .code;
    }
};

// The cookie gate on the real socket: ClientHellos without a cookie, one after the other and
// between ClientHello-looking datagrams that are none, are each answered by the gate and never
// reach libcoap (no session), the others are dropped, and a real client is served meanwhile.
// (A peek offset left one datagram too far once let libcoap read what the gate had not seen.)
TEST(CoapServer, TheCookieGateAnswersEachBareClientHelloAndDropsFakeOnes) {
    GatedServer g;
    ASSERT_EQ(g.start(), "");
    UdpPeer hellos(g.server->port()), fakes(g.server->port());
    constexpr int kHellos = 40;
    for (int i = 0; i < kHellos; ++i) {
        hellos.send(bareClientHello(static_cast<std::uint8_t>(i)));
        fakes.send(bareClientHello(static_cast<std::uint8_t>(i), 1));  // epoch 1, from a peer without a session
    }
    std::vector<std::vector<std::uint8_t>> answers;
    EXPECT_TRUE(test::waitFor([&] {
        for (auto& a : hellos.received()) answers.push_back(std::move(a));
        return answers.size() >= static_cast<std::size_t>(kHellos);
    }, std::chrono::seconds(10))) << answers.size() << " HelloVerifyRequests";
    for (std::size_t i = 0; i < answers.size(); ++i) {
        ASSERT_GE(answers[i].size(), 13u + 12 + 3 + 32);
        EXPECT_EQ(answers[i][13], 3) << "not a HelloVerifyRequest";
        EXPECT_EQ(answers[i][10], i) << "the record sequence number of the ClientHello it answers";
        EXPECT_EQ(answers[i][13 + 12 + 2], 32) << "a 32-byte cookie";
    }
    // The observer is told what the gate did: each bare ClientHello answered, each fake dropped
    // (the start-up handshake not counted).
    constexpr std::uint64_t kCounted = kHellos;
    EXPECT_TRUE(test::waitFor([&] { return g.gate.total().malformedDropped == kCounted; }, std::chrono::seconds(10)));
    EXPECT_EQ(g.gate.total(), (CoapGateCounts{kCounted, 0, 0, kCounted}));
    EXPECT_EQ(g.deviceGet(), 205);
    EXPECT_TRUE(fakes.received().empty()) << "an answer to a ClientHello in epoch 1";
    EXPECT_EQ(g.sessions.load(), 1) << "only the real client has a session";
    // The real client's cookie exchange: one more HelloVerifyRequest, its ClientHello handed on
    // (twice only if the client retransmitted it).
    const auto after = g.gate.total();
    EXPECT_GE(after.helloVerifyRequests, kCounted + 1);
    EXPECT_GE(after.admitted, 1u);
    EXPECT_EQ(after.rateLimited, 0u);
    EXPECT_EQ(after.malformedDropped, kCounted);
    g.server->stop();
}

// The per-address limit on the real socket, counted exactly: 12 ports of one address each
// answer the gate's cookie at once; with 1 handshake per second (8 at once), 8 are handed to
// libcoap and 4 dropped, and the observer is told so. All 12 are screened in one round or a
// few close together (the bucket gains a token a second).
TEST(CoapServer, TheCookieGateCountsWhatItAnswersAdmitsAndLimits) {
    const CertifiedKey k = identity();
    GateTally gate;
    CoapObserver observer;
    observer.gate = gate.observer();
    CoapServerOptions options{"127.0.0.1", 0};
    options.handshakesPerAddressPerSecond = 1;  // a burst of kHandshakeBurstSeconds: 8
    auto s = CoapServer::create(options, k.share(), {}, observer);
    ASSERT_TRUE(s) << s.error().toString();
    (*s)->start();
    constexpr std::size_t kPorts = 12;
    std::vector<std::unique_ptr<UdpPeer>> peers;
    for (std::size_t i = 0; i < kPorts; ++i) {
        peers.push_back(std::make_unique<UdpPeer>((*s)->port()));
        peers.back()->send(test::clientHello(static_cast<std::uint8_t>(i)));
    }
    std::vector<std::vector<std::uint8_t>> cookies(kPorts);
    ASSERT_TRUE(test::waitFor([&] {
        std::size_t have = 0;
        for (std::size_t i = 0; i < kPorts; ++i) {
            for (const auto& d : peers[i]->received())
                if (cookies[i].empty()) cookies[i] = test::helloVerifyCookie(d);
            have += !cookies[i].empty();
        }
        return have == kPorts;
    }, std::chrono::seconds(10))) << "a port got no HelloVerifyRequest";
    EXPECT_TRUE(test::waitFor([&] { return gate.total().helloVerifyRequests == kPorts; }, std::chrono::seconds(10)));
    EXPECT_EQ(gate.total(), (CoapGateCounts{kPorts, 0, 0, 0}));
    for (std::size_t i = 0; i < kPorts; ++i) peers[i]->send(test::clientHello(static_cast<std::uint8_t>(i), 0, cookies[i]));
    EXPECT_TRUE(test::waitFor([&] {
        const auto t = gate.total();
        return t.admitted + t.rateLimited == kPorts;
    }, std::chrono::seconds(10)));
    EXPECT_EQ(gate.total(), (CoapGateCounts{kPorts, 8, 4, 0}));
    (*s)->stop();
}

// An ICMP error about an earlier datagram (port unreachable: ECONNREFUSED) is kept on the
// endpoint's socket until a call on it finds it. Linux keeps it for an unconnected UDP socket only
// with IP_RECVERR, which libcoap does not set; the test sets it to make one, by sending from the
// server's socket to a closed port. The gate's next peek finds the error: it must look again and
// answer the ClientHello behind it – not hand libcoap a read, which took that ClientHello
// unscreened (a session for a cookie-less source, and no answer). The loop goes on serving.
TEST(CoapServer, APendingSocketErrorNeitherStopsTheGateNorLetsAClientHelloPast) {
    GatedServer g;
    ASSERT_EQ(g.start(), "");
    const int fd = boundUdpSocket(AF_INET, g.server->port());  // the in-process server's
    ASSERT_GE(fd, 0);
    const int on = 1, off = 0;
    ASSERT_EQ(setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on), 0);
    sockaddr_in closed{};  // a port of loopback that was bound and closed again
    {
        UdpPeer gone(g.server->port());
        gone.send({0});  // binds it
        socklen_t len = sizeof closed;
        ASSERT_EQ(getsockname(gone.fd, reinterpret_cast<sockaddr*>(&closed), &len), 0);
    }
    constexpr int kRounds = 5;
    for (int i = 0; i < kRounds; ++i) {
        const std::uint8_t x = 0;
        ASSERT_EQ(::sendto(fd, &x, 1, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&closed), sizeof closed), 1);
        // Over loopback the ICMP error is back before sendto returns (SO_ERROR, or a read of the
        // error queue, would clear it: not looked at here).
        UdpPeer peer(g.server->port());
        peer.send(bareClientHello(static_cast<std::uint8_t>(i)));
        std::vector<std::vector<std::uint8_t>> answers;
        EXPECT_TRUE(test::waitFor([&] {
            answers = peer.received();
            return !answers.empty();
        }, std::chrono::seconds(5))) << "round " << i << ": the ClientHello behind the socket error got no HelloVerifyRequest";
        if (!answers.empty()) {
            EXPECT_EQ(answers.front()[13], 3) << "not a HelloVerifyRequest";
        }
        // The error queue emptied (libcoap never reads it), so that epoll stops reporting EPOLLERR.
        msghdr drain{};
        while (::recvmsg(fd, &drain, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) {
        }
    }
    ASSERT_EQ(setsockopt(fd, IPPROTO_IP, IP_RECVERR, &off, sizeof off), 0);
    EXPECT_TRUE(test::waitFor([&] { return g.gate.total().helloVerifyRequests == kRounds; }, std::chrono::seconds(5)));
    EXPECT_EQ(g.sessions.load(), 0) << "a ClientHello reached libcoap";
    EXPECT_EQ(g.deviceGet(), 205);
    EXPECT_EQ(g.sessions.load(), 1);
    g.server->stop();
}

// The gate is installed on an IPv6 endpoint and on a wildcard one too (its start-up handshake
// goes to the bound address, or to loopback), and answers a bare ClientHello there.
TEST(CoapServer, TheCookieGateStartsOnIpv6AndWildcardEndpoints) {
    const CertifiedKey k = identity();
    for (const char* address : {"::1", "0.0.0.0"}) {
        auto s = CoapServer::create({address, 0}, k.share());
        ASSERT_TRUE(s) << address << ": " << s.error().toString();
        (*s)->start();
        if (std::string_view(address) == "0.0.0.0") {
            UdpPeer peer((*s)->port());
            peer.send(bareClientHello(7));
            std::vector<std::vector<std::uint8_t>> answers;
            EXPECT_TRUE(test::waitFor([&] {
                answers = peer.received();
                return !answers.empty();
            }, std::chrono::seconds(10)));
            if (!answers.empty()) {
                EXPECT_EQ(answers.front()[13], 3) << "not a HelloVerifyRequest";
            }
        }
        (*s)->stop();
    }
}

TEST(CoapServer, ADeferredReplyIsSentWhenAnotherThreadGivesIt) {
    test::TempDir dir;
    const CertifiedKey k = identity();
    (void)writeDeviceIdentity(dir);
    std::mutex mutex;
    std::vector<std::thread> repliers;
    std::atomic<int> calls{0}, replied{0};
    CoapObserver observer;
    observer.replied = [&](int code) { replied += code == 205 ? 1 : 100; };
    auto s = CoapServer::create({"127.0.0.1", 0}, k.share(), {}, observer);
    ASSERT_TRUE(s) << s.error().toString();
    (*s)->addResource(".well-known/tte", CoapMethod::get, [&](const CoapRequest& r) -> CoapAnswer {
        ++calls;
        const std::string text = "later:" + std::string(r.query);
        return CoapDeferred{[&, text](CoapResponder respond) {
            std::lock_guard lock(mutex);
            // Another thread answers, twice: the second reply is ignored.
            repliers.emplace_back([respond, text] {
                respond(CoapReply{205, 0u, {text.begin(), text.end()}});
                respond(CoapReply{500, 0u, {}});
            });
        }};
    });
    (*s)->start();
    for (const std::string urn : {"urn:a", "urn:b"}) {  // a second request after the first separate response
        auto r = test::coapGet((*s)->port(), (dir.path() / "d.pem").string(), (dir.path() / "d.key").string(),
                               k.fingerprint(), urn);
        EXPECT_EQ(r.code, 205);
        EXPECT_EQ(std::string(r.payload.begin(), r.payload.end()), "later:urn=" + urn);
    }
    (*s)->stop();
    for (auto& t : repliers) t.join();
    EXPECT_EQ(calls.load(), 2);  // each request reached the handler once
    EXPECT_EQ(replied.load(), 2);
}

TEST(Listen, AddressesAndThePortsFile) {
    EXPECT_EQ(*parseListenAddress("[::1]:0", "x"), (protocol::HostPort{"::1", 0}));
    EXPECT_EQ(parseListenAddress("host:1", "--listen").error().message, "--listen: 'host' is not an IP address");
    EXPECT_EQ(parseListenAddress("1.2.3.4", "--listen").error().message,
              "--listen must be ADDR:PORT or [IPv6]:PORT, got '1.2.3.4'");
    test::TempDir dir;
    const auto file = (dir.path() / "ports.json").string();
    ASSERT_TRUE(writePortsFile(file, {{"https", "127.0.0.1:1"}, {"coaps", "[::1]:2"}}));
    EXPECT_EQ(nlohmann::json::parse(test::readText(file)), nlohmann::json({{"https", "127.0.0.1:1"}, {"coaps", "[::1]:2"}}));
    EXPECT_FALSE(writePortsFile((dir.path() / "no/such/dir/p").string(), {}));
}

}  // namespace
}  // namespace tte::server
