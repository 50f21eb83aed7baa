// The introduction queue file and the atomic state files.
#include <gtest/gtest.h>

#include <fstream>

#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/base/atomic_file.h"
#include "tte/introducer/introduction.h"

namespace tte::introducer {
namespace {

protocol::Introduction sample() {
    return {*protocol::parseDevUrn("urn:dev:ops:32473-Thermo-00000000abcdef01"),
            *protocol::parseFingerprint(std::string(64, 'a')), protocol::Otp(0x123456789abcdef0),
            protocol::DevId{0xabcdef01}, protocol::MsId{1}, "BLD30"};
}

TEST(AtomicFile, ReplacesWholeAndIsPrivate) {
    test::TempDir dir;
    auto f = dir.path() / "state.json";
    ASSERT_TRUE(writeFileAtomic(f, "one"));
    ASSERT_TRUE(writeFileAtomic(f, "two"));
    EXPECT_EQ(*readWholeFile(f), "two");
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "state.json.tmp"));
    auto perms = std::filesystem::status(f).permissions();
    EXPECT_EQ(perms & std::filesystem::perms::others_read, std::filesystem::perms::none);
    auto bad = writeFileAtomic(dir.path() / "no" / "dir" / "x", "x");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::io);
}

TEST(IntroductionQueue, KeepsWhatCannotBeDelivered) {
    test::TempDir dir;
    IntroductionQueue q(dir.path() / "queue.json");
    EXPECT_EQ(*q.size(), 0u);
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    NotifyTarget nowhere{"https://127.0.0.1:1/tte/v1/introductions", *protocol::parseFingerprint(std::string(64, 'b'))};
    ASSERT_TRUE(q.add(nowhere, sample()));
    ASSERT_TRUE(q.add(nowhere, sample()));
    EXPECT_EQ(*q.size(), 2u);
    auto report = q.flush(std::chrono::seconds(5));
    ASSERT_TRUE(report) << report.error().toString();
    EXPECT_EQ(report->sent, 0u);
    EXPECT_EQ(report->kept, 2u);
    EXPECT_EQ(*q.size(), 2u);
}

TEST(IntroductionQueue, RefusesAFileThatIsNotAQueue) {
    test::TempDir dir;
    std::ofstream(dir.path() / "queue.json") << "[1,2]";
    IntroductionQueue q(dir.path() / "queue.json");
    auto n = q.size();
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().message, (dir.path() / "queue.json").string() + " is not an introduction queue");
}

}  // namespace
}  // namespace tte::introducer
