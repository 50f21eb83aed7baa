// protocol_bench: how much the protocol formats cost, each against a bound measured here.
//  - CRC-32 of the provisioning block vs zlib's crc32 (target ratio >= 0.1: ours is the
//    byte-at-a-time table that also fits the Cortex-M4's flash, 1 KiB; zlib reads 8 bytes at
//    a time with much bigger tables. 0.15 measured: about 20 µs per block, which no caller
//    notices, so the small code wins);
//  - Enrollment URL parses vs OTP hashes per second (target >= 1: the MotherShip hashes the OTP
//    of every request, parsing the URL must not cost more than that);
//  - StationRecord::fromJson vs a bare nlohmann::json::parse of the same text (target >= 0.2:
//    the strict checks may cost a few times the parse, not more).
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "report.h"
#include "tte/protocol/enrollment_url.h"
#include "tte/protocol/freestanding/block.h"
#include "tte/protocol/freestanding/crc32.h"
#include "tte/protocol/otp_hash.h"
#include "tte/protocol/station_messages.h"

namespace {

using Clock = std::chrono::steady_clock;

/// Calls `f` `n` times and returns calls per second.
template <class F>
double rate(std::size_t n, F&& f) {
    const auto start = Clock::now();
    for (std::size_t i = 0; i < n; ++i) f(i);
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    return static_cast<double>(n) / (s > 0 ? s : 1e-9);
}

volatile std::uint64_t g_sink = 0;  // keeps results alive against the optimizer

std::string recordText() {
    tte::protocol::StationRecord r;
    r.recordId = "st1-42";
    r.station = "st1";
    r.seq = 42;
    r.devId = tte::protocol::DevId{0xabcdef01};
    r.urn = *tte::protocol::parseDevUrn("urn:dev:ops:32473-Sensor-00000000abcdef01");
    r.fingerprint = *tte::protocol::parseFingerprint(std::string(64, 'a'));
    r.otp = tte::protocol::Otp(0x123456789abcdef0ULL);
    r.lot = "lot-1";
    r.created = "2026-11-23T07:00:00Z";
    r.signature = "MEUCIQ==";
    return r.toJson();
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = tte::bench::parseOptions(argc, argv);
    const std::size_t n = options.smoke ? 200 : 200000;
    std::vector<tte::bench::Figure> figures;

    std::vector<std::uint8_t> block(tte::protocol::kBlockSize, 0x5A);
    const double ours = rate(n / 4 + 1, [&](std::size_t i) {
        block[0] = static_cast<std::uint8_t>(i);
        g_sink = g_sink + tte::protocol::crc32(block);
    });
    const double zlib = rate(n / 4 + 1, [&](std::size_t i) {
        block[0] = static_cast<std::uint8_t>(i);
        g_sink = g_sink + ::crc32(0, block.data(), static_cast<uInt>(block.size()));
    });
    const double mb = static_cast<double>(block.size()) / 1e6;
    figures.push_back({"CRC-32 of a 2048-byte block", ours * mb, "MB/s", "zlib crc32", zlib * mb, ours / zlib, 0.1});

    const std::string url = "https://tte-000001.net/.well-known/tte?otp=123456789abcdef0,devid=abcdef01";
    const double parses = rate(n, [&](std::size_t) { g_sink = g_sink + tte::protocol::parseEnrollmentUrl(url)->devId.value; });
    const std::vector<std::uint8_t> key(32, 7);
    const double hashes = rate(n, [&](std::size_t i) {
        g_sink = g_sink + tte::protocol::otpHash(key, tte::protocol::DevId{static_cast<std::uint32_t>(i)}, tte::protocol::Otp(i))[0];
    });
    figures.push_back({"Enrollment URL parses", parses, "ops/s", "OTP hashes (HMAC-SHA256)", hashes, parses / hashes, 1.0});

    const std::string text = recordText();
    const double strict = rate(n / 10 + 1, [&](std::size_t) {
        g_sink = g_sink + tte::protocol::StationRecord::fromJson(text)->seq;
    });
    const double bare = rate(n / 10 + 1, [&](std::size_t) { g_sink = g_sink + nlohmann::json::parse(text).size(); });
    figures.push_back({"StationRecord::fromJson", strict, "ops/s", "nlohmann::json::parse", bare, strict / bare, 0.2});

    tte::bench::print(figures, options);
    return 0;
}
