// Test support: run a real program as a child process (argv, no shell), its stdout and
// stderr in files, killed and reaped when the handle dies; wait on conditions with a deadline.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tte::test {

inline std::string readText(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void writeFileText(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

/// Polls `ready` every 20 ms until it is true or `deadline` passes; returns its last value.
inline bool waitFor(const std::function<bool()>& ready, std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (!ready()) {
        if (std::chrono::steady_clock::now() > end) return ready();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

/// A fresh temp directory, removed with its content when the object dies.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tte-test-XXXXXX").string();
        m_path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

/// The directory of the built programs (TTE_BIN from ctest).
inline std::filesystem::path binDir() {
    const char* bin = std::getenv("TTE_BIN");
    return bin ? bin : "build/bin";
}

class Process {
public:
    /// Starts argv[0] (a path) with the given arguments; output goes to `outDir`/<name>.out/.err.
    Process(std::vector<std::string> argv, const std::filesystem::path& outDir, const std::string& name,
            std::vector<std::string> extraEnv = {})
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
    ~Process() { kill(SIGKILL); }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    [[nodiscard]] bool started() const { return m_pid > 0; }
    [[nodiscard]] std::string out() const { return readText(m_out); }
    [[nodiscard]] std::string err() const { return readText(m_err); }

    /// Sends `sig` and reaps the child; returns its exit status (or -signal). Idempotent.
    int kill(int sig = SIGTERM) {
        if (m_pid <= 0) return m_status;
        ::kill(m_pid, sig);
        return wait();
    }

    /// Waits for the child to end (up to `deadline`, then kills it); exit code, or -signal.
    int wait(std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
        if (m_pid <= 0) return m_status;
        int status = 0;
        auto end = std::chrono::steady_clock::now() + deadline;
        while (::waitpid(m_pid, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > end) ::kill(m_pid, SIGKILL);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        m_pid = -1;
        m_status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        return m_status;
    }

    /// True once the child has ended (reaped).
    bool exited() {
        if (m_pid <= 0) return true;
        int status = 0;
        if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = -1;
            m_status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
            return true;
        }
        return false;
    }
    [[nodiscard]] int status() const { return m_status; }

private:
    pid_t m_pid = -1;
    int m_status = -1;
    std::filesystem::path m_out, m_err;
};

/// Runs a program to completion; returns {exit code, stdout, stderr}.
struct RunResult {
    int code;
    std::string out;
    std::string err;
};
inline RunResult run(std::vector<std::string> argv, const std::filesystem::path& outDir, const std::string& name,
                     std::chrono::milliseconds deadline = std::chrono::seconds(60), std::vector<std::string> env = {}) {
    Process p(std::move(argv), outDir, name, std::move(env));
    int code = p.wait(deadline);
    return {code, p.out(), p.err()};
}

}  // namespace tte::test
