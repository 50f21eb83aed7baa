// Crash consistency of the real tte-controller: while introductions (HTTPS POST, message 6),
// device check-ins (CoAP/DTLS POST, message 11: certificate devices, DTLS-PSK devices and, as
// --accept-unintroduced allows, devices nobody introduced) and the status poller's writes
// (messages 7/8, answered by a real tte-mothership) are in flight, the process is SIGKILLed at
// a seeded random point – after the k-th acknowledged request – and started again on the same
// state directory. Beside the Controller, the test moves its devices through the MotherShip
// (station upload: not-mapped; claim: mapped; CoAP registration: registered; station revoke:
// revoked; some devices the MotherShip never hears of), so the poller stores real answers.
// Every other start has a short introduction TTL (--introduction-ttl 2), so introductions expire
// in the Controller's life, while it starts and while it is down (after every other such start
// the test keeps it down until one has); in one start of four the
// MotherShip is unreachable for the Controller, so queries fail after real answers. Then:
//   - every introduction answered 201 is listed by GET /tte/v1/devices as sent (with the
//     expires_at of its answer), every check-in answered 2.04 is `registered`, the
//     Controller's key is the same;
//   - nothing is half-written (PRAGMA integrity_check; no row the test did not ask for; an
//     unintroduced device only ever stored registered; each PSK as introduced; an OTP only
//     while the Controller may still ask with it: not for a checked-in device, not once the
//     MotherShip said registered or revoked, not for an introduction that expired before the
//     start – in the row or anywhere in the database files);
//   - what the poller stored is `unknown` or a state the MotherShip had (so `unknown` for a
//     device it never heard of), and only moves forward (not-mapped, mapped, registered,
//     revoked: PROTOCOL §6), also when a query failed;
//   - expiry as PROTOCOL §8 says: a check-in is 2.04 only if sent before the introduction's
//     expires_at and 4.03 `introduction expired` only once it passed; expired ones are
//     listed `expired`, never come back as checked in (not even after a 2.04 cut off
//     before the expiry was refused once), and the poller does not ask about them again;
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

/// certificate and psk devices check in at once; waiting ones only after their introduction
/// expired (then refused); unintroduced ones are never introduced.
enum class Kind { certificate, psk, waiting, unintroduced };

/// Why a request goes out: a new one, an answered one again, one a kill cut off again, or
/// (check-ins) one of a device whose introduction expired.
enum class Why { fresh, again, retry, expired };

constexpr long kShortTtl = 2;      ///< seconds, in every other start
constexpr long kLongTtl = 3600;    ///< no introduction expires in such a start's life
const char* const kLot = "lot-ck";  ///< the MotherShip's lot for the test's Dev IDs

/// Wall-clock seconds, as the Controller counts them (it truncates too).
std::int64_t unixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::int64_t unixMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// The order of the MotherShip's states (PROTOCOL §6: not-mapped → mapped → registered;
/// revoked from any state, final); "unknown" (never answered) below all.
int rankOf(const std::string& msState) {
    static const std::map<std::string, int> ranks = {
        {"unknown", 0}, {"not-mapped", 1}, {"mapped", 2}, {"registered", 3}, {"revoked", 4}};
    auto it = ranks.find(msState);
    return it == ranks.end() ? -1 : it->second;
}

