// The introduction queue directory, its default place, and the atomic state files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>

#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/base/atomic_file.h"
#include "tte/base/hex.h"
#include "tte/introducer/introduction.h"

namespace tte::introducer {
namespace {

namespace fs = std::filesystem;
using Outcome = IntroductionQueue::Flushed::Outcome;

protocol::Introduction sample(std::uint32_t devId = 0xabcdef01) {
    return {*protocol::parseDevUrn("urn:dev:ops:32473-Thermo-" + toHex(devId, 16)),
            *protocol::parseFingerprint(std::string(64, 'a')), protocol::Otp(0x123456789abcdef0),
            protocol::DevId{devId}, protocol::MsId{1}, "BLD30"};
}

// Port 1 on loopback: nothing listens, the connection is refused at once.
const NotifyTarget kNowhere{"https://127.0.0.1:1/tte/v1/introductions", *protocol::parseFingerprint(std::string(64, 'b'))};

unsigned modeOf(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

TEST(AtomicFile, ReplacesWholeAndIsPrivate) {
    test::TempDir dir;
    auto f = dir.path() / "state.json";
    ASSERT_TRUE(writeFileAtomic(f, "one"));
    ASSERT_TRUE(writeFileAtomic(f, "two"));
    EXPECT_EQ(*readWholeFile(f), "two");
    EXPECT_FALSE(fs::exists(dir.path() / "state.json.tmp"));
    auto perms = fs::status(f).permissions();
    EXPECT_EQ(perms & fs::perms::others_read, fs::perms::none);
    auto bad = writeFileAtomic(dir.path() / "no" / "dir" / "x", "x");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::io);
}

TEST(DefaultQueueDir, FollowsTheXdgBaseDirectorySpec) {
    std::map<std::string, std::string> vars;
    auto env = [&](const char* name) -> const char* {
        auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
    vars = {{"XDG_STATE_HOME", "/var/lib/me/state"}, {"HOME", "/home/me"}};
    EXPECT_EQ(*defaultQueueDir(env), fs::path("/var/lib/me/state/tte/introductions"));
    vars = {{"HOME", "/home/me"}};
    EXPECT_EQ(*defaultQueueDir(env), fs::path("/home/me/.local/state/tte/introductions"));
    vars = {{"XDG_STATE_HOME", ""}, {"HOME", "/home/me"}};
    EXPECT_EQ(*defaultQueueDir(env), fs::path("/home/me/.local/state/tte/introductions"));
    vars = {{"XDG_STATE_HOME", "relative/state"}, {"HOME", "/home/me"}};  // the spec: ignore a relative path
    EXPECT_EQ(*defaultQueueDir(env), fs::path("/home/me/.local/state/tte/introductions"));
    vars = {};
    auto none = defaultQueueDir(env);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, Errc::notFound);
    EXPECT_EQ(none.error().message, "no place for the introduction queue: neither XDG_STATE_HOME nor HOME is set; give --queue DIR");
}

TEST(IntroductionQueue, OneFilePerDevicePrivateAndReplacedForTheSameDevice) {
    test::TempDir dir;
    const auto qdir = dir.path() / "state" / "tte" / "introductions";
    IntroductionQueue q(qdir);
    EXPECT_TRUE(q.entries()->empty()) << "a queue not made yet is empty";
    auto file = q.add(kNowhere, sample());
    ASSERT_TRUE(file) << file.error().toString();
    EXPECT_EQ(*file, qdir / "tte-000001.net-abcdef01.json");
    EXPECT_EQ(modeOf(qdir), 0700u);
    EXPECT_EQ(modeOf(dir.path() / "state"), 0700u) << "missing parents are made 0700 too";
    EXPECT_EQ(modeOf(*file), 0600u);
    ASSERT_TRUE(q.add(kNowhere, sample()));
    ASSERT_TRUE(q.add(kNowhere, sample(0xabcdef02)));
    auto all = q.entries();
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].file, "tte-000001.net-abcdef01.json");
    EXPECT_EQ((*all)[0].introduction->otp.value(), 0x123456789abcdef0u);
    EXPECT_EQ((*all)[0].target->url, kNowhere.url);
    EXPECT_EQ((*all)[1].introduction->devId.value, 0xabcdef02u);
}

