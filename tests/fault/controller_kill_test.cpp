// Crash consistency of the real tte-controller: while introductions (HTTPS POST, message 6)
// and device check-ins (CoAP/DTLS POST, message 11: certificate devices, DTLS-PSK devices and,
// as --accept-unintroduced allows, devices nobody introduced) are in flight and the status
// poller writes its attempts, the process is SIGKILLed at a seeded random point – after the
// k-th acknowledged request – and started again on the same state directory. Then:
//   - every introduction answered 201 is listed by GET /tte/v1/devices as sent, every check-in
//     answered 2.04 is `registered`, the Controller's key is the same;
//   - nothing is half-written (PRAGMA integrity_check; no registered device still holding its
//     OTP, in the row or anywhere in the database files; an unintroduced device only ever
//     stored registered; each PSK and OTP as introduced; no row the test did not ask for);
//   - requests the kill cut off are sent again and answered as the first time (201, 2.04,
//     never 409), and repeats of answered ones too.
// A second test kills the Controller during its first start (identity and schema being made)
// and starts it again (a key left without its certificate is the case to survive; its
// deterministic test is tests/controller/identity_test.cpp). ControllerKill.FifteenKills and
// ControllerFirstStartKill run in CI;
// ControllerKill.Soak300Kills under label soak. The seed is printed; TTE_FAULT_SEED replays it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "support/sites.h"
#include "tte/base/hex.h"
#include "tte/client/https_client.h"
#include "tte/protocol/address.h"
#include "tte/protocol/fingerprint.h"

namespace tte {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

enum class Kind { certificate, psk, waiting, unintroduced };

/// A device of the test: what its introducer sends and how it checks in.
struct Device {
    Kind kind = Kind::certificate;
    std::uint32_t devId = 0;
    std::string urn, fingerprint, otpHex, description;
    test::CoapClientKey key;  ///< certificate files, or PSK identity (the URN) and key
    std::string pskHex;

    [[nodiscard]] std::string introduction() const {
        json j{{"urn", urn}, {"fingerprint", fingerprint}, {"otp", otpHex}, {"devid", toHex(devId, 8)},
               {"ms", "tte-000001.net"}, {"description", description}};
        if (!pskHex.empty()) j["psk"] = pskHex;
        return j.dump();
    }
};

/// A fresh P-256 key and self-signed certificate in `dir` (PEM files); its fingerprint.
std::string makeKeyFiles(const fs::path& dir, std::uint32_t devId, test::CoapClientKey& key) {
    EVP_PKEY* pkey = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), static_cast<long>(devId));
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 30);
    X509_set_pubkey(cert, pkey);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("device"), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    X509_sign(cert, pkey, EVP_sha256());
    key.certFile = (dir / (toHex(devId, 8) + ".crt")).string();
    key.keyFile = (dir / (toHex(devId, 8) + ".key")).string();
    FILE* f = std::fopen(key.certFile.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen(key.keyFile.c_str(), "w");
    PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(pkey, &der);
    auto fp = protocol::fingerprintFromDer(std::span<const std::uint8_t>(der, static_cast<std::size_t>(len)));
    OPENSSL_free(der);
    X509_free(cert);
    EVP_PKEY_free(pkey);
    return fp ? fp->hex() : std::string();
}

/// What the Controller acknowledged, what a kill cut off, what went wrong; shared by the workers.
struct Ledger {
    std::mutex mutex;
    std::map<std::string, Device> devices;  ///< by URN, every device the test made
    std::set<std::string> introduced;       ///< introduction answered 201
    std::set<std::string> checkedIn;        ///< check-in answered 2.04
    std::deque<std::string> cutIntroductions, cutCheckins;  ///< no answer (the kill): sent again
    std::size_t repeats = 0, retriedAfterCut = 0;            ///< answered again as the first time
    std::vector<std::string> errors;
    std::atomic<std::uint64_t> acks{0};
};

