// A private cupsd for integration tests: its own temp dir (every path under it), a free
// loopback port, an open policy, FileDevice, and label queues whose tiny PPD passes PDF to a
// file: device. Stopped and removed in the destructor, and killed with the test process
// (PR_SET_PDEATHSIG) if that dies first.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tte::labels::testing {

class PrivateCupsd {
public:
    /// Starts cupsd and waits (up to 20 s) until it accepts connections. `pageSizesMm` are
    /// the label sizes the queues' PPD offers. On failure, error() says why.
    explicit PrivateCupsd(const std::vector<std::pair<double, double>>& pageSizesMm);
    ~PrivateCupsd();
    PrivateCupsd(const PrivateCupsd&) = delete;
    PrivateCupsd& operator=(const PrivateCupsd&) = delete;

    [[nodiscard]] const std::string& error() const { return m_error; }
    [[nodiscard]] int port() const { return m_port; }
    [[nodiscard]] std::string server() const { return "127.0.0.1:" + std::to_string(m_port); }
    [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }

    /// lpadmin -h … -p NAME -E -v file://DIR/out/NAME.pdf -P DIR/label.ppd; returns "" or why not.
    std::string addQueue(const std::string& name);
    /// Where a queue's file: device writes.
    [[nodiscard]] std::filesystem::path output(const std::string& queue) const { return m_dir / "out" / (queue + ".pdf"); }

    /// Runs a program (argv[0] is looked up in PATH) with stdout+stderr to `outFile` (or the
    /// log); returns its exit status, or -1 if it could not run.
    int run(const std::vector<std::string>& argv, const std::filesystem::path& outFile = {}) const;

private:
    std::string start(const std::vector<std::pair<double, double>>& pageSizesMm);

    std::filesystem::path m_dir;
    int m_port = 0;
    int m_pid = -1;
    std::string m_error;
};

}  // namespace tte::labels::testing