/// A device of the test: what its introducer sends, how it checks in, and what the
/// MotherShip will hear of it.
struct Device {
    Kind kind = Kind::certificate;
    std::uint32_t devId = 0;
    std::string urn, fingerprint, otpHex, description;
    std::uint64_t otp = 0;
    test::CoapClientKey key;  ///< certificate files, or PSK identity (the URN) and key
    std::string pskHex;        ///< device–Controller PSK (DTLS-PSK devices)
    std::string devicePskHex;  ///< device–MotherShip PSK (DTLS-PSK devices)
    bool atMotherShip = false;       ///< uploaded before its introduction
    std::vector<std::string> msPlan;  ///< the states the test moves it to after the upload

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

/// What the Controller and the MotherShip acknowledged, what a kill cut off, what went wrong;
/// shared by the workers.
struct Ledger {
    std::mutex mutex;
    std::map<std::string, Device> devices;  ///< by URN, every device the test made
    std::set<std::string> introduced;       ///< introduction answered 201
    std::set<std::string> checkedIn;        ///< check-in answered 2.04
    std::deque<std::string> cutIntroductions, cutCheckins;  ///< no answer (the kill): sent again
    std::size_t repeats = 0, retriedAfterCut = 0;            ///< answered again as the first time
    std::vector<std::string> errors;
    std::atomic<std::uint64_t> acks{0};
    std::condition_variable changed;  ///< an introduction answered, or stop
    std::uint64_t introductionsAnswered = 0;
    // Expiry (PROTOCOL §8).
    std::map<std::string, std::int64_t> expiresAt;  ///< of the last introduction answered 201
    std::map<std::string, std::int64_t> cutCheckinSent;  ///< earliest check-in the kill cut off
    std::set<std::string> refusedExpired;            ///< check-in answered 4.03 introduction expired
    std::size_t expiredRefusals = 0, refusedAgain = 0, checkinsBeforeExpiryInShortTtl = 0;
    // The MotherShip (messages 7/8 and what moves a device there).
    std::map<std::string, std::vector<std::string>> msStates;  ///< every state it may have had there
    std::map<std::string, std::chrono::steady_clock::time_point> msDue;  ///< next step of its plan
    std::size_t msSteps = 0;
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
        site.admin(std::string("lot set --lot ") + kLot + " --first 00010000 --last 00ffffff");
        start();
        firstFingerprint = controller.fingerprint;
    }

    /// The Controller on port 0 over the state directory, asking the real MotherShip about its
    /// devices (--poll-interval 1 --poll-backoff 1), with a short TTL in every third start and
    /// the MotherShip out of its reach (a closed port) in every fourth.
    void start() {
        const int round = starts++;
        shortTtl = round % 2 == 1;
        msReachable = round % 4 != 3;
        startedAt = unixNow();
        const std::string ms = msReachable ? site.connectTo() : std::string("tte-000001.net:443:127.0.0.1:1");
        controller = test::startController(dir.path(), "controller",
                                           {"--accept-unintroduced", "--poll-interval", "1", "--poll-backoff", "1",
                                            "--poll-concurrency", "16", "--ms-cacert", site.pki.caCert, "--ms-connect-to",
                                            ms, "--introduction-ttl", std::to_string(shortTtl ? kShortTtl : kLongTtl)},
                                           "state");
        ASSERT_FALSE(controller.https.empty()) << controller.proc->err();
        readyAtMs = unixMillis();
        unreachableStarts += !msReachable;
        shortTtlStarts += shortTtl;
    }

    Device makeDevice(Kind kind) {
        std::lock_guard lock(rngMutex);
        Device d;
        d.kind = kind;
        d.devId = nextDevice++;
        d.urn = test::devUrn(d.devId);
        d.description = "bench " + toHex(d.devId, 8);
        std::uniform_int_distribution<std::uint64_t> any;
        d.otp = any(rng);
        d.otpHex = toHex(d.otp, 16);
        if (kind == Kind::psk) {
            std::array<std::uint8_t, 32> devicePsk{}, controllerPsk{};
            for (auto& b : devicePsk) b = static_cast<std::uint8_t>(rng() | 1);
            for (auto& b : controllerPsk) b = static_cast<std::uint8_t>(rng() | 1);  // never all zero
            d.fingerprint = protocol::pskFingerprint(devicePsk).hex();
            d.devicePskHex = toHex(std::span<const std::uint8_t>(devicePsk));
            d.pskHex = toHex(std::span<const std::uint8_t>(controllerPsk));
            d.key.pskIdentity = d.urn;
            d.key.psk.assign(controllerPsk.begin(), controllerPsk.end());
        } else {  // certificate, waiting (it checks in once expired) and unintroduced devices
            d.fingerprint = makeKeyFiles(dir.path() / "keys", d.devId, d.key);
        }
        if (kind == Kind::unintroduced) return d;
        // The MotherShip's part: one in six never hears of the device (it answers 404); the
        // others are uploaded (not-mapped) and then moved along a path of PROTOCOL §6. A PSK
        // device is not registered over CoAP here (the test's CoAP GET has a certificate).
        static const std::vector<std::vector<std::string>> plans = {
            {}, {"mapped"}, {"mapped", "registered"}, {"revoked"}, {"mapped", "revoked"}, {"mapped", "registered", "revoked"}};
        const auto pick = rng() % 7;
        d.atMotherShip = pick != 0;
        if (d.atMotherShip) d.msPlan = plans[pick - 1];
        if (kind == Kind::psk) std::erase(d.msPlan, std::string("registered"));
        return d;
    }

