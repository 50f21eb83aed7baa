// The real tte-provision killed with SIGKILL (TTE_STATION_FAULT=<point>:<n>) at each point
// of its pipeline and upload in turn, then restarted (`run`, `sync`), on simulated devices
// with a real SoftHSM token, a real tte-mothership and a private cupsd (the labels go through
// CUPS as PDF; their PNG twins are scanned back). After the restart: no Dev ID is reused, every
// record the MotherShip holds has a verified flash and a printed label in the journal (and
// `tte-provision verify` agrees with the device, its label and the MotherShip), the device
// interrupted mid-flight is marked for rework with its Dev ID burned and no OTP live, the
// journal verifies, each record is at the MotherShip exactly once and the backlog is 0.
// Also: a record the MotherShip rejects takes its mapping and introduction with it.
#include <csignal>
#include <map>
#include <set>

#include "fault/kill_site.h"

namespace tte::test {
namespace {

struct Point {
    std::string name;
    int n;              ///< killed the n-th time the point is reached
    bool midFlight;     ///< the killed device was inside the pipeline (it must be reworked)
};

void PrintTo(const Point& p, std::ostream* os) { *os << p.name << ":" << p.n; }

/// One site for the whole program: stations differ in name, lot and Dev ID range.
class KillTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_site = new SharedSite;
        s_error = s_site->setUp();
    }
    static void TearDownTestSuite() {
        delete s_site;
        s_site = nullptr;
    }
    void SetUp() override { ASSERT_EQ(s_error, ""); }

    /// A station with its own Dev ID range (16 per station).
    Station station(const std::string& name, int index, std::string extraLot = {}) {
        StationSpec spec{name, 0x1000u + 0x10u * static_cast<std::uint32_t>(index), 0, 3, std::move(extraLot)};
        spec.last = spec.first + 0xf;
        EXPECT_EQ(s_site->addStation(spec), "");
        return Station(*s_site, spec);
    }

    static SharedSite* s_site;
    static std::string s_error;
};
SharedSite* KillTest::s_site = nullptr;
std::string KillTest::s_error;

std::string devHex(const json& entry) { return toHex(entry["devid"].get<std::uint32_t>(), 8); }

/// Dev ID → the kinds of its journal entries, in order.
std::map<std::string, std::vector<std::string>> history(const std::vector<json>& journal) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& e : journal)
        if (!e["devid"].is_null()) out[devHex(e)].push_back(e["kind"]);
    return out;
}

