// The real tte-controller process on port 0: identity persistence, HTTPS introductions with
// the key pinned (libcurl), CoAP/DTLS check-in from a real libcoap client with a device
// certificate (coap-client-openssl), expiry, and bad flags.
#include <fstream>

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/sites.h"
#include "tte/client/https_client.h"
#include "tte/protocol/fingerprint.h"

namespace tte::controller {
namespace {

using nlohmann::json;
using test::TempDir;

using Running = test::ControllerProcess;

/// A Controller on port 0 whose state (identity, database) is `dir`/state across restarts.
Running startController(const TempDir& dir, const std::string& name, std::vector<std::string> extra = {}) {
    extra.push_back("--no-status-queries");
    return test::startController(dir.path(), name, std::move(extra), "state");
}

struct DeviceKey {
    std::string cert, key, fingerprint;
};

DeviceKey makeDeviceKey(const TempDir& dir, const std::string& name) {
    DeviceKey d{(dir.path() / (name + ".crt")).string(), (dir.path() / (name + ".key")).string(), {}};
    auto r = test::run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", d.key, "-out", d.cert, "-subj", "/CN=device", "-days", "30"},
                       dir.path(), name + "-openssl");
    EXPECT_EQ(r.code, 0) << r.err;
    d.fingerprint = protocol::fingerprintFromPem(test::readText(d.cert))->hex();
    return d;
}

/// POST /tte/v1/checkin with CBOR {"urn": urn} as the device; returns coap-client's output.
std::string checkin(const TempDir& dir, const Running& c, const DeviceKey& d, const std::string& urn) {
    auto body = json::to_cbor(json{{"urn", urn}});
    auto bodyFile = dir.path() / "checkin.cbor";
    std::ofstream(bodyFile, std::ios::binary).write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
    auto r = test::run({"/usr/bin/coap-client-openssl", "-m", "post", "-c", d.cert, "-j", d.key, "-f", bodyFile.string(),
                        "-B", "10", "coaps://" + c.coaps + "/tte/v1/checkin"},
                       dir.path(), "coap-client");
    return r.out + r.err;
}

std::string introduction(const DeviceKey& d, const std::string& urn) {
    return json{{"urn", urn}, {"fingerprint", d.fingerprint}, {"otp", "0011223344556677"},
                {"devid", urn.substr(urn.size() - 8)}, {"ms", "tte-000001.net"}, {"description", "lab bench"}}
        .dump();
}

json devices(const Running& c) {
    auto r = client::httpsRequest(client::HttpsOptions::pinned(c.fingerprint, std::chrono::seconds(10)), "GET", "https://" + c.https + "/tte/v1/devices");
    EXPECT_TRUE(r) << r.error().toString();
    return json::parse(r->body)["devices"];
}

TEST(ControllerProcess, IntroducedDeviceChecksInOverDtls) {
    TempDir dir;
    auto c = startController(dir, "controller");
    ASSERT_EQ(c.fingerprint.size(), 64u);
    auto dev = makeDeviceKey(dir, "dev");
    const std::string urn = "urn:dev:ops:32473-Thermo-00000000abcdef01";

    EXPECT_NE(checkin(dir, c, dev, urn).find("4.04 not introduced yet: no introduction for this device key"), std::string::npos);

    const auto pinned = client::HttpsOptions::pinned(c.fingerprint, std::chrono::seconds(10));
    auto post = client::httpsRequest(pinned, "POST", "https://" + c.https + "/tte/v1/introductions",
                                         introduction(dev, urn), "application/json");
    ASSERT_TRUE(post) << post.error().toString();
    EXPECT_EQ(post->status, 201) << post->body;

    std::string out = checkin(dir, c, dev, urn);
    EXPECT_EQ(out.find("4."), std::string::npos) << out;
    auto list = devices(c);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["state"], "registered");

