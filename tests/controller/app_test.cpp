// ControllerApp: a whole Controller started in a temp dir on port 0 (no MotherShip queries),
// its ports file and identity, the same identity after a restart, and its option checks.
#include "tte/controller/app.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/client/https_client.h"
#include "tte/controller/identity.h"
#include "tte/protocol/controller_messages.h"

namespace tte::controller {
namespace {

ControllerOptions options(const test::TempDir& dir) {
    ControllerOptions o;
    o.stateDir = (dir.path() / "state").string();
    o.httpsListen = "127.0.0.1:0";
    o.coapsListen = "127.0.0.1:0";
    o.noStatusQueries = true;
    o.portsFile = (dir.path() / "ports.json").string();
    return o;
}

TEST(ControllerApp, StartsWritesItsPortsAndKeepsItsIdentity) {
    test::TempDir dir;
    ManualClock clock;
    const auto o = options(dir);
    std::string fingerprint;
    {
        auto app = ControllerApp::start(o, clock);
        ASSERT_TRUE(app) << app.error().toString();
        const Ready& r = (*app)->ready();
        const auto ports = nlohmann::json::parse(test::readText(o.portsFile));
        EXPECT_EQ(ports["https"], r.https);
        EXPECT_EQ(ports["coaps"], r.coaps);
        EXPECT_EQ(ports["fingerprint"], r.fingerprint);
        EXPECT_TRUE(r.https.starts_with("127.0.0.1:")) << r.https;
        EXPECT_NE(r.https, "127.0.0.1:0");
        EXPECT_EQ(r.fingerprint, loadOrCreateIdentity(o.stateDir)->fingerprint);
        // Its HTTPS answers with the key it announced.
        auto list = client::httpsRequest(client::HttpsOptions::pinned(r.fingerprint, std::chrono::seconds(10)), "GET",
                                         "https://" + r.https + "/tte/v1/devices");
        ASSERT_TRUE(list) << list.error().toString();
        EXPECT_EQ(list->status, 200);
        EXPECT_TRUE(protocol::DeviceList::fromJson(list->body)) << list->body;
        fingerprint = r.fingerprint;
        (*app)->stop();
    }
    auto again = ControllerApp::start(o, clock);
    ASSERT_TRUE(again) << again.error().toString();
    EXPECT_EQ((*again)->ready().fingerprint, fingerprint);
}

TEST(ControllerApp, RefusesBadOptionsWithTheirName) {
    test::TempDir dir;
    ManualClock clock;
    auto o = options(dir);
    o.coapsListen = "localhost:0";
    EXPECT_EQ(ControllerApp::start(o, clock).error().message, "--coaps-listen: 'localhost' is not an IP address");
    o = options(dir);
    o.ttlSeconds = 0;
    EXPECT_EQ(ControllerApp::start(o, clock).error().message, "--introduction-ttl must be positive");
    o = options(dir);
    o.pollConcurrency = 0;
    EXPECT_EQ(ControllerApp::start(o, clock).error().message, "--poll-concurrency must be at least 1");
}

}  // namespace
}  // namespace tte::controller
