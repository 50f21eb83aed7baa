// tte::cli on a CLI11 App like the programs build: what parse() returns and the one line it
// prints for each kind of usage error, --version, and --config files read strictly.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "tte/base/build_info.h"
#include "tte/base/spelling.h"
#include "tte/cli/config_file.h"
#include "tte/cli/program.h"

namespace tte::cli {
namespace {

/// A program like tte-flash: a global option, commands, a nested command, required options.
struct Program {
    CLI::App app{"tte-demo: a program for the tests"};
    std::string dir;
    std::string file;
    long count = 0;
    bool verbose = false;
    std::vector<std::string> routes;
    std::vector<std::string> tags;
    std::string config;
    bool checkConfig = false;
    CLI::App* write = nullptr;
    CLI::App* simCreate = nullptr;

    explicit Program(bool withCommands = true) {
        setUp(app, "tte-demo");
        app.add_option("--sim", dir, "simulated devices")->type_name("DIR");
        app.add_flag("--verbose", verbose, "say more");
        app.add_option("--count", count, "how many")->check(CLI::Range(1L, 64L));
        app.add_option("--route", routes, "HOST:PORT:ADDR:PORT");
        if (!withCommands) return;
        app.require_subcommand(1);
        write = app.add_subcommand("write", "write a file");
        write->add_option("file", file, "the file")->required();
        write->add_option("--device", config, "port path")->required();
        write->add_option("--tag", tags, "a tag (repeatable)");
        auto* sim = app.add_subcommand("sim", "simulated devices");
        sim->require_subcommand(1);
        simCreate = sim->add_subcommand("create", "make devices");
        simCreate->add_option("dir", dir, "directory")->required();
    }