class ControllerKill : public ::testing::Test {
protected:
    void SetUp() override {
        coap_startup();
        const char* s = std::getenv("TTE_FAULT_SEED");
        seed = s ? std::strtoull(s, nullptr, 0) : 20261203;
        rng.seed(seed);
        std::printf("TTE_FAULT_SEED=%llu\n", static_cast<unsigned long long>(seed));
        fs::create_directories(dir.path() / "keys");
        start();
        firstFingerprint = controller.fingerprint;
    }

    /// The Controller on port 0 over the state directory; its status queries go to a closed
    /// port (127.0.0.1:1), so the poller writes its attempts all the time.
    void start() {
        controller = test::startController(dir.path(), "controller",
                                           {"--accept-unintroduced", "--poll-interval", "1", "--poll-backoff", "1",
                                            "--ms-connect-to", "tte-000001.net:443:127.0.0.1:1"},
                                           "state");
        ASSERT_FALSE(controller.https.empty()) << controller.proc->err();
    }

    Device makeDevice(Kind kind) {
        std::lock_guard lock(rngMutex);
        Device d;
        d.kind = kind;
        d.devId = nextDevice++;
        d.urn = test::devUrn(d.devId);
        d.description = "bench " + toHex(d.devId, 8);
        std::uniform_int_distribution<std::uint64_t> any;
        d.otpHex = toHex(any(rng), 16);
        if (kind == Kind::psk) {
            std::array<std::uint8_t, 32> devicePsk{}, controllerPsk{};
            for (auto& b : devicePsk) b = static_cast<std::uint8_t>(rng());
            for (auto& b : controllerPsk) b = static_cast<std::uint8_t>(rng() | 1);  // never all zero
            d.fingerprint = protocol::pskFingerprint(devicePsk).hex();
            d.pskHex = toHex(std::span<const std::uint8_t>(controllerPsk));
            d.key.pskIdentity = d.urn;
            d.key.psk.assign(controllerPsk.begin(), controllerPsk.end());
        } else if (kind == Kind::waiting) {
            std::array<std::uint8_t, 32> any32{};
            for (auto& b : any32) b = static_cast<std::uint8_t>(rng());
            d.fingerprint = toHex(std::span<const std::uint8_t>(any32));
        } else {
            d.fingerprint = makeKeyFiles(dir.path() / "keys", d.devId, d.key);
        }
        return d;
    }

    /// Message 6: new devices (certificate, PSK, or one that never checks in), the ones a kill
    /// cut off sent again, and now and then one already answered sent again.
    void introducer(const test::ControllerProcess& c, const std::atomic<bool>& stop) {
        const auto pinned = client::HttpsOptions::pinned(c.fingerprint, 10s);
        const std::string url = "https://" + c.https + "/tte/v1/introductions";
        for (std::uint64_t i = 0; !stop; ++i) {
            Device d;
            enum { fresh, again, retry } why = fresh;
            {
                std::lock_guard lock(ledger.mutex);
                if (!ledger.cutIntroductions.empty()) {
                    d = ledger.devices[ledger.cutIntroductions.front()];
                    ledger.cutIntroductions.pop_front();
                    why = retry;
                } else if (i % 5 == 4 && !ledger.introduced.empty()) {
                    auto it = ledger.introduced.begin();
                    std::advance(it, static_cast<long>(i % ledger.introduced.size()));
                    d = ledger.devices[*it];
                    why = again;
                }
            }
            if (why == fresh) {
                d = makeDevice(i % 3 == 0 ? Kind::certificate : i % 3 == 1 ? Kind::psk : Kind::waiting);
                std::lock_guard lock(ledger.mutex);
                ledger.devices[d.urn] = d;
            }
            auto r = client::httpsRequest(pinned, "POST", url, d.introduction(), "application/json");
            std::lock_guard lock(ledger.mutex);
            if (!r) {  // killed mid-request: unknown whether it was stored; sent again later
                ledger.cutIntroductions.push_back(d.urn);
                continue;
            }
            auto doc = json::parse(r->body, nullptr, false);
            if (r->status != 201 || doc.is_discarded() || doc.value("urn", "") != d.urn ||
                doc.value("fingerprint", "") != d.fingerprint || doc.value("description", "") != d.description) {
                ledger.errors.push_back("introduction of " + d.urn + (why == retry ? " (sent again after a kill)" : "") +
                                        " answered " + std::to_string(r->status) + ": " + r->body);
                continue;
            }
            if (why == again) ledger.repeats++;
            if (why == retry) ledger.retriedAfterCut++;
            ledger.introduced.insert(d.urn);
            ledger.acks++;
        }
    }

