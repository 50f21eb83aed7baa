// A wrong OTP for a stored Dev ID and any OTP for an unknown Dev ID must not be told apart by
// the time the MotherShip takes to answer (PROTOCOL §6), or an attacker learns which Dev IDs
// exist – and, when the difference grows with the attempts, how often a device was tried.
// Measured from outside like an attacker would: a real tte-mothership on SQLite, lockout limits
// raised, mapping POSTs over one keep-alive HTTPS connection, the two kinds interleaved in a
// seeded random order, their response times compared with a two-sample Kolmogorov–Smirnov
// test. Only distributions of the same run are compared, never absolute times, so a loaded
// machine slows both samples alike.
//
// Size from the environment (the `soak` ctest entry runs the full one):
//   TTE_TIMING_ROUNDS (1)  rounds, each tested on its own
//   TTE_TIMING_PAIRS (1000) pairs of POSTs per round
//   TTE_TIMING_PRIME (2500) wrong OTPs sent first for the stored Dev ID, unmeasured: an
//                           attacker can build up a device's audit trail slowly, under the limits
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "kolmogorov_smirnov.h"
#include "support/mothership.h"
#include "tte/base/hex.h"

namespace tte::test {
namespace {

constexpr std::uint32_t kDev = 0x00000101;
constexpr std::uint32_t kUnknownDev = 0x00000177;  // inside the lot, never stored
constexpr std::uint64_t kOtp = 0x1122334455667788ULL;
// A p-value below this fails: the same code path on both sides gives p uniform in [0, 1], so
// a false alarm is one run in 10,000; the difference this test was written for gives p < 1e-30.
constexpr double kAlarm = 1e-4;

int envInt(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

std::string mappingBody(std::uint32_t dev, std::uint64_t otp) {
    return "otp=" + toHex(otp, 16) + "&devid=" + toHex(dev, 8) + "&cip=192.0.2.10&cport=5684&cfingerprint=" +
           std::string(64, 'c');
}

TEST(TimingOracle, WrongOtpAndUnknownDevIdAnswerInTheSameTime) {
    const int rounds = envInt("TTE_TIMING_ROUNDS", 1);
    const int pairs = envInt("TTE_TIMING_PAIRS", 1000);
    const int prime = envInt("TTE_TIMING_PRIME", 2500);
    // The registry on a RAM file system where there is one: the commit of each refusal then
    // costs microseconds instead of a disk flush of milliseconds whose spread would hide a
    // difference of tens of microseconds (an attacker just needs more samples against a disk).
    std::error_code ec;
    if (std::filesystem::is_directory("/dev/shm", ec)) setenv("TMPDIR", "/dev/shm", 1);
    TempDir dir;
    const Pki pki = makePki(dir);
    ASSERT_EQ(runShell(binary("tte-mothership") + " admin keygen otp --out " + dir.file("otp.key")).exitCode, 0);
    writeFile(dir.file("ms.toml"),
              "ms_id = 1\nlog_level = \"warn\"\n"
              "[https]\nlisten = \"127.0.0.1:0\"\ncert = \"" + pki.tlsCert + "\"\nkey = \"" + pki.tlsKey + "\"\n"
              "[coaps]\nlisten = \"127.0.0.1:0\"\ncert = \"" + pki.dtlsCert + "\"\nkey = \"" + pki.dtlsKey + "\"\n"
              "[database]\nurl = \"sqlite://" + dir.file("registry.db") + "\"\n"
              "[otp_hash]\nkey_file = \"" + dir.file("otp.key") + "\"\n"
              "[limits]\nmax_failures_per_device = 1000000\nmax_failures_per_client = 1000000\n"
              "window_s = 60\nlockout_s = 1\n");
    const auto admin = [&](const std::string& args) {
        auto r = runShell(binary("tte-mothership") + " --config " + dir.file("ms.toml") + " admin " + args);
        EXPECT_EQ(r.exitCode, 0) << args << "\n" << r.output;
    };
    admin("station add --cert " + pki.stationCert + " --name station-1");
    admin("lot set --lot lot-1 --first 00000100 --last 000001ff");
    ServerProcess server(dir.file("ms.toml"), dir);
    const auto stored = https(server.httpsPort(), pki.caCert,
                              HttpCall{"POST", "/api/v1/records",
                                       nlohmann::json{{"records", {signedRecord(pki.stationKey, "station-1", kDev, kOtp,
                                                                                pki.deviceFingerprint, 1)}}}.dump(),
                                       "application/json", "", pki.stationCert, pki.stationKey});
    ASSERT_EQ(stored.status, 200) << stored.body << stored.error;

    HttpsSession client(server.httpsPort(), pki.caCert);
    const auto post = [&](std::uint32_t dev) {
        return client.request(HttpCall{"POST", "/.well-known/tte", mappingBody(dev, kOtp ^ 0x5a5a),
                                       "application/x-www-form-urlencoded", "", "", ""});
    };
    const auto refused = post(kUnknownDev);
    ASSERT_EQ(refused.status, 404) << refused.body << refused.error;
    for (int i = 0; i < prime; ++i) ASSERT_EQ(post(kDev).status, 404);

    std::mt19937 order(20261202);
    for (int round = 0; round < rounds; ++round) {
        std::vector<double> wrong, unknown;
        wrong.reserve(static_cast<std::size_t>(pairs));
        unknown.reserve(static_cast<std::size_t>(pairs));
        for (int i = 0; i < pairs; ++i) {
            const bool wrongFirst = (order() & 1U) != 0;
            for (int k = 0; k < 2; ++k) {
                const bool isWrong = (k == 0) == wrongFirst;
                const auto a = post(isWrong ? kDev : kUnknownDev);
                // The same answer, byte for byte, over the same connection.
                ASSERT_EQ(a.status, 404) << a.body << a.error;
                ASSERT_EQ(a.body, refused.body);
                ASSERT_EQ(client.lastNewConnections(), 0) << "the keep-alive connection was not reused";
                (isWrong ? wrong : unknown).push_back(std::chrono::duration<double, std::micro>(client.lastDuration()).count());
            }
        }
        const KsResult ks = ksTwoSample(wrong, unknown);
        const double mw = median(wrong), mu = median(unknown);
        RecordProperty("round" + std::to_string(round) + "_ks_p", std::to_string(ks.p));
        std::printf("round %d: %d pairs, median wrong OTP %.1f us, unknown Dev ID %.1f us (difference %+.1f us), "
                    "KS D %.4f p %.3g\n",
                    round + 1, pairs, mw, mu, mw - mu, ks.d, ks.p);
        EXPECT_GE(ks.p, kAlarm) << "round " << round + 1 << ": a wrong OTP answers in a different time than an unknown "
                                << "Dev ID (median " << mw << " us against " << mu << " us, KS D " << ks.d << ")";
    }
    EXPECT_EQ(server.stop(), 0) << server.log();
}

}  // namespace
}  // namespace tte::test