    struct Outcome {
        std::optional<int> exit;
        std::string out;
        std::string err;
    };
    Outcome run(std::vector<std::string> args) {
        args.insert(args.begin(), "/usr/bin/tte-demo");
        std::vector<const char*> argv;
        for (const auto& a : args) argv.push_back(a.c_str());
        testing::internal::CaptureStdout();
        testing::internal::CaptureStderr();
        auto exit = parse(app, static_cast<int>(argv.size()), argv.data());
        std::string out = testing::internal::GetCapturedStdout();
        return {exit, out, testing::internal::GetCapturedStderr()};
    }
};

TEST(Parse, GoesOnWhenEverythingIsThere) {
    Program p;
    auto r = p.run({"--verbose", "write", "a.dfu", "--device", "1-1"});
    EXPECT_FALSE(r.exit);
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(p.file, "a.dfu");
    EXPECT_TRUE(p.verbose);
}

TEST(Parse, ARepeatableOptionLeavesTheRequiredArgumentAtTheEnd) {
    Program p;
    auto r = p.run({"write", "--device", "1-1", "--tag", "x", "a.dfu"});
    EXPECT_FALSE(r.exit) << r.err;
    EXPECT_EQ(p.file, "a.dfu");
    EXPECT_EQ(p.tags, std::vector<std::string>{"x"});
}

TEST(Parse, VersionNamesVersionRevisionAndBuildType) {
    Program p;
    auto r = p.run({"--version"});
    EXPECT_EQ(r.exit, kExitOk);
    EXPECT_EQ(r.out, std::string("tte-demo ") + kVersion + " (git " + kGitRevision + ", " + kBuildType + ")\n");
    EXPECT_EQ(r.err, "");
    EXPECT_NE(std::string(kGitRevision), "");
}

TEST(Parse, HelpGoesToStdoutWithTheRequirementsShown) {
    Program p;
    auto r = p.run({"write", "--help"});
    EXPECT_EQ(r.exit, kExitOk);
    EXPECT_NE(r.out.find("REQUIRED"), std::string::npos) << r.out;
    EXPECT_EQ(r.err, "");
}

struct Usage {
    std::vector<std::string> args;
    std::string line;
};

class ParseUsage : public ::testing::TestWithParam<Usage> {};

TEST_P(ParseUsage, IsOneLineNamingTheCause) {
    Program p;
    auto r = p.run(GetParam().args);
    EXPECT_EQ(r.exit, kExitUsage);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "tte-demo: " + GetParam().line + "\n");
}

INSTANTIATE_TEST_SUITE_P(
    All, ParseUsage,
    ::testing::Values(
        // An unknown option is what is wrong, even when a required command is missing too.
        Usage{{"--bogus"}, "unknown option '--bogus' (see tte-demo --help)"},
        Usage{{"--verbos"}, "unknown option '--verbos' (did you mean '--verbose'?) (see tte-demo --help)"},
        Usage{{"write", "a.dfu", "--device", "1-1", "--bogus=3"}, "unknown option '--bogus' (see tte-demo write --help)"},
        Usage{{"write", "--tag", "x", "--bogus"}, "unknown option '--bogus' (see tte-demo write --help)"},
        Usage{{"write", "--device", "1-1", "--tag", "x"}, "write: missing argument 'file' (see tte-demo write --help)"},
        Usage{{"wirte"}, "unknown command 'wirte' (did you mean 'write'?); commands: write, sim"},
        Usage{{"write", "a.dfu", "b.dfu", "--device", "1-1"}, "unexpected argument 'b.dfu' (see tte-demo write --help)"},
        Usage{{}, "missing command: one of write, sim (see tte-demo --help)"},
        Usage{{"sim"}, "sim: missing command: one of create (see tte-demo sim --help)"},
        Usage{{"write", "--device", "1-1"}, "write: missing argument 'file' (see tte-demo write --help)"},
        Usage{{"write", "a.dfu"}, "write: missing --device (see tte-demo write --help)"},
        Usage{{"sim", "create"}, "sim create: missing argument 'dir' (see tte-demo sim create --help)"},
        Usage{{"--sim"}, "--sim needs a value (DIR) (see tte-demo --help)"},
        Usage{{"--count", "0", "sim", "create", "d"}, "--count: Value 0 not in range 1 to 64 (see tte-demo sim create --help)"},
        Usage{{"--count", "many", "sim", "create", "d"},
              "--count: Value many not in range 1 to 64 (see tte-demo sim create --help)"}));

TEST(Fail, PrintsOneLineAndReturnsOne) {
    testing::internal::CaptureStderr();
    EXPECT_EQ(fail("tte-demo", "cannot open a.dfu:\nno such file\n"), kExitFailure);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "tte-demo: cannot open a.dfu:; no such file\n");
}

TEST(ConfigFailed, ShowsTheFirstProblemAndCountsTheRest) {
    testing::internal::CaptureStderr();
    EXPECT_EQ(configFailed("tte-demo", Error{Errc::invalidArgument, "a.toml:1: x: unknown key\na.toml:2: y: unknown key\n"
                                                                   "a.toml:3: z: unknown key", {}, 0, {}}),
              kExitUsage);
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "tte-demo: a.toml:1: x: unknown key (and 2 more: see tte-demo --check-config)\n");
}

TEST(CheckConfigResult, SaysOkOrListsEveryProblem) {
    testing::internal::CaptureStdout();
    EXPECT_EQ(checkConfigResult("a.toml", Status{}), kExitOk);
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "a.toml: ok\n");
    testing::internal::CaptureStderr();
    EXPECT_EQ(checkConfigResult("a.toml", fail(Errc::invalidArgument, "a.toml:1: x: unknown key\na.toml:2: y: bad")), kExitUsage);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "a.toml:1: x: unknown key\na.toml:2: y: bad\n");
}

