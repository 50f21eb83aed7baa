// tte-provision asks for the token's PIN on its terminal when the station has no hsm.pin_file
// (docs/STATION.md "Sign-in"): the real program on a pseudo-terminal (forkpty, so /dev/tty is
// the pty), on a whole station site (SoftHSM token, MotherShip, cupsd, simulated boards).
// The test types the PIN as an operator would, only once the program has switched echo off,
// and checks what the terminal shows: the prompt, never the PIN; a wrong PIN ends the run with
// the token's refusal, the right one provisions the board.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "support/station_site.h"

namespace tte::test {
namespace {

/// What the terminal saw of one tte-provision run.
struct TerminalRun {
    std::string screen;         ///< everything the program wrote to the terminal
    bool prompted = false;      ///< the prompt appeared
    bool echoOff = false;       ///< ECHO was off on the terminal while it prompted
    std::string cmdline;        ///< /proc/PID/cmdline while it prompted (NULs as spaces)
    int code = -1;              ///< exit code, or -signal, or -1000 when it hung
};

/// Runs `tte-provision ARGS…` on the site with a pty as its controlling terminal, types `pin`
/// and Enter once it prompts with echo off, and reads the terminal until the program ends.
TerminalRun provisionOnTerminal(StationSite& site, const std::vector<std::string>& args, const std::string& pin) {
    std::vector<std::string> argv = {(binDir() / "tte-provision").string(), "--config",
                                     site.path("station/station.toml").string(), "--sim", site.path("sim").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string conf = site.path("softhsm/softhsm2.conf").string();
    const std::string dir = site.path("").string();
    TerminalRun r;
    int master = -1;
    const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    if (pid < 0) return r;
    if (pid == 0) {
        std::vector<char*> cargv;
        for (auto& a : argv) cargv.push_back(a.data());
        cargv.push_back(nullptr);
        ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
        if (::chdir(dir.c_str()) != 0) _exit(126);
        ::execv(cargv[0], cargv.data());
        _exit(127);
    }
    const std::string prompt = "PIN of HSM token tte-station: ";
    bool typed = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
        if (r.prompted && !typed) {
            termios t{};
            if (::tcgetattr(master, &t) == 0 && !(t.c_lflag & ECHO)) {
                r.echoOff = true;
                std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline");
                std::getline(cmd, r.cmdline, '\x01');
                for (char& c : r.cmdline) c = c == '\0' ? ' ' : c;
                const std::string line = pin + "\n";
                if (::write(master, line.data(), line.size()) != static_cast<ssize_t>(line.size())) break;
                typed = true;
            }
        }
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, r.prompted && !typed ? 5 : 500) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0) break;  // EIO: the program has ended and closed the terminal
        r.screen.append(buf, static_cast<std::size_t>(n));
        r.prompted = r.prompted || r.screen.find(prompt) != std::string::npos;
    }
    const bool hung = std::chrono::steady_clock::now() >= deadline;
    if (hung) ::kill(pid, SIGKILL);
    ::close(master);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.code = hung ? -1000 : WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return r;
}

std::string userPin(const StationSite& site) {
    std::ifstream in(site.path("softhsm/user-pin"));
    std::string pin;
    std::getline(in, pin);
    return pin;
}

TEST(StationPinPrompt, AWrongPinIsRefusedOnTheTerminalAndTheRightOneProvisions) {
    StationSite site({.devices = 1, .slots = 1, .pinFile = false});
    ASSERT_EQ(site.setUp(), "");
    const std::string pin = userPin(site);
    ASSERT_GE(pin.size(), 4u);

    const std::string wrong = "9" + pin;
    auto refused = provisionOnTerminal(site, {"run", "--count", "1", "--operator", "erin"}, wrong);
    EXPECT_TRUE(refused.prompted) << refused.screen;
    EXPECT_TRUE(refused.echoOff) << refused.screen;
    EXPECT_EQ(refused.code, 1) << refused.screen;
    // The prompt, the Enter echoed alone (ECHONL), then the one-line refusal.
    EXPECT_EQ(refused.screen.rfind("PIN of HSM token tte-station: \r\n"
                                   "tte-provision: HSM token tte-station: the PIN is wrong (CKR_PIN_INCORRECT)",
                                   0),
              0u)
        << refused.screen;
    EXPECT_EQ(refused.screen.find(wrong), std::string::npos) << refused.screen;
    EXPECT_EQ(refused.cmdline.find(wrong), std::string::npos) << refused.cmdline;
    EXPECT_NE(refused.cmdline.find("tte-provision"), std::string::npos) << refused.cmdline;
    EXPECT_TRUE(site.provisionedDevices().empty());

    auto ran = provisionOnTerminal(site, {"run", "--count", "1", "--operator", "erin"}, pin);
    EXPECT_TRUE(ran.prompted) << ran.screen;
    EXPECT_TRUE(ran.echoOff) << ran.screen;
    EXPECT_EQ(ran.code, 0) << ran.screen;
    EXPECT_EQ(ran.screen.rfind("PIN of HSM token tte-station: \r\n", 0), 0u) << ran.screen;
    EXPECT_NE(ran.screen.find("provisioned 1, failed 0"), std::string::npos) << ran.screen;
    EXPECT_EQ(ran.screen.find(pin), std::string::npos) << "the PIN was shown on the terminal";
    EXPECT_EQ(ran.cmdline.find(pin), std::string::npos) << "the PIN is in argv";
    EXPECT_EQ(site.provisionedDevices().size(), 1u);
    for (const auto& f : std::filesystem::directory_iterator(site.path(""))) {
        if (f.is_regular_file()) {
            EXPECT_EQ(readText(f.path()).find(pin), std::string::npos) << f.path();
        }
    }
}

}  // namespace
}  // namespace tte::test
