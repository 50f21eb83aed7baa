// A DTLS ClientHello flood at a real tte-mothership while real tte-device processes enroll:
// well-formed DTLS 1.2 ClientHellos (made by OpenSSL's own DTLS client) from 2,000 source
// ports, sent again and again, never completing a handshake. Two attackers:
//   - cookie-less: it never answers the HelloVerifyRequest (what a spoofed source does; each
//     ClientHello is one datagram and needs no answer back), from 127.0.0.1 like the devices;
//   - cookie-answering: it returns the cookie (it owns its addresses), so the server starts a
//     real handshake and sends its flight, which the attacker never answers; from 127.0.0.2,
//     one host with 2,000 ports.
// The legitimate devices must all check in within their retry budget (docs/PROTOCOL.md §7),
// the server's resident memory (/proc/PID/status VmRSS) must stay bounded, and it must go on
// answering CoAP and HTTPS; the cookie gate's counters at /metrics must agree with what the
// attacker sent and received. Figures: docs/SECURITY.md ("ClientHello flood").
//
// At the default `coaps.max_handshake_sessions` (500). Before the MotherShip's cookie gate
// (server/src/dtls_gate.h) this locked every device out: libcoap 4.3.1 kept a session for every
// source address that sent a ClientHello, counted it against that limit for 30 s and ignored
// every new peer while the limit was full. Now a cookie-less ClientHello is answered by the
// gate and leaves nothing behind, and one address may start at most
// `coaps.handshakes_per_address_per_s` (8) handshakes per second, 64 at once.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <fstream>
#include <map>
#include <thread>

#include "support/device_image.h"
#include "support/sites.h"
#include "tte/base/hex.h"

namespace tte {
namespace {

using namespace std::chrono_literals;

/// The retry budget of docs/PROTOCOL.md §7 ("Retry budget under loss"), as tte-device flags.
const std::vector<std::string> kBudget = {"--timeout-ms", "6000", "--retry-base-ms", "200", "--retry-cap-ms", "2000",
                                          "--max-attempts", "6"};

// DTLS record: type(1) version(2) epoch(2) seq(6) length(2); handshake: type(1) length(3)
// message_seq(2) fragment_offset(3) fragment_length(3).
constexpr std::size_t kRecordHeader = 13, kHandshakeHeader = 12;
constexpr std::uint8_t kHandshake = 22, kClientHello = 1, kServerHello = 2, kHelloVerifyRequest = 3;

/// One ClientHello datagram as OpenSSL's DTLS 1.2 client writes it (fresh random, no cookie).
std::vector<std::uint8_t> opensslClientHello() {
    SSL_CTX* ctx = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
    SSL* ssl = SSL_new(ctx);
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl, in, out);
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    SSL_set_mtu(ssl, 1200);
    (void)SSL_connect(ssl);  // writes the ClientHello, then wants to read
    char* data = nullptr;
    const long n = BIO_get_mem_data(out, &data);
    std::vector<std::uint8_t> hello(data, data + n);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return hello;
}

void put24(std::uint8_t* p, std::size_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 16);
    p[1] = static_cast<std::uint8_t>(v >> 8);
    p[2] = static_cast<std::uint8_t>(v);
}

/// The same ClientHello carrying `cookie` (RFC 6347 4.2.1: the second ClientHello, message_seq 1).
std::vector<std::uint8_t> withCookie(const std::vector<std::uint8_t>& hello, std::span<const std::uint8_t> cookie) {
    // body: client_version(2) random(32) session_id(1+n) cookie(1+m) …
    const std::size_t body = kRecordHeader + kHandshakeHeader;
    const std::size_t sessionLen = hello[body + 34];
    const std::size_t cookieAt = body + 35 + sessionLen;
    std::vector<std::uint8_t> out(hello.begin(), hello.begin() + static_cast<long>(cookieAt));
    out.push_back(static_cast<std::uint8_t>(cookie.size()));
    out.insert(out.end(), cookie.begin(), cookie.end());
    out.insert(out.end(), hello.begin() + static_cast<long>(cookieAt + 1 + hello[cookieAt]), hello.end());
    const std::size_t handshakeLen = out.size() - body;
    out[10] = 1;  // record sequence number 1
    out[11] = static_cast<std::uint8_t>((out.size() - kRecordHeader) >> 8);
    out[12] = static_cast<std::uint8_t>(out.size() - kRecordHeader);
    put24(&out[kRecordHeader + 1], handshakeLen);
    out[kRecordHeader + 5] = 1;  // message_seq 1
    put24(&out[kRecordHeader + 9], handshakeLen);
    return out;
}