    /// Message 11: introduced devices check in (certificate or PSK), devices nobody introduced
    /// too, check-ins a kill cut off are sent again, checked-in devices check in again.
    void checker(const test::ControllerProcess& c, const std::atomic<bool>& stop) {
        const auto coaps = protocol::parseHostPort(c.coaps, "coaps");
        ASSERT_TRUE(coaps);
        for (std::uint64_t i = 0; !stop; ++i) {
            Device d;
            enum { fresh, again, retry } why = fresh;
            bool found = false;
            {
                std::lock_guard lock(ledger.mutex);
                if (!ledger.cutCheckins.empty()) {
                    d = ledger.devices[ledger.cutCheckins.front()];
                    ledger.cutCheckins.pop_front();
                    found = true;
                    why = retry;
                } else if (i % 4 != 0) {
                    for (const auto& urn : ledger.introduced) {
                        const Device& x = ledger.devices[urn];
                        if (x.kind != Kind::waiting && !ledger.checkedIn.count(urn)) {
                            d = x;
                            found = true;
                            break;
                        }
                    }
                    if (!found && !ledger.checkedIn.empty() && i % 4 == 3) {
                        auto it = ledger.checkedIn.begin();
                        std::advance(it, static_cast<long>(i % ledger.checkedIn.size()));
                        d = ledger.devices[*it];
                        found = true;
                        why = again;
                    }
                }
            }
            if (!found) {
                d = makeDevice(Kind::unintroduced);
                std::lock_guard lock(ledger.mutex);
                ledger.devices[d.urn] = d;
            }
            const auto payload = json::to_cbor(json{{"urn", d.urn}});
            auto r = test::coapPost(coaps->port, d.key, c.fingerprint, "tte/v1/checkin", payload, 10s,
                                    [&] { return stop.load(); });
            std::lock_guard lock(ledger.mutex);
            if (r.code == 0) {  // no answer: the kill (or a handshake it broke); sent again later
                ledger.cutCheckins.push_back(d.urn);
                continue;
            }
            if (r.code != 204) {
                ledger.errors.push_back("check-in of " + d.urn + (why == retry ? " (sent again after a kill)" : "") +
                                        " answered " + std::to_string(r.code) + ": " +
                                        std::string(r.payload.begin(), r.payload.end()));
                continue;
            }
            if (why == again) ledger.repeats++;
            if (why == retry) ledger.retriedAfterCut++;
            ledger.checkedIn.insert(d.urn);
            ledger.acks++;
        }
    }

    /// One round: load on the running Controller, SIGKILL after a random number of acks, start again.
    void killRound() {
        std::atomic<bool> stop{false};
        std::uint64_t target = 0;
        {
            std::lock_guard lock(rngMutex);
            target = ledger.acks + 3 + rng() % 25;
        }
        const test::ControllerProcess& c = controller;
        std::thread workers[] = {std::thread([&] { introducer(c, stop); }), std::thread([&] { checker(c, stop); })};
        const bool reached = test::waitFor([&] { return ledger.acks >= target; }, 60s);
        const int status = controller.proc->kill(SIGKILL);
        stop = true;
        for (auto& t : workers) t.join();
        EXPECT_TRUE(reached) << "the Controller stopped acknowledging requests:\n" << controller.proc->err();
        EXPECT_EQ(status, -SIGKILL);
        start();
        EXPECT_EQ(controller.fingerprint, firstFingerprint) << "the Controller's key changed in a kill";
    }

    /// `sqlite3 -readonly` on the Controller's database; its output.
    std::string sql(const std::string& query) {
        auto r = test::runShell("sqlite3 -readonly " + (dir.path() / "state/controller.db").string() + " \"" + query + "\"");
        EXPECT_EQ(r.exitCode, 0) << r.output;
        return r.output;
    }