    /// The station upload of `d`'s record (PROTOCOL §10): not-mapped at the MotherShip.
    bool upload(const Device& d) {
        const auto record = test::signedRecord(site.pki.stationKey, "station-1", d.devId, d.otp, d.fingerprint, d.devId,
                                               kLot, std::nullopt, std::nullopt,
                                               d.devicePskHex.empty() ? std::nullopt : std::optional(d.devicePskHex));
        test::HttpCall call{"POST", "/api/v1/records", json{{"records", json::array({record})}}.dump(), "application/json", "",
                            site.pki.stationCert, site.pki.stationKey};
        auto r = test::https(site.server->httpsPort(), site.pki.caCert, call);
        auto doc = json::parse(r.body, nullptr, false);
        const bool ok = r.status == 200 && !doc.is_discarded() && doc["results"][0]["status"] == "stored";
        if (!ok) {
            std::lock_guard lock(ledger.mutex);
            ledger.errors.push_back("upload of " + d.urn + " answered " + std::to_string(r.status) + ": " + r.body + r.error);
        }
        return ok;
    }

    /// Message 6: new devices (certificate, PSK, or one that waits), the ones a kill cut off
    /// sent again, and now and then one that checked in sent again.
    void introducer(const test::ControllerProcess& c, const std::atomic<bool>& stop) {
        const auto pinned = client::HttpsOptions::pinned(c.fingerprint, 10s);
        const std::string url = "https://" + c.https + "/tte/v1/introductions";
        for (std::uint64_t i = 0; !stop; ++i) {
            Device d;
            Why why = Why::fresh;
            {
                std::lock_guard lock(ledger.mutex);
                if (!ledger.cutIntroductions.empty()) {
                    d = ledger.devices[ledger.cutIntroductions.front()];
                    ledger.cutIntroductions.pop_front();
                    why = Why::retry;
                } else if (i % 5 == 4 && !checkedInIntroduced.empty()) {
                    d = ledger.devices[checkedInIntroduced[i % checkedInIntroduced.size()]];
                    why = Why::again;
                }
            }
            if (why == Why::fresh) {
                d = makeDevice(i % 3 == 0 ? Kind::certificate : i % 3 == 1 ? Kind::psk : Kind::waiting);
                if (d.atMotherShip && !upload(d)) continue;
                std::lock_guard lock(ledger.mutex);
                ledger.devices[d.urn] = d;
                if (d.atMotherShip) {
                    ledger.msStates[d.urn] = {"not-mapped"};
                    if (!d.msPlan.empty()) ledger.msDue[d.urn] = stepAfter();
                }
            }
            auto r = client::httpsRequest(pinned, "POST", url, d.introduction(), "application/json");
            std::lock_guard lock(ledger.mutex);
            if (!r) {  // killed mid-request: unknown whether it was stored; sent again later
                ledger.cutIntroductions.push_back(d.urn);
                continue;
            }
            auto doc = json::parse(r->body, nullptr, false);
            if (r->status != 201 || doc.is_discarded() || doc.value("urn", "") != d.urn ||
                doc.value("fingerprint", "") != d.fingerprint || doc.value("description", "") != d.description ||
                !doc["expires_at"].is_number_integer()) {
                ledger.errors.push_back("introduction of " + d.urn + (why == Why::retry ? " (sent again after a kill)" : "") +
                                        " answered " + std::to_string(r->status) + ": " + r->body);
                continue;
            }
            if (why == Why::again) ledger.repeats++;
            if (why == Why::retry) ledger.retriedAfterCut++;
            ledger.introduced.insert(d.urn);
            ledger.expiresAt[d.urn] = doc["expires_at"].get<std::int64_t>();
            ledger.acks++;
            ledger.introductionsAnswered++;
            ledger.changed.notify_all();
        }
    }

    /// When the next MotherShip step of a device is due: 0.1–0.7 s on, so the poller (every
    /// second) sees some of the states in between.
    std::chrono::steady_clock::time_point stepAfter() {
        std::lock_guard lock(rngMutex);
        return std::chrono::steady_clock::now() + std::chrono::milliseconds(100 + rng() % 600);
    }

