// The MotherShip's CoAP endpoint in-process, on loopback with a real libcoap client (the test
// support's, pinning the server's key): a device's first registration is a separate response
// whose 2.05 waits for the registry's commit of the `registered` mark. A registry decorator
// holds each mark until the test lets it commit, or fail. The DTLS cookie gate's counts reach
// the Metrics (/metrics).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <sstream>

#include "support/dtls_datagrams.h"
#include "support/mothership.h"
#include "support/process.h"
#include "tte/mothership/coap_server.h"
#include "tte/mothership/registry.h"

namespace tte::mothership {
namespace {

constexpr std::uint32_t kDev = 0x101;
const std::string kControllerFp(64, 'c');

/// The in-memory registry, except that markRegisteredAsync() waits in a queue until the test
/// releases it: with commit() (the mark is stored, then `done` is told) or fail() (nothing is
/// stored, `done` gets the error).
class HeldRegistry final : public Registry {
public:
    /// How many marks were ever handed over.
    int asked() {
        std::lock_guard lock(m_mutex);
        return m_asked;
    }
    /// Waits (with a deadline) until `n` marks were handed over in all.
    bool waitAsked(int n) {
        return test::waitFor([&] { return asked() >= n; }, std::chrono::seconds(10));
    }
    void commit() {
        Held h = take();
        h.done(m_inner->markRegistered(h.devId, h.client, h.now));
    }
    void fail(Error e) { take().done(std::unexpected(std::move(e))); }
    /// Commits whatever is still held (so that a failed test does not leave stop() waiting).
    void commitAll() {
        for (;;) {
            {
                std::lock_guard lock(m_mutex);
                if (m_held.empty()) return;
            }
            commit();
        }
    }

    void markRegisteredAsync(std::uint32_t devId, std::string client, std::int64_t now,
                             std::function<void(Status)> done) override {
        std::lock_guard lock(m_mutex);
        m_held.push_back({devId, std::move(client), now, std::move(done)});
        ++m_asked;
    }

    Result<InsertOutcome> insertDevice(const DeviceRow& row, std::int64_t now) override { return m_inner->insertDevice(row, now); }
    Result<ImportSummary> importDevices(std::span<const DeviceRow> rows, std::int64_t now) override {
        return m_inner->importDevices(rows, now);
    }
    Result<DeviceRow> device(std::uint32_t devId) override { return m_inner->device(devId); }
    Result<DeviceRow> deviceRow(std::uint32_t devId) override { return m_inner->deviceRow(devId); }
    Result<std::optional<std::vector<std::uint8_t>>> otpHash(std::uint32_t devId) override { return m_inner->otpHash(devId); }
    Result<DeviceRow> deviceByUrn(std::string_view urn) override { return m_inner->deviceByUrn(urn); }
    Status claim(std::uint32_t devId, const ControllerAddress& c, std::string_view description, std::string_view client,
                 std::int64_t now) override {
        return m_inner->claim(devId, c, description, client, now);
    }
    Result<DeviceState> preEnroll(std::uint32_t devId, const PreEnrollment& what, std::int64_t now) override {
        return m_inner->preEnroll(devId, what, now);
    }
    Status markRegistered(std::uint32_t devId, std::string_view client, std::int64_t now) override {
        return m_inner->markRegistered(devId, client, now);
    }
    Result<RevokeSummary> revoke(const RevokeTarget& target, const Revocation& why, std::int64_t now) override {
        return m_inner->revoke(target, why, now);
    }
    Status recordFailure(std::optional<std::uint32_t> devId, std::string_view event, std::string_view client,
                         std::string_view detail, std::int64_t now) override {
        return m_inner->recordFailure(devId, event, client, detail, now);
    }
    Result<std::int64_t> lockedUntil(const std::vector<std::string>& keys, std::int64_t now) override {
        return m_inner->lockedUntil(keys, now);
    }
    Status countFailure(const std::vector<FailureSubject>& subjects, const FailurePolicy& policy, std::uint32_t devId,
                        std::string_view event, std::string_view client, std::string_view detail, std::int64_t now) override {
        return m_inner->countFailure(subjects, policy, devId, event, client, detail, now);
    }
    Status pruneFailures(const FailurePolicy& policy, std::int64_t now) override { return m_inner->pruneFailures(policy, now); }
    Result<std::vector<AuditEntry>> audit(std::optional<std::uint32_t> devId) override { return m_inner->audit(devId); }
    Status addStation(const StationRow& station) override { return m_inner->addStation(station); }
    Result<StationRow> stationByFingerprint(std::string_view fp) override { return m_inner->stationByFingerprint(fp); }
    Result<StationRow> stationByName(std::string_view name) override { return m_inner->stationByName(name); }
    Result<std::vector<StationRow>> stations() override { return m_inner->stations(); }
    Status removeStation(std::string_view name, std::string_view actor, std::int64_t now) override {
        return m_inner->removeStation(name, actor, now);
    }
    Status setLotQuota(std::string_view lot, std::uint32_t first, std::uint32_t last) override {
        return m_inner->setLotQuota(lot, first, last);
    }
    Result<LotQuota> lotQuota(std::string_view lot) override { return m_inner->lotQuota(lot); }
    Result<std::vector<LotQuota>> lots() override { return m_inner->lots(); }
    Status addBox(const BoxRow& box) override { return m_inner->addBox(box); }
    Status forEachDevice(const std::function<Status(const DeviceRow&)>& fn) override { return m_inner->forEachDevice(fn); }
    Status backup(const std::string& path) override { return m_inner->backup(path); }
    Result<RegistryStats> stats(std::int64_t now) override { return m_inner->stats(now); }
    Status ping() override { return m_inner->ping(); }

private:
    struct Held {
        std::uint32_t devId;
        std::string client;
        std::int64_t now;
        std::function<void(Status)> done;
    };
    Held take() {
        std::lock_guard lock(m_mutex);
        EXPECT_FALSE(m_held.empty());
        Held h = std::move(m_held.front());
        m_held.pop_front();
        return h;
    }

