// The MotherShip out of reach too long holds the line, with the real parts: `tte-provision run`
// serves a fixture of two seats (SoftHSM token, private cupsd, simulated boards); the real
// tte-mothership is stopped; once records have waited longer than mothership.hold_after_s the
// run says in one line that the line holds and why, `status` shows it, new boards put into the
// seats wait without a Dev ID; the MotherShip is started again on the same port and the line
// goes on by itself: every board done, none failed, every record at the MotherShip, and the
// journal never shows a board started while the line held.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

#include "support/station_site.h"
#include "support/token_server.h"

namespace tte::test {
namespace {

using nlohmann::json;

std::vector<json> jsonLines(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(json::parse(line));
    return out;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

RunResult flash(StationSite& site, std::vector<std::string> args, const std::string& name) {
    std::vector<std::string> argv = {(binDir() / "tte-flash").string(), "--sim", site.path("sim").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, site.path(""), name);
}

TEST(StationLineStops, TheMotherShipStoppedHoldsTheLineUntilItRunsAgainOnTheSamePort) {
    const std::map<std::string, std::string> portOf = {{"A1", "1-1.1"}, {"A2", "1-1.2"}};
    StationSite site({.devices = 2, .slots = 1, .lock = "", .seats = {portOf.begin(), portOf.end()}, .msHoldAfterS = 1});
    ASSERT_EQ(site.setUp(), "");
    const std::uint16_t https = site.msHttpsPort(), coaps = site.msCoapsPort();
    Process line({(binDir() / "tte-provision").string(), "--config", site.path("station/station.toml").string(), "--sim",
                  site.path("sim").string(), "run", "--count", "6", "--operator", "erin"},
                 site.path(""), "line", {"SOFTHSM2_CONF=" + site.path("softhsm/softhsm2.conf").string()});
    ASSERT_TRUE(line.started());
    const auto committed = [&] { return count(line.out(), " committed\n"); };
    ASSERT_TRUE(waitFor([&] { return committed() == 2 || line.exited(); }, std::chrono::seconds(120)))
        << line.out() << line.err();
    ASSERT_FALSE(line.exited()) << line.out() << line.err();

    // Both records uploaded, the MotherShip goes away; the next two boards are provisioned,
    // their records wait.
    ASSERT_TRUE(waitFor([&] {
        auto e = site.msAdmin({"export", "--format", "jsonl"});
        return e.code == 0 && jsonLines(e.out).size() == 2;
    }, std::chrono::seconds(60)));
    site.stopMotherShip();
    for (const auto& [seat, port] : portOf) ASSERT_EQ(flash(site, {"sim", "replace", port}, "replace").code, 0);
    const std::string heldLine = "line held: The MotherShip has taken no record for more than 1 s (";
    ASSERT_TRUE(waitFor([&] { return (committed() == 4 && line.out().find(heldLine) != std::string::npos) || line.exited(); },
                        std::chrono::seconds(120)))
        << line.out() << line.err();
    ASSERT_FALSE(line.exited()) << line.out() << line.err();
    EXPECT_NE(line.out().find("check the network and the MotherShip at https://127.0.0.1:" + std::to_string(https) +
                              "; the line goes on by itself"),
              std::string::npos)
        << line.out();

    // Held: two new boards wait in their seats without a Dev ID, the status says why.
    for (const auto& [seat, port] : portOf) ASSERT_EQ(flash(site, {"sim", "replace", port}, "replace").code, 0);
    ASSERT_TRUE(waitFor([&] { return count(line.out(), "] 00000000 waiting: the line holds: the MotherShip") == 2 || line.exited(); },
                        std::chrono::seconds(60)))
        << line.out();
    auto status = site.provision({"status"});
    EXPECT_NE(status.out.find("  line: HELD since "), std::string::npos) << status.out << status.err;
    EXPECT_NE(status.out.find(" (mothership): the MotherShip has taken no record"), std::string::npos) << status.out;
    EXPECT_EQ(committed(), 4u) << line.out();

    // The MotherShip runs again where it was: the line goes on by itself.
    ASSERT_EQ(site.restartMotherShipOnSamePorts(https, coaps), "");
    ASSERT_EQ(line.wait(std::chrono::seconds(180)), 0) << line.out() << line.err();
    const std::string out = line.out();
    EXPECT_NE(out.find("provisioned 6, failed 0"), std::string::npos) << out;
    EXPECT_EQ(count(out, "line held: "), 1u) << out;
    EXPECT_NE(out.find("line resumed"), std::string::npos) << out;

    auto exported = site.msAdmin({"export", "--format", "jsonl"});
    ASSERT_EQ(exported.code, 0) << exported.err;
    EXPECT_EQ(jsonLines(exported.out).size(), 6u) << exported.out;

    bool held = false;
    int holds = 0;
    for (const json& e : site.journalEntries()) {
        if (!e.contains("kind")) continue;
        const std::string kind = e["kind"];
        EXPECT_NE(kind, "failed") << e.dump();
        if (kind == "held") {
            EXPECT_EQ(e["body"]["reason"], "mothership") << e.dump();
            holds += held ? 0 : 1;
            held = true;
        }
        if (kind == "resumed") held = false;
        EXPECT_FALSE(held && kind == "allocated") << "a board started while the line held: " << e.dump();
    }
    EXPECT_FALSE(held);
    EXPECT_EQ(holds, 1);
    status = site.provision({"status"});
    EXPECT_NE(status.out.find("  line: running (held 1 time so far)"), std::string::npos) << status.out;
}

// The station's real token goes away during a run and comes back: the line holds (no board
// failed, no Dev ID spent while it is away), says so in one line, and goes on by itself.
TEST(StationLineStops, TheTokenGoneHoldsTheLineUntilItIsBack) {
    const std::string client = kP11KitClient;
    ASSERT_TRUE(std::filesystem::exists(client) && std::filesystem::exists("/usr/bin/p11-kit"))
        << "needs the Debian packages p11-kit and p11-kit-modules (scripts/setup installs them)";
    const std::map<std::string, std::string> portOf = {{"A1", "1-1.1"}, {"A2", "1-1.2"}};
    StationSite site({.devices = 2, .slots = 1, .lock = "", .seats = {portOf.begin(), portOf.end()}, .pkcs11Module = client});
    ASSERT_EQ(site.setUp(), "");
    TokenServer token(site.path("p11-kit.sock"), site.path(""), site.path("softhsm/softhsm2.conf").string(),
                      "pkcs11:token=tte-station");
    ASSERT_EQ(token.start(), "");
    const std::vector<std::string> env = {"SOFTHSM2_CONF=" + site.path("softhsm/softhsm2.conf").string(),
                                          "P11_KIT_SERVER_ADDRESS=" + token.address()};
    Process line({(binDir() / "tte-provision").string(), "--config", site.path("station/station.toml").string(), "--sim",
                  site.path("sim").string(), "run", "--count", "6", "--operator", "erin"},
                 site.path(""), "line", env);
    ASSERT_TRUE(line.started());
    const auto committed = [&] { return count(line.out(), " committed\n"); };
    ASSERT_TRUE(waitFor([&] { return committed() == 2 || line.exited(); }, std::chrono::seconds(120)))
        << line.out() << line.err();
    ASSERT_FALSE(line.exited()) << line.out() << line.err();

    // The token goes away; two new boards go into the seats and wait.
    token.stop();
    for (const auto& [seat, port] : portOf) ASSERT_EQ(flash(site, {"sim", "replace", port}, "replace").code, 0);
    const std::string heldLine = "line held: HSM token tte-station ";
    ASSERT_TRUE(waitFor([&] { return line.out().find(heldLine) != std::string::npos || line.exited(); },
                        std::chrono::seconds(60)))
        << line.out() << line.err();
    ASSERT_FALSE(line.exited()) << line.out() << line.err();
    EXPECT_EQ(committed(), 2u) << line.out();

    // The token is back: the line goes on by itself.
    ASSERT_EQ(token.start(), "");
    ASSERT_TRUE(waitFor([&] { return committed() == 4 || line.exited(); }, std::chrono::seconds(120)))
        << line.out() << line.err();
    for (const auto& [seat, port] : portOf) ASSERT_EQ(flash(site, {"sim", "replace", port}, "replace").code, 0);
    ASSERT_EQ(line.wait(std::chrono::seconds(180)), 0) << line.out() << line.err();
    const std::string out = line.out();
    EXPECT_NE(out.find("provisioned 6, failed 0"), std::string::npos) << out;
    EXPECT_EQ(count(out, "line held: "), 1u) << out;
    EXPECT_NE(out.find("line resumed"), std::string::npos) << out;

    auto exported = site.provision({"journal", "export"}, env);
    ASSERT_EQ(exported.code, 0) << exported.err;
    int allocated = 0;
    for (const json& e : jsonLines(exported.out)) {
        if (!e.contains("kind")) continue;
        EXPECT_NE(e["kind"], "failed") << e.dump();
        allocated += e["kind"] == "allocated" ? 1 : 0;
    }
    EXPECT_EQ(allocated, 6) << exported.out;  // no Dev ID spent on a board that waited for the token
}

}  // namespace
}  // namespace tte::test