    /// Everything acknowledged is there, as sent; nothing is half-written.
    void checkStore() {
        EXPECT_EQ(sql("PRAGMA integrity_check"), "ok\n");
        auto listed = client::httpsRequest(client::HttpsOptions::pinned(controller.fingerprint, 10s), "GET",
                                           "https://" + controller.https + "/tte/v1/devices");
        ASSERT_TRUE(listed && listed->status == 200) << (listed ? listed->body : listed.error().toString());
        std::map<std::string, json> rows;
        const json doc = json::parse(listed->body);
        for (const auto& d : doc["devices"]) rows[d["urn"]] = d;
        // urn|introduced|registered|otp|psk|ms_state for each row, secrets included (test only).
        std::map<std::string, std::vector<std::string>> stored;
        std::istringstream lines(sql("SELECT urn, introduced, registered_at IS NOT NULL, otp, psk, ms_state FROM devices"));
        for (std::string line; std::getline(lines, line);) {
            std::vector<std::string> fields;
            std::istringstream in(line);
            for (std::string f; std::getline(in, f, '|');) fields.push_back(f);
            while (fields.size() < 6) fields.emplace_back();
            stored[fields[0]] = fields;
        }
        const std::string files =
            test::readText(dir.path() / "state/controller.db") + test::readText(dir.path() / "state/controller.db-wal");

        std::lock_guard lock(ledger.mutex);
        for (const auto& e : ledger.errors) ADD_FAILURE() << e;
        ledger.errors.clear();
        EXPECT_EQ(rows.size(), stored.size());
        std::vector<std::string> lost;
        for (const auto& urn : ledger.introduced)
            if (!rows.count(urn)) lost.push_back("introduction of " + urn);
        for (const auto& urn : ledger.checkedIn)
            if (!rows.count(urn) || rows[urn]["state"] != "registered") lost.push_back("check-in of " + urn);
        lostTotal += lost.size();
        for (const auto& l : lost) ADD_FAILURE() << "acknowledged, then lost in a kill: " << l;
        for (auto& [urn, row] : rows) {
            SCOPED_TRACE(row.dump());
            ASSERT_TRUE(ledger.devices.count(urn)) << "a device nobody sent";
            const Device& d = ledger.devices[urn];
            const auto& db = stored[urn];
            const bool registered = row["state"] == "registered";
            EXPECT_EQ(row["fingerprint"], d.fingerprint);
            EXPECT_EQ(db[2] == "1", registered);
            EXPECT_EQ(db[5], "unknown") << "the MotherShip was never reachable";
            if (d.kind == Kind::unintroduced) {
                EXPECT_EQ(row["introduced"], false);
                EXPECT_TRUE(registered) << "a device accepted unintroduced is stored checked in, or not at all";
                EXPECT_FALSE(row["last_seen"].is_null());
                continue;
            }
            EXPECT_EQ(row["introduced"], true);
            EXPECT_EQ(row["devid"], toHex(d.devId, 8));
            EXPECT_EQ(row["description"], d.description);
            EXPECT_TRUE(row["state"] == "introduced" || registered);
            EXPECT_EQ(db[4], d.pskHex);
            if (registered) {
                EXPECT_FALSE(row["last_seen"].is_null());
                EXPECT_EQ(db[3], "") << "a checked-in device keeps no OTP";
                // Each device once, in the check after it was first seen checked in (the
                // restart's checkpoint is what wipes a WAL the kill left).
                if (registeredSeen.insert(urn).second) {
                    EXPECT_EQ(files.find(d.otpHex), std::string::npos) << "the OTP of a checked-in device is in the database files";
                }
            } else {
                EXPECT_EQ(db[3], d.otpHex);
            }
        }
    }

