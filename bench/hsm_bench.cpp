// Benchmarks of the station's token work through Pkcs11KeyStore (SoftHSM in a temp dir made
// here), each figure a ratio to the same operation in OpenSSL in memory (FakeKeyStore, which
// is OpenSSL plus a map lookup), measured in the same run; plus one device's whole token work
// (OTP, device key with certificate, record signature) against the 2 ms budget.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "report.h"
#include "tte/hsm/fake_key_store.h"
#include "tte/hsm/pkcs11_key_store.h"
#include "support/softhsm.h"
#include "support/temp_dir.h"
#include "tte/hsm/softhsm_site.h"

namespace {

using namespace tte;
using namespace tte::hsm;
using Clock = std::chrono::steady_clock;

const std::string kStation = "pkcs11:object=station-key";
const std::string kLot = "pkcs11:object=lot-bench";

// Runs `op` `perThread` times in each of `threads` threads; returns operations per second,
// or a negative number when an operation failed.
double rate(int threads, int perThread, const std::function<bool()>& op) {
    std::atomic<bool> ok{true};
    auto start = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            for (int i = 0; i < perThread; ++i) {
                if (!op()) ok = false;
            }
        });
    }
    for (auto& t : pool) t.join();
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return ok ? threads * perThread / seconds : -1;
}

struct Op {
    const char* name;
    int count;  // per thread, full run
    std::function<bool(KeyStore&)> run;
};

Bytes recordBytes() {
    std::string record =
        R"({"box":null,"created":"2026-11-23T07:00:00Z","devid":"0000002a","fingerprint":")" + std::string(64, 'a') +
        R"(","firmware_sha256":")" + std::string(64, 'b') +
        R"(","lot":"L1","otp":"0123456789abcdef","prev":")" + std::string(64, 'c') +
        R"(","record_id":"st1-42","seq":42,"station":"st1","urn":"urn:dev:ops:32473-tte-000000000000002a"})";
    return Bytes(record.begin(), record.end());
}

bool deviceWork(KeyStore& s, const Bytes& record) {
    CertificateSpec spec{"urn:dev:ops:32473-tte-000000000000002a", std::chrono::system_clock::now()};
    return s.randomOtp() && s.generateDeviceKey(spec) && s.signSha256(kStation, record);
}

Status prepare(KeyStore& s) {
    if (auto k = s.createSigningKey(kStation); !k) return std::unexpected(k.error());
    return s.createHmacKey(kLot);
}

}  // namespace

int main(int argc, char** argv) {
    auto options = bench::parseOptions(argc, argv);
    tte::test::TempDir tmp("hsm-bench");
    const tte::test::SoftHsmToken site(tmp.path(), "tte-bench", false);
    if (!site.error().empty()) {
        std::fprintf(stderr, "hsm_bench: %s\n", site.error().c_str());
        return 1;
    }
    auto token = site.open();
    if (!token) {
        std::fprintf(stderr, "hsm_bench: %s\n", token.error().toString().c_str());
        return 1;
    }
    FakeKeyStore openssl("tte-bench");
    for (KeyStore* s : {static_cast<KeyStore*>(token->get()), static_cast<KeyStore*>(&openssl)}) {
        if (auto st = prepare(*s); !st) {
            std::fprintf(stderr, "hsm_bench: %s\n", st.error().toString().c_str());
            return 1;
        }
    }

    const Bytes record = recordBytes();
    const Bytes boxMessage = boxSecretMessage(7);
    CertificateSpec deviceSpec{"urn:dev:ops:32473-tte-000000000000002a", std::chrono::system_clock::now()};
    std::vector<Op> ops = {
        {"OTPs/s", 20000, [](KeyStore& s) { return s.randomOtp().has_value(); }},
        {"device keygens/s", 400, [&](KeyStore& s) { return s.generateDeviceKey(deviceSpec).has_value(); }},
        {"record signatures/s", 2000, [&](KeyStore& s) { return s.signSha256(kStation, record).has_value(); }},
        {"HMAC derivations/s", 20000, [&](KeyStore& s) { return s.hmac(kLot, boxMessage).has_value(); }},
    };
    std::vector<bench::Figure> figures;
    for (int threads : {1, 2}) {
        for (const auto& op : ops) {
            int n = options.smoke ? 5 : op.count / threads;
            double ours = rate(threads, n, [&] { return op.run(**token); });
            double bound = rate(threads, n, [&] { return op.run(openssl); });
            if (ours < 0 || bound < 0) {
                std::fprintf(stderr, "hsm_bench: %s failed\n", op.name);
                return 1;
            }
            figures.push_back({std::string(op.name) + " " + std::to_string(threads) + "T", ours, "ops/s",
                               "OpenSSL in memory, same threads", bound, ours / bound, 0.1});
        }
    }
    int devices = options.smoke ? 5 : 300;
    double tokenDevices = rate(1, devices, [&] { return deviceWork(**token, record); });
    double opensslDevices = rate(1, devices, [&] { return deviceWork(openssl, record); });
    if (tokenDevices < 0 || opensslDevices < 0) {
        std::fprintf(stderr, "hsm_bench: device work failed\n");
        return 1;
    }
    double ms = 1000.0 / tokenDevices;
    figures.push_back({"device token work (OTP+key+cert+sig)", ms, "ms", "budget 2 ms", 2.0, ms / 2.0, 1.0});
    figures.push_back({"device token work vs OpenSSL", ms, "ms", "same work in OpenSSL (ms)", 1000.0 / opensslDevices,
                       ms / (1000.0 / opensslDevices), 3.0});
    bench::print(figures, options);
    return 0;
}