    std::unique_ptr<Registry> m_inner = makeMemoryRegistry();
    std::mutex m_mutex;
    std::deque<Held> m_held;
    int m_asked = 0;
};

class CoapRegistrationTest : public ::testing::Test {
protected:
    void SetUp() override {
        pki = test::makePki(dir);
        ASSERT_TRUE(registry.setLotQuota("lot-1", 0x100, 0x1ff));
        DeviceRow d;
        d.devId = kDev;
        d.urn = test::devUrn(kDev);
        d.fingerprint = pki.deviceFingerprint;
        d.otpHash.assign(32, 0x42);
        d.lot = "lot-1";
        d.recordId = "s-1";
        ASSERT_TRUE(registry.insertDevice(d, 1));
        ASSERT_TRUE(registry.claim(kDev, {"192.0.2.10", 5684, kControllerFp}, "", "test", 2));
        log = std::make_shared<spdlog::logger>("coap", std::make_shared<spdlog::sinks::ostream_sink_mt>(logText));
        CoapOptions o{.address = "127.0.0.1", .port = 0, .certFile = pki.dtlsCert, .keyFile = pki.dtlsKey};
        auto s = CoapServer::create(o, registry, clock, metrics, log);
        ASSERT_TRUE(s) << s.error().toString();
        server = std::move(*s);
        server->start();
    }
    void TearDown() override {
        registry.commitAll();
        if (server) server->stop();
    }

    /// The device's GET, on its own thread (it waits for the separate response).
    std::future<test::CoapResult> ask(std::chrono::milliseconds wait = std::chrono::seconds(10)) {
        return std::async(std::launch::async, [this, wait] {
            return test::coapGet(server->port(), pki.deviceCert, pki.deviceKey, pki.dtlsFingerprint, test::devUrn(kDev), 50,
                                 wait);
        });
    }
    DeviceState state() { return registry.device(kDev)->state; }
    std::size_t registeredAuditLines() {
        std::size_t n = 0;
        const auto trail = registry.audit(kDev);
        for (const auto& e : *trail) n += e.event == "registered";
        return n;
    }

