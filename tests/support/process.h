// Test support: the built programs and the source tree, files read and written whole, child
// processes (argv, no shell: stdout and stderr in files, killed and reaped when the handle
// dies), a shell command's output for tests that need a pipeline, and waiting on a condition
// with a deadline (never a bare sleep).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace tte::test {

/// The directory of the built programs ($TTE_BIN from ctest, else build/bin).
std::filesystem::path binDir();
/// `binDir()/name` as a string.
std::string binary(const std::string& name);
/// The source tree ($TTE_SOURCE_DIR from ctest, else ".").
std::filesystem::path sourceRoot();

/// The whole file ("" when it cannot be read).
std::string readText(const std::filesystem::path& path);
/// Writes `text` as the whole file.
void writeFile(const std::filesystem::path& path, const std::string& text);

/// Polls `ready` every 20 ms until it is true or `deadline` passes; returns its last value.
bool waitFor(const std::function<bool()>& ready, std::chrono::milliseconds deadline = std::chrono::seconds(30));

class Process {
public:
    /// Starts argv[0] (a path) with the given arguments and the environment plus `extraEnv`;
    /// output goes to `outDir`/<name>.out and .err.
    Process(std::vector<std::string> argv, const std::filesystem::path& outDir, const std::string& name,
            std::vector<std::string> extraEnv = {});
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    [[nodiscard]] bool started() const { return m_pid > 0; }
    [[nodiscard]] int pid() const { return m_pid; }
    [[nodiscard]] std::string out() const { return readText(m_out); }
    [[nodiscard]] std::string err() const { return readText(m_err); }
    /// Sends `sig` and reaps the child; returns its exit status (or -signal). Idempotent.
    int kill(int sig = 15);
    /// Waits for the child to end (up to `deadline`, then kills it); exit code, or -signal.
    int wait(std::chrono::milliseconds deadline = std::chrono::seconds(60));
    /// True once the child has ended (reaped).
    bool exited();
    [[nodiscard]] int status() const { return m_status; }

private:
    pid_t m_pid = -1;
    int m_status = -1;
    std::filesystem::path m_out, m_err;
};

/// A program run to completion.
struct RunResult {
    int code;
    std::string out;
    std::string err;
};
RunResult run(std::vector<std::string> argv, const std::filesystem::path& outDir, const std::string& name,
              std::chrono::milliseconds deadline = std::chrono::seconds(60), std::vector<std::string> env = {});

/// A shell command line run to completion, stderr merged into stdout. Tests build these lines
/// from their own temp paths only.
struct ShellResult {
    int exitCode = -1;
    std::string output;
};
ShellResult runShell(const std::string& command);

/// `text` as one word of a shell command line, whatever it holds: in single quotes, each of its
/// own single quotes closed, escaped and opened again.
std::string shellWord(const std::string& text);

/// SQL run by the database's own shell, as ops would by hand: `sqlite3 -bail FILE` for a
/// registry URL "sqlite://FILE", `psql URL -qAtX -v ON_ERROR_STOP=1` for a "postgresql://…"
/// one. `sql` (one statement or several, any quotes in it) reaches the shell as one argument.
/// The rows come back as both shells print them: '|' between columns, a newline after each.
ShellResult runSql(const std::string& url, const std::string& sql);

}  // namespace tte::test