    /// Moves devices through the MotherShip along their plans: claims (message 4/5), CoAP
    /// registrations (message 9/10) and station revocations. The MotherShip is never killed,
    /// so each step is answered; the state is noted as possible before the request is sent.
    void motherShipWorker(const test::ControllerProcess& c, const std::atomic<bool>& stop) {
        while (!stop) {
            std::string urn, step;
            Device d;
            {
                std::lock_guard lock(ledger.mutex);
                const auto now = std::chrono::steady_clock::now();
                for (const auto& [u, due] : ledger.msDue)
                    if (due <= now) {
                        urn = u;
                        break;
                    }
                if (!urn.empty()) {
                    d = ledger.devices[urn];
                    auto& states = ledger.msStates[urn];
                    step = d.msPlan[states.size() - 1];
                    states.push_back(step);
                    ledger.msDue.erase(urn);
                }
            }
            if (urn.empty()) {
                std::unique_lock lock(msMutex);  // nothing due: look again in 50 ms, or stop
                msWake.wait_for(lock, 50ms, [&] { return stop.load(); });
                continue;
            }
            std::string failure;
            if (step == "mapped") {
                const std::string port = c.coaps.substr(c.coaps.rfind(':') + 1);
                std::string path = "/.well-known/tte?otp=" + d.otpHex + ",devid=" + toHex(d.devId, 8) +
                                   ",cip=127.0.0.1,cport=" + port + ",cfingerprint=" + c.fingerprint;
                if (!d.pskHex.empty()) path += ",cpsk=" + d.pskHex;
                auto r = test::https(site.server->httpsPort(), site.pki.caCert, {"POST", path, "", "", "", "", ""});
                if (r.status != 200) failure = "claim answered " + std::to_string(r.status) + ": " + r.body + r.error;
            } else if (step == "registered") {
                auto r = test::coapGet(site.server->coapsPort(), d.key.certFile, d.key.keyFile, site.pki.dtlsFingerprint, d.urn);
                if (r.code != 205) failure = "CoAP registration answered " + std::to_string(r.code);
            } else {
                test::HttpCall call{"POST", "/api/v1/devices/" + toHex(d.devId, 8) + "/revoke", R"({"reason": "kill test"})",
                                    "application/json", "", site.pki.stationCert, site.pki.stationKey};
                auto r = test::https(site.server->httpsPort(), site.pki.caCert, call);
                if (r.status != 200) failure = "revoke answered " + std::to_string(r.status) + ": " + r.body + r.error;
            }
            const auto next = stepAfter();
            std::lock_guard lock(ledger.mutex);
            if (!failure.empty()) {
                ledger.errors.push_back("MotherShip step '" + step + "' of " + urn + ": " + failure);
                continue;
            }
            ledger.msSteps++;
            if (ledger.msStates[urn].size() - 1 < d.msPlan.size()) ledger.msDue[urn] = next;
        }
    }

    /// The device a check-in goes to (the ledger is locked): a cut one again; else a fresh
    /// introduced device; one whose introduction expired (also one refused before: it must stay
    /// refused); a checked-in device again; or one nobody introduced.
    std::optional<std::pair<Device, Why>> nextCheckin(std::uint64_t i) {
        if (!ledger.cutCheckins.empty()) {
            auto urn = ledger.cutCheckins.front();
            ledger.cutCheckins.pop_front();
            return std::pair{ledger.devices[urn], Why::retry};
        }
        const auto now = unixNow();
        const auto slot = i % 6;
        if (slot >= 1 && slot <= 3) {
            for (const auto& urn : ledger.introduced) {
                const Device& x = ledger.devices[urn];
                if (x.kind != Kind::waiting && !ledger.checkedIn.count(urn) && !ledger.refusedExpired.count(urn))
                    return std::pair{x, Why::fresh};
            }
        }
        if (slot == 4 || (slot >= 1 && slot <= 3)) {
            std::vector<const std::string*> refused;
            for (const auto& urn : ledger.introduced) {
                if (ledger.checkedIn.count(urn) || ledger.expiresAt[urn] > now) continue;
                if (!ledger.refusedExpired.count(urn)) return std::pair{ledger.devices[urn], Why::expired};
                refused.push_back(&urn);
            }
            if (!refused.empty() && slot == 4) return std::pair{ledger.devices[*refused[(i / 6) % refused.size()]], Why::expired};
        }
        if (slot == 5 && !ledger.checkedIn.empty()) {
            auto it = ledger.checkedIn.begin();
            std::advance(it, static_cast<long>(i % ledger.checkedIn.size()));
            return std::pair{ledger.devices[*it], Why::again};
        }
        return std::nullopt;
    }

