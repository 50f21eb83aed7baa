// registry_bench's reading of the kernel's proactive reclaim (bench/host_reclaim.h), on sysfs
// trees laid out as the kernel lays out /sys: the DAMON sysfs interface as a virtual machine
// that reclaims its guests' idle page cache runs it, and the damon_reclaim module.
#include "host_reclaim.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace tte::bench {
namespace {

namespace fs = std::filesystem;

void put(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text << "\n";
}

/// kdamonds/<k> with one context (sample 0.5 s, aggregation 5 s) and `action`'s scheme 0:
/// regions used in at most 1 of 10 samples for 12 aggregations, 128 MiB per second, anonymous
/// memory rejected and unmapped pages allowed (as on the machines registry_bench runs on).
fs::path kdamond(const fs::path& sys, int k, const std::string& state, const std::string& action, long applied) {
    const fs::path admin = sys / "kernel/mm/damon/admin/kdamonds";
    put(admin / "nr_kdamonds", std::to_string(k + 1));
    const fs::path d = admin / std::to_string(k);
    put(d / "state", state);
    put(d / "contexts/nr_contexts", "1");
    const fs::path ctx = d / "contexts/0";
    put(ctx / "monitoring_attrs/intervals/sample_us", "500000");
    put(ctx / "monitoring_attrs/intervals/aggr_us", "5000000");
    put(ctx / "schemes/nr_schemes", "1");
    const fs::path s = ctx / "schemes/0";
    put(s / "action", action);
    put(s / "access_pattern/age/min", "12");
    put(s / "access_pattern/nr_accesses/max", "1");
    put(s / "quotas/bytes", "134217728");
    put(s / "quotas/reset_interval_ms", "1000");
    put(s / "ops_filters/nr_filters", "2");
    put(s / "ops_filters/0/type", "anon");
    put(s / "ops_filters/0/matching", "Y");
    put(s / "ops_filters/0/allow", "N");
    put(s / "ops_filters/1/type", "unmapped");
    put(s / "ops_filters/1/matching", "Y");
    put(s / "ops_filters/1/allow", "Y");
    put(s / "stats/sz_applied", std::to_string(applied));
    return s;
}

TEST(HostReclaim, AMachineWithoutDamonRunsNothingAndTellsNothing) {
    const test::TempDir sys("sys");
    EXPECT_TRUE(pageoutSchemes(sys.path()).empty());
    EXPECT_EQ(describe(pageoutSchemes(sys.path())), "");
    EXPECT_FALSE(pagedOutBytes(sys.path()).has_value());
    PageoutMeter meter("the previous pass", sys.path());
    EXPECT_EQ(meter.since(), "");
}

TEST(HostReclaim, ARunningPageoutSchemeIsNamedWithItsAgeQuotaAndFilters) {
    const test::TempDir sys("sys");
    kdamond(sys.path(), 0, "on", "pageout", 48'277'569'536);
    const auto schemes = pageoutSchemes(sys.path());
    ASSERT_EQ(schemes.size(), 1u);
    EXPECT_EQ(schemes[0].name, "DAMON kdamond 0, scheme 0");
    EXPECT_DOUBLE_EQ(schemes[0].minIdleSeconds, 60);
    EXPECT_EQ(schemes[0].accessLimit, "used in at most 1 of 10 samples per 5 s");
    EXPECT_DOUBLE_EQ(schemes[0].quotaMiBPerSecond, 128);
    EXPECT_EQ(schemes[0].filters, "reject anon, allow unmapped");
    EXPECT_EQ(describe(schemes),
              "this machine's kernel pages out memory that has looked unused for a while, even with memory free "
              "(DAMON kdamond 0, scheme 0: after 60 s used in at most 1 of 10 samples per 5 s, up to 128 MiB/s, "
              "filters: reject anon, allow unmapped): registry pages that no lookup touched for that long leave the "
              "page cache, and the lookup that needs one next reads it from the disk");
}

TEST(HostReclaim, StoppedKdamondsAndOtherActionsDoNotCount) {
    const test::TempDir sys("sys");
    kdamond(sys.path(), 0, "on", "lru_prio", 5);
    kdamond(sys.path(), 1, "off", "pageout", 7);
    EXPECT_TRUE(pageoutSchemes(sys.path()).empty());
    EXPECT_FALSE(pagedOutBytes(sys.path()).has_value());
}

TEST(HostReclaim, TheDamonReclaimModuleCountsWhenEnabled) {
    const test::TempDir sys("sys");
    const fs::path p = sys.path() / "module/damon_reclaim/parameters";
    put(p / "enabled", "N");
    put(p / "min_age", "120000000");
    put(p / "quota_sz", "1073741824");
    put(p / "quota_reset_interval_ms", "1000");
    put(p / "bytes_reclaimed_regions", "4096");
    EXPECT_TRUE(pageoutSchemes(sys.path()).empty());
    put(p / "enabled", "Y");
    const auto schemes = pageoutSchemes(sys.path());
    ASSERT_EQ(schemes.size(), 1u);
    EXPECT_EQ(schemes[0].name, "damon_reclaim");
    EXPECT_DOUBLE_EQ(schemes[0].minIdleSeconds, 120);
    EXPECT_DOUBLE_EQ(schemes[0].quotaMiBPerSecond, 1024);
    EXPECT_EQ(pagedOutBytes(sys.path()), 4096);
}

TEST(HostReclaim, TheMeterTellsWhatWasPagedOutBetweenItsLines) {
    const test::TempDir sys("sys");
    const fs::path scheme = kdamond(sys.path(), 0, "on", "pageout", 1'000'000'000);
    // Fresh counts are asked for by writing to the kdamond's state file, which the kernel then
    // shows as "on" again (here the test puts it back).
    const fs::path state = sys.path() / "kernel/mm/damon/admin/kdamonds/0/state";
    const auto asked = [&] {
        std::string word;
        std::ifstream(state) >> word;
        put(state, "on");
        return word;
    };
    PageoutMeter meter("the previous lookup pass", sys.path());
    EXPECT_EQ(asked(), "update_schemes_stats");
    put(scheme / "stats/sz_applied", "3500000000");
    EXPECT_EQ(meter.since(), "; proactive reclaim paged out 2.50 GB of the machine's memory since the bench started");
    EXPECT_EQ(asked(), "update_schemes_stats");
    put(scheme / "stats/sz_applied", "3510000000");
    EXPECT_EQ(meter.since(),
              "; proactive reclaim paged out 0.01 GB of the machine's memory since the previous lookup pass");
}

}  // namespace
}  // namespace tte::bench