    void killRepeatedly(int kills) {
        int survived = 0;
        const auto began = std::chrono::steady_clock::now();
        for (; survived < kills && !HasFailure(); ++survived) {
            killRound();
            checkStore();
        }
        const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
        std::lock_guard lock(ledger.mutex);
        std::size_t unintroduced = 0;
        for (const auto& urn : ledger.checkedIn) unintroduced += ledger.devices[urn].kind == Kind::unintroduced;
        std::printf("seed %llu: kills survived: %d in %.1f s; acknowledged: %zu introductions, %zu check-ins (%zu of "
                    "devices never introduced), %zu answered again as the first time (%zu of them sent again after a "
                    "kill cut them off); acknowledged requests lost: %zu\n",
                    static_cast<unsigned long long>(seed), survived, seconds, ledger.introduced.size(),
                    ledger.checkedIn.size(), unintroduced, ledger.repeats + ledger.retriedAfterCut,
                    ledger.retriedAfterCut, lostTotal);
        EXPECT_EQ(survived, kills);
        EXPECT_GT(ledger.checkedIn.size(), 0u);
    }

    test::TempDir dir{"controller-kill"};
    test::ControllerProcess controller;
    std::string firstFingerprint;
    Ledger ledger;
    std::mutex rngMutex;
    std::mt19937_64 rng;
    std::uint64_t seed = 0;
    std::uint32_t nextDevice = 0x10000;
    std::size_t lostTotal = 0;
    std::set<std::string> registeredSeen;  ///< introduced devices whose OTP was looked for in the files
};

TEST_F(ControllerKill, FifteenKills) { killRepeatedly(15); }

TEST_F(ControllerKill, Soak300Kills) { killRepeatedly(300); }

/// Kills during the first start, while the identity (key, then certificate) and the database
/// are being made, at seeded random moments spread over one measured start; each time the
/// Controller must start again on what was left, and keep the key it then shows.
TEST(ControllerFirstStartKill, StartsAgainOnWhatTheKillLeft) {
    constexpr int kFirstStartKills = 6;
    const char* s = std::getenv("TTE_FAULT_SEED");
    const std::uint64_t seed = s ? std::strtoull(s, nullptr, 0) : 20261203;
    std::printf("TTE_FAULT_SEED=%llu\n", static_cast<unsigned long long>(seed));
    std::mt19937_64 rng(seed);
    test::TempDir dir{"controller-first-start"};
    const std::vector<std::string> args = {"--no-status-queries"};
    auto began = std::chrono::steady_clock::now();
    { auto c = test::startController(dir.path(), "measure", args); ASSERT_FALSE(c.fingerprint.empty()); }
    const auto oneStart = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - began);
    int leftKey = 0, leftNothing = 0, leftAll = 0;
    for (int i = 0; i < kFirstStartKills; ++i) {
        const std::string state = "state-" + std::to_string(i);
        std::vector<std::string> argv = {test::binary("tte-controller"), "--state-dir", (dir.path() / state).string(),
                                         "--https-listen", "127.0.0.1:0", "--coaps-listen", "127.0.0.1:0", "--no-status-queries"};
        test::Process p(argv, dir.path(), "killed-" + std::to_string(i));
        // Not a wait for something: the delay is the seeded kill point, anywhere in one start.
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % static_cast<std::uint64_t>(oneStart.count() + 1)));
        p.kill(SIGKILL);
        const bool key = fs::exists(dir.path() / state / "identity.key"), cert = fs::exists(dir.path() / state / "identity.crt");
        (key && cert ? leftAll : key ? leftKey : leftNothing)++;
        auto again = test::startController(dir.path(), "again-" + std::to_string(i), args, state);
        ASSERT_EQ(again.fingerprint.size(), 64u) << "kill " << i << " left " << (key ? "the key " : "") << (cert ? "the certificate" : "")
                                                 << ": " << again.proc->err();
        again.proc->kill(SIGTERM);
        auto third = test::startController(dir.path(), "third-" + std::to_string(i), args, state);
        EXPECT_EQ(third.fingerprint, again.fingerprint);
        auto check = test::runShell("sqlite3 -readonly " + (dir.path() / state / "controller.db").string() + " 'PRAGMA integrity_check'");
        EXPECT_EQ(check.output, "ok\n");
    }
    std::printf("first starts killed: %d (one start %.0f ms); left behind: %d nothing or no key, %d a key without its "
                "certificate, %d both; every one started again\n",
                kFirstStartKills, oneStart.count() / 1000.0, leftNothing, leftKey, leftAll);
}

}  // namespace
}  // namespace tte
