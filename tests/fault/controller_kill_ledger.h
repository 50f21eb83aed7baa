// The controller kill test's devices (what each sends, how it checks in, what the MotherShip
// hears of it), their key files, and the Ledger of what the Controller and MotherShip acknowledged.
#pragma once

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "support/sites.h"
#include "tte/base/hex.h"
#include "tte/protocol/fingerprint.h"

namespace tte::controller_kill_tests {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// certificate and psk devices check in at once; waiting ones only after their introduction
/// expired (then refused); unintroduced ones are never introduced.
enum class Kind { certificate, psk, waiting, unintroduced };

/// Why a request goes out: a new one, an answered one again, one a kill cut off again, or
/// (check-ins) one of a device whose introduction expired.
enum class Why { fresh, again, retry, expired };

inline constexpr long kShortTtl = 2;           ///< seconds, in every other start
inline constexpr long kLongTtl = 3600;         ///< no introduction expires in such a start's life
inline constexpr const char* kLot = "lot-ck";  ///< the MotherShip's lot for the test's Dev IDs

/// Wall-clock seconds, as the Controller counts them (it truncates too).
inline std::int64_t unixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

inline std::int64_t unixMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// The order of the MotherShip's states (PROTOCOL §6: not-mapped → mapped → registered;
/// revoked from any state, final); "unknown" (never answered) below all.
inline int rankOf(const std::string& msState) {
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
inline std::string makeKeyFiles(const fs::path& dir, std::uint32_t devId, test::CoapClientKey& key) {
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

}  // namespace tte::controller_kill_tests
