// Every program, run as a person would, against the command-line convention: --version prints
// version, git revision and build type and exits 0; a bad flag and a missing argument are usage
// errors (exit 2) reported in one line `PROGRAM: reason` on stderr that names the real cause.
// Then --check-config on the shipped example configurations and on broken ones.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/process.h"
#include "support/temp_dir.h"
#include "tte/base/build_info.h"

namespace tte::test {
namespace {

namespace fs = std::filesystem;

struct Program {
    std::string name;
    std::vector<std::string> missing;  ///< arguments that leave out something required
    std::string missingLine;           ///< what the program says about it
};

const std::vector<Program>& programs() {
    static const std::vector<Program> all{
        {"tte-provision", {"status"}, "tte-provision: missing --config (see tte-provision --help)"},
        {"tte-station", {"--start"}, "tte-station: --start, --quit-when-done and --check-config need --config FILE"},
        {"tte-flash", {"write"}, "tte-flash: write: missing argument 'file' (see tte-flash write --help)"},
        {"tte-hsm", {"keygen", "lot"}, "tte-hsm: keygen lot: missing argument 'NAME' (see tte-hsm keygen lot --help)"},
        {"tte-label", {"verify", "a.png"}, "tte-label: verify: missing --url-file (see tte-label verify --help)"},
        {"tte-mothership", {"admin", "backup"}, "tte-mothership: admin backup: missing --out (see tte-mothership admin backup --help)"},
        {"tte-controller", {"--check-config"}, "tte-controller: --check-config needs --config FILE"},
        {"tte-introducer", {"status"},
         "tte-introducer: status: give exactly one of --qr-image, --url, --url-file, --led-video, --led-capture (see "
         "tte-introducer status --help)"},
        {"tte-device", {"run"}, "tte-device: run: missing --flash (see tte-device run --help)"},
    };
    return all;
}

class Convention : public ::testing::TestWithParam<Program> {
protected:
    void SetUp() override {
        m_bin = binDir() / GetParam().name;
        if (!fs::exists(m_bin)) GTEST_SKIP() << m_bin << " is not built in this configuration";
        // No display and a platform that needs one: a program that started Qt for its flags would abort.
        ::unsetenv("DISPLAY");
        ::unsetenv("WAYLAND_DISPLAY");
        ::setenv("QT_QPA_PLATFORM", "xcb", 1);
    }
    RunResult run(std::vector<std::string> args, const std::string& tag) {
        args.insert(args.begin(), m_bin.string());
        return test::run(std::move(args), m_dir.path(), GetParam().name + "-" + tag);
    }
    fs::path m_bin;
    TempDir m_dir;
};

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST_P(Convention, VersionNamesVersionRevisionAndBuildType) {
    auto r = run({"--version"}, "version");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, GetParam().name + " " + kVersion + " (git " + kGitRevision + ", " + kBuildType + ")\n");
    EXPECT_EQ(r.err, "");
}

TEST_P(Convention, HelpPrintsOnStdoutWithoutADisplay) {
    auto r = run({"--help"}, "help");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("--version"), std::string::npos) << r.out;
    EXPECT_EQ(r.err, "");
}

TEST_P(Convention, ABadFlagIsNamedEvenWhenSomethingIsMissingToo) {
    auto r = run({"--bogus"}, "bogus");
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, GetParam().name + ": unknown option '--bogus' (see " + GetParam().name + " --help)\n");
}

TEST_P(Convention, AMissingArgumentIsNamed) {
    auto r = run(GetParam().missing, "missing");
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, GetParam().missingLine + "\n");
    EXPECT_EQ(lines(r.err), 1u);
}

INSTANTIATE_TEST_SUITE_P(Every, Convention, ::testing::ValuesIn(programs()),
                         [](const auto& info) {
                             std::string n = info.param.name;
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

fs::path sourceDir() {
    const char* src = std::getenv("TTE_SOURCE_DIR");
    return fs::absolute(src ? src : ".");
}

/// --check-config: "FILE: ok" for every shipped example, the problems for broken files.
class CheckConfig : public ::testing::Test {
protected:
    RunResult run(const std::string& program, std::vector<std::string> args, const std::string& tag) {
        if (!fs::exists(binDir() / program)) return {-1, "", program + " is not built"};
        args.insert(args.begin(), (binDir() / program).string());
        return test::run(std::move(args), m_dir.path(), program + "-" + tag);
    }
    std::string write(const std::string& name, const std::string& text) {
        const std::string path = (m_dir.path() / name).string();
        std::ofstream(path) << text;
        return path;
    }
    TempDir m_dir;
};

TEST_F(CheckConfig, TheShippedExamplesAreOk) {
    const std::string ms = (sourceDir() / "config/mothership.toml").string();
    auto r = run("tte-mothership", {"--config", ms, "--check-config"}, "ms");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, ms + ": ok\n");
    const std::string controller = (sourceDir() / "config/controller.toml").string();
    r = run("tte-controller", {"--config", controller, "--check-config"}, "controller");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, controller + ": ok\n");
    // The station's example names /etc/tte/labels.toml; here the repository's copy stands in.
    std::string station = readText(sourceDir() / "config/station.toml");
    const auto at = station.find("\"/etc/tte/labels.toml\"");
    ASSERT_NE(at, std::string::npos);
    station.replace(at, 22, "\"" + (sourceDir() / "config/labels.toml").string() + "\"");
    const std::string path = write("station.toml", station);
    for (const std::string program : {"tte-provision", "tte-station"}) {
        r = run(program, {"--config", path, "--check-config"}, "station");
        if (r.code == -1) continue;
        EXPECT_EQ(r.code, 0) << program << ": " << r.err;
        EXPECT_EQ(r.out, path + ": ok\n") << program;
    }
}

