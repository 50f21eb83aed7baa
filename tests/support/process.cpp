// Files, processes and waiting (process.h).
#include "support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string_view>
#include <sstream>
#include <thread>

extern char** environ;

namespace tte::test {

std::filesystem::path binDir() {
    const char* bin = std::getenv("TTE_BIN");
    return bin ? bin : "build/bin";
}

std::string binary(const std::string& name) { return (binDir() / name).string(); }

std::filesystem::path sourceRoot() {
    const char* dir = std::getenv("TTE_SOURCE_DIR");
    return dir ? dir : ".";
}

std::string readText(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void writeFile(const std::filesystem::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

bool waitFor(const std::function<bool()>& ready, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!ready()) {
        if (std::chrono::steady_clock::now() > end) return ready();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

Process::Process(std::vector<std::string> argv, const std::filesystem::path& outDir, const std::string& name,
                 std::vector<std::string> extraEnv)
    : m_out(outDir / (name + ".out")), m_err(outDir / (name + ".err")) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, m_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, m_err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> envStore;
    for (char** e = environ; *e != nullptr; ++e) envStore.emplace_back(*e);
    for (auto& e : extraEnv) envStore.push_back(e);
    std::vector<char*> env;
    for (auto& e : envStore) env.push_back(e.data());
    env.push_back(nullptr);
    if (posix_spawn(&m_pid, args[0], &fa, nullptr, args.data(), env.data()) != 0) m_pid = -1;
    posix_spawn_file_actions_destroy(&fa);
}

Process::~Process() { kill(SIGKILL); }

int Process::kill(int sig) {
    if (m_pid <= 0) return m_status;
    ::kill(m_pid, sig);
    return wait();
}

int Process::wait(std::chrono::milliseconds deadline) {
    if (m_pid <= 0) return m_status;
    int status = 0;
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (::waitpid(m_pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > end) ::kill(m_pid, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    m_pid = -1;
    m_status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return m_status;
}

bool Process::exited() {
    if (m_pid <= 0) return true;
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        m_status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        return true;
    }
    return false;
}

RunResult run(std::vector<std::string> argv, const std::filesystem::path& outDir, const std::string& name,
              std::chrono::milliseconds deadline, std::vector<std::string> env) {
    Process p(std::move(argv), outDir, name, std::move(env));
    const int code = p.wait(deadline);
    return {code, p.out(), p.err()};
}

ShellResult runShell(const std::string& command) {
    ShellResult r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (p == nullptr) return r;
    std::array<char, 4096> buf{};
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
    const int status = ::pclose(p);
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string shellWord(const std::string& text) {
    std::string word = "'";
    for (char c : text) word += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return word + "'";
}

ShellResult runSql(const std::string& url, const std::string& sql) {
    constexpr std::string_view kSqlite = "sqlite://";
    if (url.starts_with(kSqlite)) return runShell("sqlite3 -bail " + shellWord(url.substr(kSqlite.size())) + " " + shellWord(sql));
    return runShell("psql " + shellWord(url) + " -qAtX -v ON_ERROR_STOP=1 -c " + shellWord(sql));
}

}  // namespace tte::test
