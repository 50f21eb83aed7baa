// The fixture with the real programs (issue 21): 12 boards through a 4-seat fixture of
// simulated STM32F405 boards, each done board swapped for a new one with `tte-flash sim
// replace` while `tte-provision run` keeps serving; a board on a port without a seat is
// ignored; every record carries its own mcu_uid at the MotherShip; every journal entry names
// the operator and the seat; never two boards in one seat. Then a provisioned board refuses a
// DfuSe read naming read protection, and its rework regresses it (erased) so that it is
// provisioned anew.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "support/station_site.h"

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

bool lowerHex(const std::string& s, std::size_t n) {
    return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

/// The seats whose board was committed ("[A1] 00000100 committed"), in the order the run
/// printed them.
std::vector<std::string> committedSeats(const std::string& out) {
    std::vector<std::string> seats;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) {
        if (l.size() != 23 || l[0] != '[' || l[3] != ']' || l.substr(13) != " committed") continue;
        if (lowerHex(l.substr(5, 8), 8)) seats.push_back(l.substr(1, 2));
    }
    return seats;
}

RunResult flash(StationSite& site, std::vector<std::string> args, const std::string& name) {
    std::vector<std::string> argv = {(binDir() / "tte-flash").string(), "--sim", site.path("sim").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, site.path(""), name);
}