/// A Controller-like program whose --config file holds its long options.
class ConfigFile : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/tte-cli-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        m_dir = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }

    Program::Outcome run(const std::string& toml, std::vector<std::string> args = {}) {
        const std::string path = m_dir + "/c.toml";
        std::ofstream(path) << toml;
        m_program = std::make_unique<Program>(false);
        addConfigFile(m_program->app, "config");
        addCheckConfig(m_program->app, m_program->checkConfig);
        args.insert(args.begin(), {"--config", path});
        return m_program->run(args);
    }
    std::string file() const { return m_dir + "/c.toml"; }

    std::string m_dir;
    std::unique_ptr<Program> m_program;
};

TEST_F(ConfigFile, SetsTheOptionsAndTheCommandLineWins) {
    auto r = run("sim = \"devices\"\nverbose = true\ncount = 3\nroute = [\"a:1:b:2\", \"c:3:d:4\"]\n", {"--count", "5"});
    EXPECT_FALSE(r.exit) << r.err;
    EXPECT_EQ(m_program->dir, "devices");
    EXPECT_TRUE(m_program->verbose);
    EXPECT_EQ(m_program->count, 5);
    EXPECT_EQ(m_program->routes, (std::vector<std::string>{"a:1:b:2", "c:3:d:4"}));
}

TEST_F(ConfigFile, AnUnknownKeyIsAUsageErrorWithItsLine) {
    auto r = run("sim = \"devices\"\nverbos = true\n");
    EXPECT_EQ(r.exit, kExitUsage);
    EXPECT_EQ(r.err, "tte-demo: " + file() + ":2: verbos: unknown key (did you mean 'verbose'?)\n");
}

TEST_F(ConfigFile, AWrongTypeAndABadValueAreRefused) {
    auto r = run("count = \"3\"\nverbose = 1\nroute = [1]\n");
    EXPECT_EQ(r.exit, kExitUsage);
    EXPECT_EQ(r.err, "tte-demo: " + file() + ":1: count: expected an integer, found a string (and 2 more: see tte-demo "
                     "--check-config)\n");
    r = run("count = 65\n");
    EXPECT_EQ(r.err, "tte-demo: " + file() + ":1: count: Value 65 not in range 1 to 64\n");
}

TEST_F(ConfigFile, BrokenTomlIsRefused) {
    auto r = run("count = 3\nsim = \"unterminated\n");
    EXPECT_EQ(r.exit, kExitUsage);
    EXPECT_TRUE(r.err.starts_with("tte-demo: " + file() + ":2:")) << r.err;
    EXPECT_NE(r.err.find("syntax error"), std::string::npos) << r.err;
    r = run("[section]\ncount = 3\n");
    EXPECT_EQ(r.err, "tte-demo: " + file() + ":1: section: unknown table\n");
}

TEST_F(ConfigFile, CheckConfigListsEveryProblem) {
    auto r = run("count = \"3\"\nverbose = 1\nroute = [1]\nconfig = \"x\"\n", {"--check-config"});
    EXPECT_EQ(r.exit, kExitUsage);
    EXPECT_EQ(r.err, file() + ":1: count: expected an integer, found a string\n" + file() +
                         ":2: verbose: expected true or false, found an integer\n" + file() +
                         ":3: route: expected an array of strings, found an array holding an integer\n" + file() +
                         ":4: config: unknown key\n");
}

TEST(Spelling, SuggestsOnlyNearMisses) {
    const std::vector<std::string> keys{"slots", "state-dir", "firmware_sha256", "database"};
    EXPECT_EQ(closestName("slot", keys), "slots");
    EXPECT_EQ(closestName("state_dir", keys), "state-dir");
    EXPECT_EQ(closestName("firmware_sha265", keys), "firmware_sha256");
    EXPECT_EQ(closestName("Database", keys), "database");
    EXPECT_EQ(closestName("printer", keys), std::nullopt);
    EXPECT_EQ(closestName("slots", keys), std::nullopt);
    EXPECT_EQ(didYouMean("dtabase", keys), " (did you mean 'database'?)");
}

}  // namespace
}  // namespace tte::cli