    test::TempDir dir;
    test::Pki pki;
    HeldRegistry registry;
    ManualClock clock;
    Metrics metrics;
    std::ostringstream logText;  // written by the CoAP thread; read only after the server stopped
    std::shared_ptr<spdlog::logger> log;
    std::unique_ptr<CoapServer> server;
};

TEST_F(CoapRegistrationTest, FirstRegistrationIsAnsweredOnlyOnceItsMarkIsCommitted) {
    auto first = ask();
    ASSERT_TRUE(registry.waitAsked(1));
    // The mark is not committed: the device has had no 2.05, the registry still says mapped.
    EXPECT_EQ(first.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
    EXPECT_EQ(state(), DeviceState::mapped);
    registry.commit();
    const test::CoapResult r = first.get();
    ASSERT_EQ(r.code, 205);
    EXPECT_EQ(nlohmann::json::parse(r.payload),
              (nlohmann::json{{"cip", "192.0.2.10"}, {"cport", 5684}, {"cfingerprint", kControllerFp}}));
    EXPECT_EQ(state(), DeviceState::registered);
    // Asking again: answered at once from the registry, nothing more to commit.
    const test::CoapResult again = ask().get();
    EXPECT_EQ(again.code, 205);
    EXPECT_EQ(again.payload, r.payload);
    EXPECT_EQ(registry.asked(), 1);
    EXPECT_EQ(registeredAuditLines(), 1u);
}

TEST_F(CoapRegistrationTest, ACommitThatFailsGivesA503AndNo205) {
    auto first = ask();
    ASSERT_TRUE(registry.waitAsked(1));
    registry.fail(Error{Errc::io, "disk I/O error", "SQLite", 10, "SQLITE_IOERR"});
    const test::CoapResult r = first.get();
    EXPECT_EQ(r.code, 503);
    EXPECT_EQ(std::string(r.payload.begin(), r.payload.end()), "the registration could not be recorded; try again later");
    EXPECT_EQ(state(), DeviceState::mapped);
    EXPECT_EQ(registeredAuditLines(), 0u);
    // The device asks again (PROTOCOL §7: it retries on 5.xx) and this time the commit holds.
    auto second = ask();
    ASSERT_TRUE(registry.waitAsked(2));
    registry.commit();
    EXPECT_EQ(second.get().code, 205);
    EXPECT_EQ(state(), DeviceState::registered);
    server->stop();
    EXPECT_NE(logText.str().find("event=coap-registry-error devid=00000101 error=\"disk I/O error (SQLite SQLITE_IOERR)\""), std::string::npos)
        << logText.str();
}

TEST_F(CoapRegistrationTest, ADeviceThatGaveUpBeforeTheCommitIsNotAnsweredOnItsClosedSession) {
    // The device waits 3 s, then closes its session (a DTLS close alert) and gives up.
    auto first = ask(std::chrono::seconds(3));
    ASSERT_TRUE(registry.waitAsked(1));
    EXPECT_EQ(first.get().code, 0);
    registry.commit();  // the mark is stored; its reply has no session to go to
    EXPECT_EQ(state(), DeviceState::registered);
    // The server goes on: the device's next attempt is answered at once.
    EXPECT_EQ(ask().get().code, 205);
    EXPECT_EQ(registry.asked(), 1);
    server->stop();
    EXPECT_NE(logText.str().find("event=coap-reply-dropped"), std::string::npos) << logText.str();
}

TEST_F(CoapRegistrationTest, StopWaitsForTheMarksHandedToTheRegistry) {
    auto first = ask(std::chrono::seconds(2));
    ASSERT_TRUE(registry.waitAsked(1));
    auto stopped = std::async(std::launch::async, [this] { server->stop(); });
    EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
    registry.commit();
    stopped.get();
    EXPECT_EQ(state(), DeviceState::registered);
    (void)first.get();
}

/// Sends `datagrams` to 127.0.0.1:port from one new UDP socket, and closes it.
void sendFromOnePort(std::uint16_t port, const std::vector<std::vector<std::uint8_t>>& datagrams) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    for (const auto& d : datagrams)
        EXPECT_EQ(::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to),
                  static_cast<ssize_t>(d.size()));
    ::close(fd);
}

/// The value of the sample `name` (no labels) in the exposition `text`; -1 when absent.
double sample(const std::string& text, const std::string& name) {
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

TEST_F(CoapRegistrationTest, TheCookieGatesCountsAreMetrics) {
    std::string text = metrics.render();
    for (const char* name : {"tte_dtls_hello_verify_requests_total", "tte_dtls_handshakes_admitted_total",
                             "tte_dtls_handshakes_rate_limited_total", "tte_dtls_malformed_hellos_total"}) {
        EXPECT_NE(text.find(std::string("# HELP ") + name + " "), std::string::npos) << text;
        EXPECT_NE(text.find(std::string("# TYPE ") + name + " counter\n"), std::string::npos) << text;
        EXPECT_EQ(sample(text, name), 0) << name << ": the gate's start-up handshake is not counted";
    }
    // Three ClientHellos without a cookie and two that look like ClientHellos to libcoap but are
    // in epoch 1, from a port that has closed by the time the gate answers.
    sendFromOnePort(server->port(), {test::clientHello(1), test::clientHello(2), test::clientHello(3)});
    sendFromOnePort(server->port(), {test::clientHello(4, 1), test::clientHello(5, 1)});
    EXPECT_TRUE(test::waitFor([&] {
        return metrics.dtlsHelloVerifyRequests.value() >= 3 && metrics.dtlsMalformedHellos.value() >= 2;
    }, std::chrono::seconds(10)));
    text = metrics.render();
    EXPECT_EQ(sample(text, "tte_dtls_hello_verify_requests_total"), 3) << text;
    EXPECT_EQ(sample(text, "tte_dtls_malformed_hellos_total"), 2) << text;
    EXPECT_EQ(sample(text, "tte_dtls_handshakes_admitted_total"), 0) << text;
    EXPECT_EQ(sample(text, "tte_dtls_handshakes_rate_limited_total"), 0) << text;
    // A device registers: its cookie exchange is one more HelloVerifyRequest and one ClientHello
    // handed to libcoap (more only if it retransmitted).
    auto first = ask();
    ASSERT_TRUE(registry.waitAsked(1));
    registry.commit();
    EXPECT_EQ(first.get().code, 205);
    text = metrics.render();
    EXPECT_GE(sample(text, "tte_dtls_hello_verify_requests_total"), 4) << text;
    EXPECT_GE(sample(text, "tte_dtls_handshakes_admitted_total"), 1) << text;
    EXPECT_EQ(sample(text, "tte_dtls_handshakes_rate_limited_total"), 0) << text;
    EXPECT_EQ(sample(text, "tte_dtls_malformed_hellos_total"), 2) << text;
}

}  // namespace
}  // namespace tte::mothership
