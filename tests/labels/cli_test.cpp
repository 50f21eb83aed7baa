// tte-label on the command line: what it refuses before it reaches a printer.
#include <gtest/gtest.h>

#include "support/process.h"
#include "support/temp_dir.h"

namespace tte::labels {
namespace {

TEST(TteLabelPrint, RefusesACupsServerThatIsNotAddrPort) {
    test::TempDir dir("label-cli");
    test::writeFile(dir.path() / "url", "https://tte-000001.net/.well-known/tte?otp=123456789abcdef0,devid=abcdef01\n");
    const std::string print = test::binary("tte-label") + " print --templates " +
                              (test::sourceRoot() / "config" / "labels.toml").string() + " --url-file " + dir.file("url") +
                              " --devid abcdef01 --lot lot-1 --date 2026-12-02 --queue q --server ";
    auto r = test::runShell(print + "localhost");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(r.output, "tte-label: --server must be ADDR:PORT or [IPv6]:PORT, got 'localhost'\n");
    r = test::runShell(print + "127.0.0.1:99999");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(r.output, "tte-label: --server: port must be 1 to 65535, got '99999'\n");
    r = test::runShell(print + "127.0.0.1:63x");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(r.output, "tte-label: --server: port must be 1 to 65535, got '63x'\n");
}

}  // namespace
}  // namespace tte::labels