    /// Message 11: introduced devices check in (certificate or PSK), also once their
    /// introduction expired; devices nobody introduced too; check-ins a kill cut off are sent
    /// again, checked-in devices check in again.
    void checker(const test::ControllerProcess& c, const std::atomic<bool>& stop) {
        const auto coaps = protocol::parseHostPort(c.coaps, "coaps");
        ASSERT_TRUE(coaps);
        for (std::uint64_t i = 0; !stop; ++i) {
            Device d;
            Why why = Why::fresh;
            {
                std::lock_guard lock(ledger.mutex);
                auto next = nextCheckin(i);
                if (next) std::tie(d, why) = *next;
            }
            if (d.urn.empty() && i % 6 != 0) {  // nothing to do: wait for an introduction
                std::unique_lock lock(ledger.mutex);
                const auto seen = ledger.introductionsAnswered;
                ledger.changed.wait_for(lock, 50ms, [&] { return stop || ledger.introductionsAnswered != seen; });
                continue;
            }
            if (d.urn.empty()) {
                d = makeDevice(Kind::unintroduced);
                std::lock_guard lock(ledger.mutex);
                ledger.devices[d.urn] = d;
            }
            const auto payload = json::to_cbor(json{{"urn", d.urn}});
            const auto sent = unixNow();
            auto r = test::coapPost(coaps->port, d.key, c.fingerprint, "tte/v1/checkin", payload, 10s,
                                    [&] { return stop.load(); });
            const auto answered = unixNow();
            std::lock_guard lock(ledger.mutex);
            const std::string what = "check-in of " + d.urn + (why == Why::retry ? " (sent again after a kill)" : "");
            if (r.code == 0) {  // no answer: the kill (or a handshake it broke); sent again later
                ledger.cutCheckins.push_back(d.urn);
                if (!ledger.cutCheckinSent.count(d.urn)) ledger.cutCheckinSent[d.urn] = sent;
                continue;
            }
            const std::string text(r.payload.begin(), r.payload.end());
            if (d.kind == Kind::unintroduced) {
                if (r.code != 204) ledger.errors.push_back(what + " answered " + std::to_string(r.code) + ": " + text);
                else {
                    if (why == Why::again) ledger.repeats++;
                    if (why == Why::retry) ledger.retriedAfterCut++;
                    ledger.checkedIn.insert(d.urn);
                    ledger.acks++;
                }
                continue;
            }
            // PROTOCOL §8: registered (2.04) only before expires_at; refused as expired after it.
            const std::int64_t expires = ledger.expiresAt[d.urn];
            const bool couldRegister = ledger.checkedIn.count(d.urn) || sent < expires ||
                                       (ledger.cutCheckinSent.count(d.urn) && ledger.cutCheckinSent[d.urn] < expires);
            if (r.code == 204) {
                if (!couldRegister || ledger.refusedExpired.count(d.urn)) {
                    ledger.errors.push_back(what + " answered 2.04 though its introduction expired at " +
                                            std::to_string(expires) + " (sent at " + std::to_string(sent) + ")");
                    continue;
                }
                if (why == Why::again) ledger.repeats++;
                if (why == Why::retry) ledger.retriedAfterCut++;
                if (expires - sent <= kShortTtl) ledger.checkinsBeforeExpiryInShortTtl++;
                ledger.checkedIn.insert(d.urn);
                ledger.cutCheckinSent.erase(d.urn);
                if (std::find(checkedInIntroduced.begin(), checkedInIntroduced.end(), d.urn) == checkedInIntroduced.end())
                    checkedInIntroduced.push_back(d.urn);
                ledger.acks++;
            } else if (r.code == 403 && text == "introduction expired" && answered >= expires &&
                       !ledger.checkedIn.count(d.urn)) {
                ledger.refusedAgain += ledger.refusedExpired.count(d.urn);
                ledger.refusedExpired.insert(d.urn);
                ledger.cutCheckinSent.erase(d.urn);
                ledger.expiredRefusals++;
                ledger.acks++;
            } else {
                ledger.errors.push_back(what + " answered " + std::to_string(r.code) + ": " + text + " (expires_at " +
                                        std::to_string(expires) + ", sent " + std::to_string(sent) + ", answered " +
                                        std::to_string(answered) + ")");
            }
        }
    }