TEST(StationFixture, TwelveBoardsThroughFourSeatsSwappedAsAnOperatorDoes) {
    const std::map<std::string, std::string> portOf = {{"A1", "1-1.1"}, {"A2", "1-1.2"}, {"A3", "1-1.3"}, {"A4", "1-1.4"}};
    StationSite site({.devices = 5, .slots = 1, .lock = "", .seats = {portOf.begin(), portOf.end()}});
    ASSERT_EQ(site.setUp(), "");
    Process line({(binDir() / "tte-provision").string(), "--config", site.path("station/station.toml").string(), "--sim",
                  site.path("sim").string(), "run", "--count", "12", "--operator", "alice"},
                 site.path(""), "line", {"SOFTHSM2_CONF=" + site.path("softhsm/softhsm2.conf").string()});
    ASSERT_TRUE(line.started());
    // The operator takes out each done board and puts a new blank one in, 8 times.
    std::size_t handled = 0;
    int replaced = 0;
    while (replaced < 8) {
        ASSERT_TRUE(waitFor([&] { return committedSeats(line.out()).size() > handled || line.exited(); },
                            std::chrono::seconds(120)))
            << line.out() << line.err();
        ASSERT_FALSE(line.exited()) << line.out() << line.err();
        const auto seats = committedSeats(line.out());
        for (; handled < seats.size() && replaced < 8; ++handled, ++replaced) {
            auto r = flash(site, {"sim", "replace", portOf.at(seats[handled])}, "replace");
            ASSERT_EQ(r.code, 0) << r.out << r.err;
        }
    }
    ASSERT_EQ(line.wait(std::chrono::seconds(120)), 0) << line.out() << line.err();
    const std::string out = line.out();
    EXPECT_NE(out.find("provisioned 12, failed 0"), std::string::npos) << out;
    EXPECT_EQ(committedSeats(out).size(), 12u) << out;
    // The board on 1-1.5 has no seat: ignored, with one warning, never touched.
    std::size_t ignored = 0;
    for (auto at = out.find("] 00000000 ignored"); at != std::string::npos; at = out.find("] 00000000 ignored", at + 1))
        ++ignored;
    EXPECT_EQ(ignored, 1u) << out;
    EXPECT_NE(out.find("a board on port 1-1.5 is ignored: no [[seat]] is configured there"), std::string::npos) << out;

    // At the MotherShip: 12 records, each with its own 24-hex-digit mcu_uid.
    auto exported = site.msAdmin({"export", "--format", "jsonl"});
    ASSERT_EQ(exported.code, 0) << exported.err;
    const auto rows = jsonLines(exported.out);
    ASSERT_EQ(rows.size(), 12u) << exported.out;
    std::set<std::string> uids;
    for (const auto& r : rows) {
        ASSERT_TRUE(r["mcu_uid"].is_string()) << r.dump();
        const std::string uid = r["mcu_uid"];
        EXPECT_TRUE(lowerHex(uid, 24)) << uid;
        uids.insert(uid);
    }
    EXPECT_EQ(uids.size(), 12u);

    // The journal: operator and seat on every entry of a board; never two boards in one seat.
    auto journal = site.provision({"journal", "export"});
    ASSERT_EQ(journal.code, 0) << journal.err;
    const auto entries = jsonLines(journal.out);
    std::map<std::string, bool> busy;
    int allocated = 0;
    for (std::size_t i = 1; i < entries.size(); ++i) {
        const json& e = entries[i];
        EXPECT_EQ(e["operator"], "alice") << e.dump();
        if (e["devid"].is_null()) continue;
        ASSERT_TRUE(e["seat"].is_string()) << e.dump();
        const std::string seat = e["seat"];
        EXPECT_TRUE(portOf.contains(seat)) << e.dump();
        if (e["kind"] == "allocated") {
            ++allocated;
            EXPECT_FALSE(busy[seat]) << "two boards in seat " << seat << ": " << e.dump();
            busy[seat] = true;
            EXPECT_EQ(e["body"]["port"], portOf.at(seat));
        }
        if (e["kind"] == "committed" || e["kind"] == "failed") busy[seat] = false;
    }
    EXPECT_EQ(allocated, 12);

    // A provisioned board is locked: the bootloader refuses to read it, naming read protection.
    const auto image = site.path("read.bin").string();
    auto read = flash(site, {"read", "--address", "0x08000000", "--length", "16", "-o", image, "--device", "1-1.1"}, "read");
    EXPECT_NE(read.code, 0) << read.out;
    EXPECT_NE(read.err.find("read-protected (RDP level 1)"), std::string::npos) << read.err;

    // Rework of the live board in seat 1-1.1: revoked at the MotherShip, regressed to level 0
    // (mass erase), then provisioned anew in its seat.
    std::uint32_t oldId = 0;
    for (std::size_t i = 1; i < entries.size(); ++i)  // after the export's header line
        if (entries[i]["kind"] == "allocated" && entries[i]["body"]["port"] == "1-1.1")
            oldId = entries[i]["devid"].get<std::uint32_t>();
    ASSERT_NE(oldId, 0u);
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", oldId);
    const std::string old = hex;
    auto rework = site.provision({"rework", "--devid", old, "--reason", "housing cracked", "--operator", "alice"});
    ASSERT_EQ(rework.code, 0) << rework.out << rework.err;
    EXPECT_NE(rework.out.find("device " + old + " at 1-1.1 revoked at the MotherShip (housing cracked)"), std::string::npos)
        << rework.out;
    EXPECT_NE(rework.out.find(", reworked from " + old), std::string::npos) << rework.out;
    bool massErased = false;
    for (const auto& e : jsonLines(site.provision({"journal", "export"}).out))
        if (e.value("kind", "") == "reworked" && e["devid"] == oldId)
            massErased = e["body"]["erased"] == "mass erase (read unprotect, RDP level 1 to 0)" && e["operator"] == "alice";
    EXPECT_TRUE(massErased);
    auto after = site.msAdmin({"export", "--format", "jsonl"});
    const auto rowsAfter = jsonLines(after.out);
    ASSERT_EQ(rowsAfter.size(), 13u);
    std::map<std::string, int> perUid;
    for (const auto& r : rowsAfter) ++perUid[r["mcu_uid"].get<std::string>()];
    int twice = 0;
    for (const auto& [uid, n] : perUid) twice += n == 2 ? 1 : 0;
    EXPECT_EQ(twice, 1);  // the reworked board: its unique ID under its old and its new Dev ID
    auto locked = flash(site, {"read", "--address", "0x08000000", "--length", "16", "-o", image, "--device", "1-1.1"},
                        "read-again");
    EXPECT_NE(locked.err.find("read-protected"), std::string::npos) << locked.err;

    // The supervisor's counters: 13 done, none failed, one reworked, for the lot and the shift.
    auto status = site.provision({"status"});
    ASSERT_EQ(status.code, 0) << status.err;
    EXPECT_NE(status.out.find("lot line-lot:"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("    13 done,    0 failed,    1 reworked, yield 100.0 %"), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("  shift since "), std::string::npos) << status.out;
}


TEST(StationFixture, SigtermFinishesTheBoardsInFlightAndASeatedRunNeedsAnOperator) {
    StationSite site({.devices = 2, .slots = 1, .lock = "", .seats = {{"B1", "1-1.1"}, {"B2", "1-1.2"}}});
    ASSERT_EQ(site.setUp(), "");
    auto anonymous = site.provision({"run"});
    EXPECT_EQ(anonymous.code, 2);
    EXPECT_EQ(anonymous.err, "tte-provision: run: a fixture with seats needs --operator NAME (who runs the line)\n");
    Process line({(binDir() / "tte-provision").string(), "--config", site.path("station/station.toml").string(), "--sim",
                  site.path("sim").string(), "run", "--operator", "dora"},
                 site.path(""), "serve", {"SOFTHSM2_CONF=" + site.path("softhsm/softhsm2.conf").string()});
    // SIGTERM as soon as a board is being flashed: the run finishes what it holds, then ends.
    ASSERT_TRUE(waitFor([&] { return line.out().find(" keyed") != std::string::npos || line.exited(); },
                        std::chrono::seconds(60)))
        << line.out() << line.err();
    ASSERT_EQ(::kill(line.pid(), SIGTERM), 0);
    EXPECT_EQ(line.wait(std::chrono::seconds(60)), 0) << line.out() << line.err();
    const std::string out = line.out();
    EXPECT_NE(out.find("SIGTERM: finishing the boards in flight, then stopping"), std::string::npos) << out;
    auto journal = site.provision({"journal", "export"});
    std::map<std::string, std::string> last;  // devid → its last entry kind
    for (const auto& e : jsonLines(journal.out))
        if (e.contains("devid") && !e["devid"].is_null()) last[e["devid"].dump()] = e["kind"];
    ASSERT_FALSE(last.empty());
    for (const auto& [dev, kind] : last) EXPECT_TRUE(kind == "committed" || kind == "live") << dev << " ended " << kind;
}

}  // namespace
}  // namespace tte::test