TEST_F(CheckConfig, MotherShipUnknownKeyWrongTypeBadValue) {
    const std::string path = write("ms.toml", "ms_id = 0\n[https]\nlisten = \"127.0.0.1:8443\"\nthreds = 4\n"
                                              "handlers = \"64\"\n[database]\nconnections = 65\n[coaps]\nlisten = \"x\"\n");
    auto r = run("tte-mothership", {"--config", path, "--check-config"}, "bad");
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, path + ":1: ms_id: must be 1 to 16777215, not 0\n" + path +
                         ":4: https.threds: unknown key (did you mean 'threads'?)\n" + path +
                         ":5: https.handlers: expected an integer, found a string\n" + path +
                         ":7: database.connections: must be 1 to 64, not 65\n" + path +
                         ":9: coaps.listen: listen address must be ADDR:PORT or [IPv6]:PORT, got 'x'\n");
    r = run("tte-mothership", {"--config", path, "serve"}, "serve");
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "tte-mothership: " + path + ":1: ms_id: must be 1 to 16777215, not 0 (and 4 more: see tte-mothership "
                                                 "--check-config)\n");
}

TEST_F(CheckConfig, ControllerUnknownKeyWrongTypeBadValue) {
    const std::string path = write("c.toml", "state_dir = \"/var/lib/tte-controller\"\npoll-interval = \"5\"\n"
                                             "poll-concurrency = 0\naccept-unintroduced = \"yes\"\n");
    auto r = run("tte-controller", {"--config", path, "--check-config"}, "bad");
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, path + ":1: state_dir: unknown key (did you mean 'state-dir'?)\n" + path +
                         ":2: poll-interval: expected an integer, found a string\n" + path +
                         ":3: poll-concurrency: Value 0 not in range 1 to 64\n" + path +
                         ":4: accept-unintroduced: expected true or false, found a string\n");
    r = run("tte-controller", {"--config", path}, "serve");
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "tte-controller: " + path + ":1: state_dir: unknown key (did you mean 'state-dir'?) (and 3 more: see "
                                                 "tte-controller --check-config)\n");
    r = run("tte-controller", {"--config", write("broken.toml", "https-listen = \"127.0.0.1:0\nstate-dir = \"x\"\n"),
                               "--check-config"}, "broken");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("broken.toml:1:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(": syntax error: "), std::string::npos) << r.err;
}

TEST_F(CheckConfig, ControllerListenAddressesAsTheServersTakeThem) {
    // What the Controller would refuse when it starts is found by --check-config, with its line.
    const std::string path = write("listen.toml", "state-dir = \"x\"\nhttps-listen = \"localhost:8444\"\n"
                                                  "coaps-listen = \"127.0.0.1:70000\"\n");
    auto r = run("tte-controller", {"--config", path, "--check-config"}, "listen");
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, path + ":2: https-listen: listen address: 'localhost' is not an IP address\n" + path +
                         ":3: coaps-listen: listen address: port must be 0 to 65535, got '70000'\n");
    r = run("tte-controller", {"--config", write("v6.toml", "https-listen = \"[::1]:0\"\ncoaps-listen = \"0.0.0.0:0\"\n"),
                               "--check-config"}, "v6");
    EXPECT_EQ(r.code, 0) << r.err;
    r = run("tte-controller", {"--https-listen", "127.0.0.1", "--state-dir", (m_dir.path() / "state").string()}, "flag");
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("tte-controller: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("listen address must be ADDR:PORT or [IPv6]:PORT, got '127.0.0.1'"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(m_dir.path() / "state")) << "a refused flag must start nothing";
}

TEST_F(CheckConfig, StationAndItsLabelTemplate) {
    std::string station = readText(sourceDir() / "config/station.toml");
    const auto at = station.find("slots = 4");
    ASSERT_NE(at, std::string::npos);
    station.replace(at, 9, "slot = 2");
    const std::string path = write("station.toml", station);
    auto r = run("tte-provision", {"--config", path, "--check-config"}, "bad");
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, path + ":7: station.slot: unknown key (did you mean 'slots'?)\n");
    r = run("tte-provision", {"--config", path, "status"}, "status");
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err, "tte-provision: " + path + ":7: station.slot: unknown key (did you mean 'slots'?)\n");
}

}  // namespace
}  // namespace tte::test