    /// One round: load on the running Controller, SIGKILL after a random number of acks, start again.
    void killRound() {
        std::atomic<bool> stop{false};
        std::uint64_t target = 0;
        {
            std::lock_guard lock(rngMutex);
            target = ledger.acks + 5 + rng() % 40;
        }
        const test::ControllerProcess& c = controller;
        std::thread workers[] = {std::thread([&] { introducer(c, stop); }), std::thread([&] { checker(c, stop); }),
                                 std::thread([&] { motherShipWorker(c, stop); })};
        const bool reached = test::waitFor([&] { return ledger.acks >= target; }, 60s);
        const auto killedAt = unixMillis();
        const int status = controller.proc->kill(SIGKILL);
        stop = true;
        msWake.notify_all();
        ledger.changed.notify_all();
        for (auto& t : workers) t.join();
        EXPECT_TRUE(reached) << "the Controller stopped acknowledging requests:\n" << controller.proc->err();
        EXPECT_EQ(status, -SIGKILL);
        keepDownUntilAnExpiry();
        start();
        EXPECT_EQ(controller.fingerprint, firstFingerprint) << "the Controller's key changed in a kill";
        std::lock_guard lock(ledger.mutex);
        // Expired while down or starting: the Controller counts an introduction expired from
        // the first millisecond of its expires_at second.
        for (const auto& [urn, expires] : ledger.expiresAt)
            if (expires * 1000 >= killedAt && expires * 1000 <= readyAtMs && !ledger.checkedIn.count(urn)) expiredWhileDown.insert(urn);
    }

    /// After every other kill of a start with the short TTL: the Controller stays down until
    /// the pending introduction that expires first has expired (at most kShortTtl seconds), so
    /// that expiries while it is down do not depend on where the kill fell.
    void keepDownUntilAnExpiry() {
        if (!shortTtl || (starts / 2) % 2 == 0) return;
        std::int64_t first = 0;
        {
            std::lock_guard lock(ledger.mutex);
            const auto now = unixNow();
            for (const auto& [urn, expires] : ledger.expiresAt)
                if (!ledger.checkedIn.count(urn) && expires > now && expires <= now + kShortTtl && (first == 0 || expires < first))
                    first = expires;
        }
        if (first == 0) return;
        EXPECT_TRUE(test::waitFor([&] { return unixMillis() >= first * 1000; }, std::chrono::seconds(kShortTtl + 2)));
        heldDown++;
    }

    /// `sqlite3 -readonly` on the Controller's database; its output.
    std::string sql(const std::string& query) {
        auto r = test::runShell("sqlite3 -readonly " + (dir.path() / "state/controller.db").string() + " \"" + query + "\"");
        EXPECT_EQ(r.exitCode, 0) << r.output;
        return r.output;
    }

    /// What the poller stored for an introduced device: unknown or a state the MotherShip had,
    /// forward only, frozen once the introduction expired before a start.
    void checkMotherShipState(const std::string& urn, const Device& d, const std::string& msState) {
        if (msState != "unknown") {
            const auto& had = ledger.msStates[urn];
            EXPECT_NE(std::find(had.begin(), had.end(), msState), had.end())
                << "the poller stored '" << msState << "', a state the MotherShip never had for this device"
                << (d.atMotherShip ? "" : " (it never heard of it)");
            if (statusSeen.insert({urn, msState}).second) statusAnswers[msState]++;
        }
        auto [last, first] = lastMsState.try_emplace(urn, msState);
        EXPECT_GE(rankOf(msState), rankOf(last->second)) << "the stored MotherShip state went back from " << last->second;
        last->second = msState;
        if (auto f = frozen.find(urn); f != frozen.end()) {
            EXPECT_EQ(msState, f->second) << "the poller asked about an introduction that had expired";
        }
    }