bool has(const std::vector<std::string>& kinds, const std::string& kind) {
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

/// Dev IDs allocated and not committed, failed or reworked: inside the pipeline.
std::vector<std::string> inFlight(const std::vector<json>& journal) {
    std::vector<std::string> out;
    for (const auto& [dev, kinds] : history(journal))
        if (has(kinds, "allocated") && !has(kinds, "committed") && !has(kinds, "failed") && !has(kinds, "reworked"))
            out.push_back(dev);
    return out;
}

std::string portOf(const std::vector<json>& journal, const std::string& dev) {
    for (const auto& e : journal)
        if (e["kind"] == "allocated" && devHex(e) == dev) return e["body"]["port"];
    return {};
}

/// Everything promised after a restart, checked on the journal and at the MotherShip;
/// returns the journal.
std::vector<json> checkPromises(Station& st, SharedSite& site) {
    auto v = st.provision({"journal", "verify"});
    EXPECT_EQ(v.code, 0) << v.out << v.err;
    EXPECT_NE(v.out.find("journal verifies"), std::string::npos) << v.out;

    const auto journal = st.journal();
    const auto hist = history(journal);
    std::multiset<std::string> allocations;
    std::map<std::string, std::string> recordOf;  // Dev ID → record id committed
    std::map<std::string, int> liveItems;         // record id → "live" entries
    for (const auto& e : journal) {
        if (e["kind"] == "allocated") allocations.insert(devHex(e));
        if (e["kind"] == "committed") recordOf[devHex(e)] = e["body"]["record"]["record_id"];
        if (e["kind"] == "live") ++liveItems[e["body"]["item"]];
    }
    for (const auto& dev : allocations) {
        EXPECT_EQ(allocations.count(dev), 1u) << "Dev ID " << dev << " allocated twice";
        EXPECT_GE(dev, toHex(st.spec().first, 8));
        EXPECT_LE(dev, toHex(st.spec().last, 8));
    }

    const auto records = site.msRecords(st.lot());
    std::set<std::string> atMs, recordIds;
    for (const auto& r : records) {
        const std::string dev = r["devid"];
        EXPECT_TRUE(atMs.insert(dev).second) << "Dev ID " << dev << " twice at the MotherShip";
        EXPECT_TRUE(recordIds.insert(r["record_id"]).second) << r["record_id"];
        const auto& kinds = hist.count(dev) ? hist.at(dev) : std::vector<std::string>{};
        EXPECT_TRUE(has(kinds, "flashed") && has(kinds, "labelled")) << dev << " live without verified flash and label";
        EXPECT_FALSE(has(kinds, "failed")) << dev << " is live but failed in the journal";
        EXPECT_EQ(recordOf[dev], r["record_id"]) << dev;
        EXPECT_EQ(liveItems[r["record_id"]], 1) << r["record_id"] << " settled " << liveItems[r["record_id"]] << " times";
        EXPECT_EQ(r["state"], "not-mapped") << r;  // stored, not yet enrolled
    }
    // Every committed record is at the MotherShip (backlog drained), none other.
    std::set<std::string> committed;
    for (const auto& [dev, id] : recordOf) committed.insert(dev);
    EXPECT_EQ(committed, atMs);
    // The first device lived through the kill: its flash, its label and the MotherShip agree.
    if (!atMs.empty()) {
        const std::string dev = *atMs.begin();
        auto q = st.provision({"verify", "--devid", dev, "--port", portOf(journal, dev), "--label-image",
                               (st.dir() / "labels" / (dev + ".png")).string()});
        EXPECT_EQ(q.code, 0) << dev << "\n" << q.out << q.err;
    }
    return journal;
}

class KillAt : public KillTest, public ::testing::WithParamInterface<std::pair<int, Point>> {};

TEST_P(KillAt, RestartKeepsEveryPromise) {
    const auto& [index, point] = GetParam();
    Station st = station("k-" + point.name, index);
    // One slot, so the n-th device to reach the point is the n-th device.
    auto killed = st.provision({"run", "--slots", "1"}, {"TTE_STATION_FAULT=" + point.name + ":" + std::to_string(point.n)});
    ASSERT_EQ(killed.code, -SIGKILL) << "not killed at " << point.name << "\n" << killed.out << killed.err;
    const auto atKill = st.journal();
    const auto interrupted = inFlight(atKill);
    if (point.midFlight) {
        ASSERT_EQ(interrupted.size(), 1u) << point.name;
        EXPECT_EQ(interrupted[0], toHex(st.spec().first + static_cast<std::uint32_t>(point.n) - 1, 8));
    } else if (point.name == "committed") {
        EXPECT_TRUE(interrupted.empty());
    }
    auto restarted = st.provision({"run", "--slots", "1"});
    EXPECT_EQ(restarted.code, 0) << restarted.out << restarted.err;
    auto synced = st.provision({"sync", "--timeout", "10"});
    EXPECT_EQ(synced.code, 0) << synced.out << synced.err;
    const std::string failed = "devices: 3 allocated, " + std::to_string(3 - interrupted.size()) + " live, 0 awaiting upload, 0 in progress, " +
                               std::to_string(interrupted.size()) + " failed (rework)";
    auto status = st.provision({"status"});
    EXPECT_NE(status.out.find(failed), std::string::npos) << status.out;
    EXPECT_NE(status.out.find("upload backlog: 0 pending"), std::string::npos) << status.out;

    // The interrupted device is reworked (block erased) and provisioned again.
    std::map<std::string, std::string> reworked;  // port → burned Dev ID
    for (const auto& dev : interrupted) {
        const std::string port = portOf(atKill, dev);
        reworked[port] = dev;
        auto rework = st.provision({"rework", "--port", port});
        EXPECT_EQ(rework.code, 0) << rework.out << rework.err;
        auto again = st.provision({"run", "--slots", "1", "--port", port});
        EXPECT_EQ(again.code, 0) << again.out << again.err;
        EXPECT_NE(again.out.find("upload backlog: 0 pending"), std::string::npos) << again.out;
    }
    const auto journal = checkPromises(st, *s_site);
    const auto hist = history(journal);
    for (const auto& [port, dev] : reworked) {
        // Marked for rework by the restart, Dev ID burned, its OTP never live.
        const auto& kinds = hist.at(dev);
        ASSERT_GE(kinds.size(), 3u) << dev;
        EXPECT_EQ(kinds.front(), "allocated") << dev;
        EXPECT_EQ(kinds[kinds.size() - 2], "failed") << dev;
        EXPECT_EQ(kinds.back(), "reworked") << dev;
        EXPECT_FALSE(has(kinds, "committed")) << dev;
        EXPECT_FALSE(has(kinds, "live")) << dev;  // never at the MotherShip (checked above: live == committed)
        std::string reason, newest;
        for (const auto& e : journal) {
            if (e["kind"] == "failed" && devHex(e) == dev) reason = e["body"]["reason"];
            if (e["kind"] == "allocated" && e["body"]["port"] == port) newest = devHex(e);
        }
        EXPECT_NE(reason.find("interrupted after"), std::string::npos) << reason;
        // The port got a new Dev ID, above every other: the burned one is never handed out again.
        EXPECT_EQ(newest, toHex(st.spec().first + 3, 8)) << "port " << port;
    }
}

INSTANTIATE_TEST_SUITE_P(EachStep, KillAt,
                         ::testing::Values(std::pair{0, Point{"allocated", 2, true}}, std::pair{1, Point{"keyed", 2, true}},
                                           std::pair{2, Point{"flashed", 2, true}}, std::pair{3, Point{"printed", 2, true}},
                                           std::pair{4, Point{"labelled", 2, true}}, std::pair{5, Point{"signed", 2, true}},
                                           std::pair{6, Point{"committed", 2, false}},
                                           std::pair{7, Point{"uploaded", 1, false}}, std::pair{8, Point{"printing", 2, true}}),
                         [](const auto& info) { return info.param.second.name; });

// Killed while the line holds (the printer paused, the second board's label waiting in the
// queue): the restart marks that board for rework and cancels its label job, so that no label
// of a failed board comes out once the printer is back; the restarted run holds again by
// itself while the printer is still paused and goes on once it is enabled; every promise holds.
TEST_F(KillTest, KillWhileHeldThenRestart) {
    Station st = station("k-held", 9);
    auto& cups = s_site->cups();
    const std::string q = StationSite::kQueue;
    // The first board prints; the second's label waits in the paused queue.
    auto first = st.provision({"run", "--slots", "1", "--count", "1"});
    ASSERT_EQ(first.code, 0) << first.out << first.err;
    ASSERT_EQ(cups.run({"cupsdisable", "-h", cups.server(), q}), 0);
    struct Enable {
        PrivateCupsd& cups;
        std::string q;
        ~Enable() { cups.run({"cupsenable", "-h", cups.server(), q}); }
    } enableAtEnd{cups, q};
    auto killed = st.provision({"run", "--slots", "1"}, {"TTE_STATION_FAULT=held:1"});
    ASSERT_EQ(killed.code, -SIGKILL) << killed.out << killed.err;
    const auto atKill = st.journal();
    const auto interrupted = inFlight(atKill);
    ASSERT_EQ(interrupted.size(), 1u);
    EXPECT_EQ(interrupted[0], toHex(st.spec().first + 1, 8));
    int staleJob = 0;
    for (const auto& e : atKill)
        if (e["kind"] == "printing" && devHex(e) == interrupted[0]) staleJob = e["body"]["job"];
    ASSERT_GT(staleJob, 0);
    ASSERT_EQ(atKill.back()["kind"], "held") << atKill.back().dump();
    EXPECT_EQ(atKill.back()["body"]["reason"], "printer");
    auto status = st.provision({"status"});
    EXPECT_NE(status.out.find("  line: HELD since "), std::string::npos) << status.out;

    // Restart while the printer is still paused: held again, then enabled.
    auto restarted = st.start({"run", "--slots", "1"}, "restart");
    ASSERT_TRUE(waitFor([&] { return restarted->out().find("line held: Printer tte-labels is paused") != std::string::npos ||
                                     restarted->exited(); },
                        std::chrono::seconds(60)))
        << restarted->out();
    ASSERT_EQ(cups.run({"cupsenable", "-h", cups.server(), q}), 0);
    EXPECT_EQ(restarted->wait(std::chrono::seconds(60)), 0) << restarted->out() << restarted->err();
    EXPECT_NE(restarted->out().find("1 interrupted device(s) marked failed (rework)"), std::string::npos) << restarted->out();
    EXPECT_NE(restarted->out().find("provisioned 1, failed 0"), std::string::npos) << restarted->out();
    EXPECT_FALSE(fs::exists(cups.output(q, staleJob))) << "the label of the failed board was printed";

    const std::string port = portOf(atKill, interrupted[0]);
    auto rework = st.provision({"rework", "--port", port});
    EXPECT_EQ(rework.code, 0) << rework.out << rework.err;
    auto again = st.provision({"run", "--slots", "1", "--port", port});
    EXPECT_EQ(again.code, 0) << again.out << again.err;
    const auto journal = checkPromises(st, *s_site);
    std::string reason;
    for (const auto& e : journal)
        if (e["kind"] == "failed" && devHex(e) == interrupted[0]) reason = e["body"]["reason"];
    EXPECT_EQ(reason, "station stopped during this step (interrupted after printing); its label job " +
                          std::to_string(staleJob) + " was cancelled");
    status = st.provision({"status"});
    EXPECT_NE(status.out.find("  line: running (held 2 times so far)"), std::string::npos) << status.out;
}

// A record the MotherShip rejects (its Dev ID left the lot's quota while it waited in the
// backlog) settles as rejected, and so do the mapping and introduction waiting for it:
// nothing stays pending forever, no OTP stays sealed in the queue, nothing is sent.
TEST_F(KillTest, ARejectedRecordTakesItsMappingAndIntroductionWithIt) {
    const std::string controller =
        "[controller]\naddress = \"127.0.0.1\"\nport = 9\nfingerprint = \"" + std::string(64, 'c') +
        "\"\nurl = \"https://127.0.0.1:9/tte/v1/introductions\"\n";
    Station st = station("k-reject", 15, controller);
    auto killed = st.provision({"run", "--slots", "1", "--count", "1"}, {"TTE_STATION_FAULT=committed:1"});
    ASSERT_EQ(killed.code, -SIGKILL) << killed.out << killed.err;
    ASSERT_EQ(s_site->msAdmin({"lot", "set", "--lot", st.lot(), "--first", "00002000", "--last", "0000200f"}).code, 0);

    auto synced = st.provision({"sync", "--timeout", "5"});
    EXPECT_EQ(synced.code, 0) << synced.out << synced.err;
    EXPECT_NE(synced.out.find("upload backlog: 0 pending, 0 done, 3 rejected"), std::string::npos) << synced.out;
    std::string record;
    std::map<std::string, std::string> rejected;  // item kind → message
    for (const auto& e : st.journal()) {
        if (e["kind"] == "committed") record = e["body"]["record"]["record_id"];
        if (e["kind"] == "rejected") rejected[e["body"]["kind"]] = e["body"].value("message", "");
    }
    ASSERT_EQ(rejected.size(), 3u);
    EXPECT_NE(rejected["record"].find("outside the quota of lot " + st.lot()), std::string::npos) << rejected["record"];
    EXPECT_EQ(rejected["map"], "not sent: " + record + " was rejected") << rejected["map"];
    EXPECT_EQ(rejected["intro"], "not sent: " + record + "/map was rejected") << rejected["intro"];
    EXPECT_TRUE(s_site->msRecords(st.lot()).empty());
    auto v = st.provision({"journal", "verify"});
    EXPECT_EQ(v.code, 0) << v.out << v.err;
}

}  // namespace
}  // namespace tte::test