    auto other = makeDeviceKey(dir, "other");
    EXPECT_NE(checkin(dir, c, other, urn).find("4.03 wrong key: the urn was introduced with another device key"),
              std::string::npos);

    auto metrics = client::httpsRequest(pinned, "GET", "https://" + c.https + "/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_NE(metrics->body.find("tte_controller_checkins_total 1\n"), std::string::npos) << metrics->body;
    EXPECT_EQ(c.proc->kill(SIGTERM), 0);
}

TEST(ControllerProcess, WrongPinIsRefusedByTheIntroducerClient) {
    TempDir dir;
    auto c = startController(dir, "controller");
    const auto wrong = client::HttpsOptions::pinned(std::string(64, '0'), std::chrono::seconds(10));
    auto r = client::httpsRequest(wrong, "GET", "https://" + c.https + "/tte/v1/devices");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unauthenticated) << r.error().toString();
    EXPECT_EQ(r.error().nativeCode, 90);  // CURLE_SSL_PINNEDPUBKEYNOTMATCH
}

TEST(ControllerProcess, IdentityPersistsAndShowIdentityPrintsIt) {
    TempDir dir;
    std::string first;
    {
        auto c = startController(dir, "first");
        first = c.fingerprint;
        // The ports file is written before main() prints the ready line: wait for the line.
        EXPECT_TRUE(test::waitFor([&] { return c.proc->out().find("fingerprint=" + first) != std::string::npos; },
                                  std::chrono::seconds(10)))
            << c.proc->out();
        EXPECT_NE(c.proc->out().find("tte-controller ready https=127.0.0.1:"), std::string::npos);
    }
    auto c2 = startController(dir, "second");
    EXPECT_EQ(c2.fingerprint, first);
    auto show = test::run({(test::binDir() / "tte-controller").string(), "--state-dir", (dir.path() / "state").string(),
                           "show-identity"},
                          dir.path(), "show");
    EXPECT_EQ(show.code, 0);
    EXPECT_NE(show.out.find("fingerprint " + first), std::string::npos) << show.out;
}

TEST(ControllerProcess, ExpiredIntroductionIsRefused) {
    TempDir dir;
    auto c = startController(dir, "controller", {"--introduction-ttl", "1"});
    auto dev = makeDeviceKey(dir, "dev");
    const std::string urn = "urn:dev:ops:32473-Thermo-00000000abcdef01";
    const auto pinned = client::HttpsOptions::pinned(c.fingerprint, std::chrono::seconds(10));
    auto post = client::httpsRequest(pinned, "POST", "https://" + c.https + "/tte/v1/introductions",
                                         introduction(dev, urn), "application/json");
    ASSERT_TRUE(post && post->status == 201);
    // Wait (with a deadline) until the controller itself lists the introduction as expired.
    ASSERT_TRUE(test::waitFor([&] { return devices(c)[0]["state"] == "expired"; }, std::chrono::seconds(10)));
    EXPECT_NE(checkin(dir, c, dev, urn).find("4.03 introduction expired"), std::string::npos);
}

TEST(ControllerProcess, BadFlagsExitWithOneLine) {
    TempDir dir;
    auto r = test::run({(test::binDir() / "tte-controller").string(), "--state-dir", (dir.path() / "s").string(),
                        "--https-listen", "nowhere"},
                       dir.path(), "bad");
    EXPECT_EQ(r.code, 2);  // a usage error: the unit does not restart it
    EXPECT_EQ(r.err, "tte-controller: --https-listen: listen address must be ADDR:PORT or [IPv6]:PORT, got 'nowhere' "
                     "(see tte-controller --help)\n");
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "s")) << "a refused flag must start nothing";
    auto help = test::run({(test::binDir() / "tte-controller").string(), "--help"}, dir.path(), "help");
    EXPECT_EQ(help.code, 0);
    EXPECT_NE(help.out.find("--accept-unintroduced"), std::string::npos);
}

}  // namespace
}  // namespace tte::controller