    /// Everything acknowledged is there, as sent; nothing is half-written.
    void checkStore() {
        EXPECT_EQ(sql("PRAGMA integrity_check"), "ok\n");
        const auto listSent = unixNow();
        auto listed = client::httpsRequest(client::HttpsOptions::pinned(controller.fingerprint, 10s), "GET",
                                           "https://" + controller.https + "/tte/v1/devices");
        const auto listAnswered = unixNow();
        ASSERT_TRUE(listed && listed->status == 200) << (listed ? listed->body : listed.error().toString());
        std::map<std::string, json> rows;
        const json doc = json::parse(listed->body);
        for (const auto& d : doc["devices"]) rows[d["urn"]] = d;
        // urn|introduced|registered|otp|psk|ms_state for each row, secrets included (test only).
        // Read after the list: the poller may have stored a newer answer meanwhile.
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
        const std::set<std::string> cut(ledger.cutIntroductions.begin(), ledger.cutIntroductions.end());
        std::set<std::string> forgetNow;  // OTPs that must be gone by the next check
        for (auto& [urn, row] : rows) {
            SCOPED_TRACE(row.dump());
            ASSERT_TRUE(ledger.devices.count(urn)) << "a device nobody sent";
            const Device& d = ledger.devices[urn];
            const auto& db = stored[urn];
            const bool registered = row["state"] == "registered";
            EXPECT_EQ(row["fingerprint"], d.fingerprint);
            EXPECT_EQ(db[2] == "1", registered);
            if (d.kind == Kind::unintroduced) {
                EXPECT_EQ(db[5], "unknown") << "nobody could ask the MotherShip about it";
                EXPECT_EQ(row["introduced"], false);
                EXPECT_TRUE(registered) << "a device accepted unintroduced is stored checked in, or not at all";
                EXPECT_FALSE(row["last_seen"].is_null());
                continue;
            }
            EXPECT_EQ(row["introduced"], true);
            EXPECT_EQ(row["devid"], toHex(d.devId, 8));
            EXPECT_EQ(row["description"], d.description);
            EXPECT_EQ(db[4], d.pskHex);
            checkMotherShipState(urn, d, db[5]);
            // The expiry the introducer was answered (unknown while a resend is outstanding).
            const bool expiryKnown = ledger.introduced.count(urn) && !cut.count(urn);
            const std::int64_t expires = expiryKnown ? ledger.expiresAt[urn] : 0;
            if (expiryKnown) {
                EXPECT_EQ(row["expires_at"], expires);
            }
            const bool finalAtMs = db[5] == "registered" || db[5] == "revoked";
            if (registered) {
                EXPECT_FALSE(row["last_seen"].is_null());
                EXPECT_FALSE(ledger.refusedExpired.count(urn)) << "checked in after its check-in was refused as expired";
                if (expiryKnown && !ledger.checkedIn.count(urn)) {
                    EXPECT_TRUE(ledger.cutCheckinSent.count(urn) && ledger.cutCheckinSent[urn] < expires)
                        << "registered without a check-in sent before its introduction expired";
                }
                EXPECT_EQ(db[3], "") << "a checked-in device keeps no OTP";
                // Each device once, in the check after it was first seen checked in (the
                // restart's checkpoint is what wipes a WAL the kill left).
                if (otpSearched.insert(urn).second) {
                    EXPECT_EQ(files.find(d.otpHex), std::string::npos) << "the OTP of a checked-in device is in the database files";
                }
                continue;
            }
            if (expiryKnown) {
                if (expires <= listSent) {
                    EXPECT_EQ(row["state"], "expired");
                }
                if (expires > listAnswered) {
                    EXPECT_EQ(row["state"], "introduced");
                }
            }
            const bool expiredBeforeStart = expiryKnown && expires <= startedAt;
            if (expiredBeforeStart) frozen.try_emplace(urn, db[5]);
            if (finalAtMs || expiredBeforeStart) {
                EXPECT_EQ(db[3], "") << (finalAtMs ? "the MotherShip's final state" : "an introduction that expired before the start")
                                     << " leaves no OTP";
                if (expiredBeforeStart) expiredOtpsForgotten.insert(urn);
                // In the files: the start wiped what expired before it; what the poller forgot
                // meanwhile is looked for in the next check (its checkpoint may still be under way).
                if (expiredBeforeStart || forgetDue.count(urn)) {
                    if (otpSearched.insert(urn).second) {
                        EXPECT_EQ(files.find(d.otpHex), std::string::npos) << "a forgotten OTP is in the database files";
                    }
                } else if (!cut.count(urn)) {
                    forgetNow.insert(urn);
                }
            } else if (row["state"] == "introduced") {
                EXPECT_EQ(db[3], d.otpHex) << "a pending introduction keeps its OTP (message 7)";
            }
        }
        forgetDue = std::move(forgetNow);
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
        std::size_t unintroduced = 0, expired = 0;
        for (const auto& urn : ledger.checkedIn) unintroduced += ledger.devices[urn].kind == Kind::unintroduced;
        for (const auto& [urn, expires] : ledger.expiresAt) expired += !ledger.checkedIn.count(urn) && expires <= unixNow();
        std::size_t answers = 0;
        for (const auto& [state, n] : statusAnswers) answers += n;
        std::printf("seed %llu: kills survived: %d in %.1f s; acknowledged: %zu introductions, %zu check-ins (%zu of "
                    "devices never introduced), %zu answered again as the first time (%zu of them sent again after a "
                    "kill cut them off); acknowledged requests lost: %zu\n",
                    static_cast<unsigned long long>(seed), survived, seconds, ledger.introduced.size(),
                    ledger.checkedIn.size(), unintroduced, ledger.repeats + ledger.retriedAfterCut,
                    ledger.retriedAfterCut, lostTotal);
        std::printf("  MotherShip: %zu steps (claims, CoAP registrations, revocations); answers the poller stored: %zu "
                    "(not-mapped %d, mapped %d, registered %d, revoked %d); %d of %d starts with the MotherShip "
                    "unreachable\n",
                    ledger.msSteps, answers, statusAnswers["not-mapped"], statusAnswers["mapped"],
                    statusAnswers["registered"], statusAnswers["revoked"], unreachableStarts, starts);
        std::printf("  expiry: %d of %d starts with a %ld s TTL; %zu introductions expired (%zu of them while the "
                    "Controller was down or starting – %d times it was kept down for one –, %zu OTPs seen overwritten "
                    "at a start); %zu check-ins refused as expired (%zu of them refused again); %zu check-ins 2.04 "
                    "within a short TTL\n",
                    shortTtlStarts, starts, kShortTtl, expired, expiredWhileDown.size(), heldDown, expiredOtpsForgotten.size(),
                    ledger.expiredRefusals, ledger.refusedAgain, ledger.checkinsBeforeExpiryInShortTtl);
        EXPECT_EQ(survived, kills);
        EXPECT_GT(ledger.checkedIn.size(), 0u);
        EXPECT_GT(answers, 0u) << "the poller never stored an answer of the MotherShip";
        EXPECT_GT(ledger.expiredRefusals, 0u) << "no check-in met an expired introduction";
        EXPECT_GT(expiredWhileDown.size(), 0u) << "no introduction expired while the Controller was down";
    }