TEST(IntroductionQueue, KeepsWhatCannotBeDelivered) {
    test::TempDir dir;
    IntroductionQueue q(dir.path() / "q");
    ASSERT_TRUE(q.add(kNowhere, sample()));
    ASSERT_TRUE(q.add(kNowhere, sample(0xabcdef02)));
    auto report = q.flush(std::chrono::seconds(5));
    ASSERT_TRUE(report) << report.error().toString();
    EXPECT_EQ(report->sent(), 0u);
    EXPECT_EQ(report->remaining(), 2u);
    ASSERT_EQ(report->entries.size(), 2u);
    EXPECT_EQ(report->entries[0].outcome, Outcome::kept);
    EXPECT_EQ(report->entries[0].urn, "urn:dev:ops:32473-Thermo-00000000abcdef01");
    EXPECT_FALSE(report->entries[0].message.empty());
    EXPECT_EQ(q.entries()->size(), 2u);
}

TEST(IntroductionQueue, MalformedFilesAreReportedByNameAndKept) {
    test::TempDir dir;
    const auto qdir = dir.path() / "q";
    IntroductionQueue q(qdir);
    ASSERT_TRUE(q.add(kNowhere, sample()));
    std::ofstream(qdir / "tte-000001.net-00000002.json") << "[1,2]";
    std::ofstream(qdir / "tte-000001.net-00000003.json") << R"({"url": "https://x/", "controller_fingerprint": ")"
                                                         << std::string(64, 'c') << R"(", "introduction": {"urn": 1}})";
    std::ofstream(qdir / "notes.txt") << "hello";
    std::ofstream(qdir / "tte-000001.net-00000004.json.tmp") << "{";  // a write that did not finish: not an entry
    auto report = q.flush(std::chrono::seconds(5));
    ASSERT_TRUE(report) << report.error().toString();
    ASSERT_EQ(report->entries.size(), 4u);
    EXPECT_EQ(report->entries[0].file, "notes.txt");
    EXPECT_EQ(report->entries[0].outcome, Outcome::malformed);
    EXPECT_EQ(report->entries[0].message, "not a queued introduction (the queue's files are named <ms>-<devid>.json)");
    EXPECT_EQ(report->entries[1].file, "tte-000001.net-00000002.json");
    EXPECT_EQ(report->entries[1].outcome, Outcome::malformed);
    EXPECT_EQ(report->entries[1].message, "not a JSON object");
    EXPECT_EQ(report->entries[2].outcome, Outcome::malformed);
    EXPECT_EQ(report->entries[2].message, "\"introduction\": Introduction: field 'urn' must be a string");
    EXPECT_EQ(report->entries[3].file, "tte-000001.net-abcdef01.json");
    EXPECT_EQ(report->entries[3].outcome, Outcome::kept) << "the good one beside them is tried";
    EXPECT_EQ(report->remaining(), 4u);
    for (const char* name : {"notes.txt", "tte-000001.net-00000002.json", "tte-000001.net-00000003.json"})
        EXPECT_TRUE(fs::exists(qdir / name)) << name << " must be kept";
}

TEST(IntroductionQueue, RefusesADirectoryOthersCanReadAndAFile) {
    test::TempDir dir;
    const auto open = dir.path() / "open";
    fs::create_directory(open);
    ::chmod(open.c_str(), 0755);
    auto added = IntroductionQueue(open).add(kNowhere, sample());
    ASSERT_FALSE(added);
    EXPECT_EQ(added.error().code, Errc::permissionDenied);
    EXPECT_EQ(added.error().message, open.string() + " is open to other users (mode 0755); queued introductions hold OTPs: "
                                                      "chmod 700 " + open.string());
    EXPECT_TRUE(fs::is_empty(open));
    std::ofstream(dir.path() / "queue.json") << R"({"introductions": []})";
    auto file = IntroductionQueue(dir.path() / "queue.json").entries();
    ASSERT_FALSE(file);
    EXPECT_EQ(file.error().message, (dir.path() / "queue.json").string() +
                                        " is not a directory: the introduction queue is a directory with one file per introduction");
}

}  // namespace
}  // namespace tte::introducer