struct FloodCounters {
    std::uint64_t sent = 0;            ///< ClientHellos sent, cookie-less and with cookie
    std::uint64_t verifyRequests = 0;  ///< HelloVerifyRequests received
    std::uint64_t serverHellos = 0;    ///< datagrams of a server flight (half-open handshakes)
    std::uint64_t portsAnswered = 0;   ///< ports that got any answer
    std::uint64_t portsStarted = 0;    ///< ports whose cookie answer started a handshake (a ServerHello came)
};

/// 2,000 UDP sockets of `from` sending ClientHellos at one port, in sweeps: each sweep sends one
/// from every socket, then reads the answers until all came or 200 ms passed.
class ClientHelloFlood {
public:
    ClientHelloFlood(std::uint16_t target, std::size_t ports, bool answerCookies, const char* from)
        : m_answerCookies(answerCookies), m_hello(opensslClientHello()) {
        m_to.sin_family = AF_INET;
        m_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m_to.sin_port = htons(target);
        if (m_hello.size() < kRecordHeader + kHandshakeHeader + 40 || m_hello[0] != kHandshake || m_hello[kRecordHeader] != kClientHello)
            throw std::runtime_error("OpenSSL wrote no ClientHello");
        for (std::size_t i = 0; i < ports; ++i) {
            Port p;
            p.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            inet_pton(AF_INET, from, &a.sin_addr);
            if (p.fd < 0 || ::bind(p.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
                throw std::runtime_error("flood: socket: " + std::string(std::strerror(errno)));
            p.hello = m_hello;
            RAND_bytes(&p.hello[kRecordHeader + kHandshakeHeader + 2], 32);  // each port its own random
            m_ports.push_back(std::move(p));
        }
        m_thread = std::thread([this] { run(); });
    }
    ~ClientHelloFlood() {
        stop();
        for (auto& p : m_ports) ::close(p.fd);
    }
    void stop() {
        m_stop = true;
        if (m_thread.joinable()) m_thread.join();
    }
    [[nodiscard]] FloodCounters counters() {
        std::lock_guard lock(m_mutex);
        return m_counters;
    }
    [[nodiscard]] std::uint64_t sweeps() const { return m_sweeps; }

private:
    struct Port {
        int fd = -1;
        std::vector<std::uint8_t> hello;  ///< with the cookie once the server sent one
        bool answered = false;
        bool started = false;
    };

    void run() {
        std::vector<pollfd> fds;
        while (!m_stop) {
            for (auto& p : m_ports) (void)::sendto(p.fd, p.hello.data(), p.hello.size(), 0, reinterpret_cast<sockaddr*>(&m_to), sizeof m_to);
            {
                std::lock_guard lock(m_mutex);
                m_counters.sent += m_ports.size();
            }
            // The answers of this sweep: wait on the sockets (a condition), 200 ms at most.
            const auto deadline = std::chrono::steady_clock::now() + 200ms;
            for (;;) {
                fds.clear();
                for (auto& p : m_ports) fds.push_back({p.fd, POLLIN, 0});
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
                if (left <= 0 || m_stop || ::poll(fds.data(), fds.size(), static_cast<int>(left)) <= 0) break;
                for (std::size_t i = 0; i < fds.size(); ++i)
                    if (fds[i].revents & POLLIN) read(m_ports[i]);
            }
            ++m_sweeps;
        }
    }

    void read(Port& p) {
        std::uint8_t buf[2048];
        for (ssize_t n; (n = ::recv(p.fd, buf, sizeof buf, 0)) > 0;) {
            std::lock_guard lock(m_mutex);
            if (!p.answered) m_counters.portsAnswered++;
            p.answered = true;
            if (static_cast<std::size_t>(n) < kRecordHeader + kHandshakeHeader + 3 || buf[0] != kHandshake) continue;
            if (buf[kRecordHeader] == kHelloVerifyRequest) {
                m_counters.verifyRequests++;
                const std::size_t len = buf[kRecordHeader + kHandshakeHeader + 2];
                if (m_answerCookies && kRecordHeader + kHandshakeHeader + 3 + len <= static_cast<std::size_t>(n))
                    p.hello = withCookie(m_hello, std::span<const std::uint8_t>(&buf[kRecordHeader + kHandshakeHeader + 3], len));
            } else if (buf[kRecordHeader] == kServerHello) {
                m_counters.serverHellos++;
                if (!p.started) m_counters.portsStarted++;
                p.started = true;
            }
        }
    }

    bool m_answerCookies;
    std::vector<std::uint8_t> m_hello;
    sockaddr_in m_to{};
    std::vector<Port> m_ports;
    std::mutex m_mutex;
    FloodCounters m_counters;
    std::atomic<bool> m_stop{false};
    std::atomic<std::uint64_t> m_sweeps{0};
    std::thread m_thread;
};

/// The value of the sample `name` (no labels) in the Prometheus text `text`; -1 when absent.
double sample(const std::string& text, const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

/// VmRSS of a process in KiB, 0 when it is gone.
long rssKiB(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

struct DeviceRun {
    test::TestDevice device;
    std::unique_ptr<test::Process> process;
};

class DtlsFlood : public ::testing::Test {
protected:
    void SetUp() override {
        controller = test::startController(site.dir.path(), "controller", {"--no-status-queries", "--accept-unintroduced"});
        ASSERT_FALSE(controller.coaps.empty());
        controllerPort = static_cast<std::uint16_t>(std::stoul(controller.coaps.substr(controller.coaps.rfind(':') + 1)));
    }

    /// `count` devices stored, claimed for the Controller, their images reaching the MotherShip directly.
    void prepareDevices(std::uint32_t count) {
        std::vector<std::tuple<std::uint32_t, std::uint64_t, std::string>> records;
        for (std::uint32_t d = 0x100; d < 0x100 + count; ++d) {
            DeviceRun run;
            run.device = test::makeDeviceImage(site.dir.path(), d, 0x6000000000000000ULL + d, "127.0.0.1",
                                               site.server->coapsPort(), site.pki.dtlsFingerprint);
            records.emplace_back(d, run.device.otp, run.device.fingerprint);
            devices.push_back(std::move(run));
        }
        site.upload(records);
        for (auto& [d, otp, fp] : records) {
            const auto path = "/.well-known/tte?otp=" + toHex(otp, 16) + ",devid=" + toHex(d, 8) +
                              ",cip=127.0.0.1,cport=" + std::to_string(controllerPort) + ",cfingerprint=" + controller.fingerprint;
            auto r = test::https(site.server->httpsPort(), site.pki.caCert, {"POST", path, "", "", "", "", ""});
            ASSERT_EQ(r.status, 200) << r.body << r.error;
        }
    }

    /// Restarts the MotherShip with `coaps.max_handshake_sessions` = `limit`.
    void handshakeLimit(int limit) {
        site.stop();
        auto config = test::readText(site.dir.file("ms.toml"));
        config.replace(config.find("[coaps]\n") + 8, 0, "max_handshake_sessions = " + std::to_string(limit) + "\n");
        test::writeFile(site.dir.file("ms.toml"), config);
        site.start();
    }

    void flood(bool answerCookies, int limit) {
        constexpr std::uint32_t count = 12;
        constexpr std::size_t ports = 2000;
        handshakeLimit(limit);
        prepareDevices(count);
        if (HasFatalFailure()) return;
        const int pid = site.server->pid();
        const long rssBefore = rssKiB(pid);
        // The cookie-less flood from the devices' own address (its sources could be anyone's);
        // the cookie-answering one from a host of its own.
        const auto floodStart = std::chrono::steady_clock::now();
        ClientHelloFlood attacker(site.server->coapsPort(), ports, answerCookies, answerCookies ? "127.0.0.2" : "127.0.0.1");
        // The flood first: every port has sent (and, answering cookies, completed its cookie
        // exchange) before the devices start.
        ASSERT_TRUE(test::waitFor([&] { return attacker.sweeps() >= 3; }, 30s));
        const auto start = std::chrono::steady_clock::now();
        for (auto& d : devices) {
            std::vector<std::string> argv = {(test::binDir() / "tte-device").string(), "run", "--flash", d.device.image.string()};
            argv.insert(argv.end(), kBudget.begin(), kBudget.end());
            d.process = std::make_unique<test::Process>(argv, site.dir.path(), "device-" + toHex(d.device.devId, 8));
        }
        long rssPeak = rssBefore;
        const bool ended = test::waitFor([&] {
            rssPeak = std::max(rssPeak, rssKiB(pid));
            for (auto& d : devices)
                if (!d.process->exited()) return false;
            return true;
        }, 120s);
        const double served = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        // Still under flood: the server answers a CoAP GET and an HTTPS request.
        auto get = test::coapGet(site.server->coapsPort(), site.pki.deviceCert, site.pki.deviceKey, site.pki.dtlsFingerprint,
                                 test::devUrn(0x1ff));
        auto health = test::http(site.server->adminPort(), "/healthz");
        rssPeak = std::max(rssPeak, rssKiB(pid));
        attacker.stop();
        const double flooded = std::chrono::duration<double>(std::chrono::steady_clock::now() - floodStart).count();
        const auto c = attacker.counters();
        // What ops sees of it: the cookie gate's counters. Read once the last datagrams were
        // screened (the attacker stopped; the counts stop moving).
        std::string metrics;
        std::map<std::string, double> gate;
        const auto readGate = [&] {
            metrics = test::http(site.server->adminPort(), "/metrics").body;
            std::map<std::string, double> now;
            for (const char* name : {"tte_dtls_hello_verify_requests_total", "tte_dtls_handshakes_admitted_total",
                                     "tte_dtls_handshakes_rate_limited_total", "tte_dtls_malformed_hellos_total"})
                now[name] = sample(metrics, name);
            const bool still = now == gate;
            gate = std::move(now);
            return still;
        };
        (void)readGate();
        EXPECT_TRUE(test::waitFor(readGate, 10s)) << metrics;
        const double answered = gate["tte_dtls_hello_verify_requests_total"];
        const double admitted = gate["tte_dtls_handshakes_admitted_total"];
        const double limited = gate["tte_dtls_handshakes_rate_limited_total"];

        std::size_t checkedIn = 0;
        const std::string line = "outcome=checked-in controller=127.0.0.1:" + std::to_string(controllerPort);
        for (auto& d : devices) {
            const bool ok = d.process->exited() && d.process->status() == 0 && d.process->out().find(line) != std::string::npos;
            EXPECT_TRUE(ok) << "device " << toHex(d.device.devId, 8) << " was not served within its retry budget:\n"
                            << d.process->out();
            checkedIn += ok;
        }
        std::printf("ClientHello flood (%s, max_handshake_sessions %d) from %zu ports: %llu ClientHellos in %llu sweeps, %llu HelloVerifyRequests, "
                    "%llu ServerHellos (%llu ports started a handshake), %llu ports answered in %.1f s; %zu of %u devices checked in "
                    "within their retry budget in %.1f s; server RSS %ld KiB before, %ld KiB peak (+%ld KiB)\n",
                    answerCookies ? "cookies answered" : "cookie-less", limit, ports, static_cast<unsigned long long>(c.sent),
                    static_cast<unsigned long long>(attacker.sweeps()), static_cast<unsigned long long>(c.verifyRequests),
                    static_cast<unsigned long long>(c.serverHellos), static_cast<unsigned long long>(c.portsStarted),
                    static_cast<unsigned long long>(c.portsAnswered), flooded, checkedIn, count, served, rssBefore, rssPeak,
                    rssPeak - rssBefore);
        std::printf("  /metrics: tte_dtls_hello_verify_requests_total %.0f, tte_dtls_handshakes_admitted_total %.0f, "
                    "tte_dtls_handshakes_rate_limited_total %.0f, tte_dtls_malformed_hellos_total %.0f\n",
                    answered, admitted, limited, gate["tte_dtls_malformed_hellos_total"]);
        EXPECT_TRUE(ended) << "a tte-device outlived its retry budget";
        EXPECT_EQ(checkedIn, count);
        EXPECT_GT(c.verifyRequests, 0u) << "the server sent no HelloVerifyRequest: no stateless cookie exchange";
        // The gate's counters against what the attacker saw and sent: every HelloVerifyRequest it
        // received was counted, and the gate counted no more ClientHellos than the attacker and
        // the devices sent (each device's attempts, retransmissions and the GET above: far
        // fewer than kDeviceHellos).
        constexpr double kDeviceHellos = 1000;
        EXPECT_GE(answered, static_cast<double>(c.verifyRequests)) << metrics;
        EXPECT_LE(answered + admitted + limited, static_cast<double>(c.sent) + kDeviceHellos) << metrics;
        EXPECT_GE(admitted, count + 1.0) << "each device's handshake and the GET's were handed to libcoap\n" << metrics;
        EXPECT_EQ(gate["tte_dtls_malformed_hellos_total"], 0) << metrics;
        if (answerCookies) {
            EXPECT_GT(c.serverHellos, 0u) << "the cookie answers did not start handshakes";
            // The address's bucket: 64 at once, then 8 per second.
            EXPECT_LE(static_cast<double>(c.portsStarted), 64 + 8 * (flooded + 1)) << "one address started more handshakes than its bucket allows";
            // Each port that started a handshake had its cookie ClientHello admitted; the rest of
            // the cookie answers (every port, every sweep after its first) hit the bucket.
            EXPECT_GE(admitted, static_cast<double>(c.portsStarted)) << metrics;
            EXPECT_LE(admitted, 64 + 8 * (flooded + 1) + kDeviceHellos) << metrics;
            // How many cookie answers reach the gate depends on how fast the server reads under
            // the flood (a loaded machine drops datagrams in the socket's buffer: 1,420 limited of
            // 5 sweeps in one run, 11,289 of 17 in another); of those that do, the bucket lets
            // through a handful and refuses the rest.
            EXPECT_GT(limited, 4 * admitted) << "the per-address limit dropped too few cookie answers\n" << metrics;
        } else {
            EXPECT_EQ(c.serverHellos, 0u) << "a cookie-less ClientHello started a handshake";
            EXPECT_GT(c.portsAnswered, ports / 2) << "the server stopped answering new ClientHellos";
            // Only the devices answered cookies, far fewer than their address's bucket.
            EXPECT_EQ(limited, 0) << metrics;
        }
        // Bounded: one half-open session per flooding port at 49 KiB (MOTHERSHIP.md, CoAP/DTLS
        // sizing), twice that under the sanitizer, plus its 256 MiB quarantine of freed memory.
        EXPECT_LT(rssPeak - rssBefore, static_cast<long>(ports) * 49 * 2 + 256 * 1024) << "server memory grew with the flood";
        EXPECT_NE(get.code, 0) << "the server stopped answering CoAP under the flood";
        EXPECT_EQ(health.status, 200) << "the server stopped answering HTTP under the flood";
    }

    test::MotherShipSite site;
    test::ControllerProcess controller;
    std::uint16_t controllerPort = 0;
    std::vector<DeviceRun> devices;
};

TEST_F(DtlsFlood, CookielessClientHellosAtTheDefaultHandshakeLimitLeaveDevicesServed) { flood(false, 500); }

TEST_F(DtlsFlood, CookieAnsweringClientHellosAtTheDefaultHandshakeLimitLeaveDevicesServed) { flood(true, 500); }

}  // namespace
}  // namespace tte