    test::TempDir dir{"controller-kill"};
    test::MotherShipSite site{test::MotherShipSiteOptions{1000000}};  // the poller asks about unknown Dev IDs too
    test::ControllerProcess controller;
    std::string firstFingerprint;
    Ledger ledger;
    std::mutex rngMutex;
    std::mt19937_64 rng;
    std::uint64_t seed = 0;
    std::uint32_t nextDevice = 0x10000;
    std::size_t lostTotal = 0;
    std::set<std::string> otpSearched;  ///< devices whose OTP was looked for in the files (once each)
    std::set<std::string> forgetDue;    ///< OTPs the poller forgot before the last check
    std::vector<std::string> checkedInIntroduced;  ///< introduced devices answered 2.04 (sent again now and then)
    std::mutex msMutex;
    std::condition_variable msWake;
    // Per start.
    int starts = 0, unreachableStarts = 0, shortTtlStarts = 0, heldDown = 0;
    bool shortTtl = false, msReachable = true;
    std::int64_t startedAt = 0, readyAtMs = 0;
    // What the checks saw.
    std::map<std::string, std::string> lastMsState, frozen;
    std::set<std::pair<std::string, std::string>> statusSeen;
    std::map<std::string, int> statusAnswers;
    std::set<std::string> expiredWhileDown, expiredOtpsForgotten;
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
