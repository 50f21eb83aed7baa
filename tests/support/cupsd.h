// A private cupsd for integration tests: its own temp dir (every path under it, its own
// ServerBin with the project's tte-file backend beside links to the system's filters), a free
// loopback port, an open policy, and label queues whose tiny PPD passes PDF to a
// `tte-file:` device that keeps every job's document as its own file (docs/LABELS.md).
// Stopped and removed in the destructor, and killed with the test process
// (PR_SET_PDEATHSIG) if that dies first.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tte::test {

class PrivateCupsd {
public:
    /// Starts cupsd and waits (up to 20 s) until it accepts connections. `pageSizesMm` are
    /// the label sizes the queues' PPD offers. The backend is `$TTE_BIN/../lib/cups/backend/tte-file`.
    /// On failure, error() says why, naming the part that failed.
    explicit PrivateCupsd(const std::vector<std::pair<double, double>>& pageSizesMm);
    ~PrivateCupsd();
    PrivateCupsd(const PrivateCupsd&) = delete;
    PrivateCupsd& operator=(const PrivateCupsd&) = delete;

    [[nodiscard]] const std::string& error() const { return m_error; }
    [[nodiscard]] int port() const { return m_port; }
    [[nodiscard]] std::string server() const { return "127.0.0.1:" + std::to_string(m_port); }
    [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }

    /// lpadmin -h … -p NAME -E -v tte-file:DIR/out/NAME -P DIR/label.ppd, then checks that
    /// the queue took the device; returns "" or why not.
    std::string addQueue(const std::string& name);
    /// The folder a queue's tte-file device writes its documents into (also its label-stock
    /// sensor: a file `media-empty` there makes the printer run out of labels).
    [[nodiscard]] std::filesystem::path outputDir(const std::string& queue) const { return m_dir / "out" / queue; }
    /// The document job `jobId` of `queue` printed (a PDF).
    [[nodiscard]] std::filesystem::path output(const std::string& queue, int jobId) const {
        return outputDir(queue) / (queue + "-" + std::to_string(jobId) + ".pdf");
    }
    /// The documents a queue printed so far, sorted by job id.
    [[nodiscard]] std::vector<std::filesystem::path> outputs(const std::string& queue) const;

    /// Stops cupsd (SIGTERM, as a service stop does); its queues, jobs and spool stay.
    void stop();
    /// Starts cupsd again (stopping it first if it runs) on the same port, configuration and
    /// spool, and waits until it accepts connections; "" or why not.
    std::string restart();

    /// Runs a program (argv[0] is looked up in PATH) with stdout+stderr to `outFile` (or the
    /// log); returns its exit status, or -1 if it could not run.
    int run(const std::vector<std::string>& argv, const std::filesystem::path& outFile = {}) const;

private:
    std::string start(const std::vector<std::pair<double, double>>& pageSizesMm);
    /// Runs cupsd on the prepared directory and waits until it listens.
    std::string launch();

    std::filesystem::path m_dir;
    int m_port = 0;
    int m_pid = -1;
    std::string m_error;
};

}  // namespace tte::test
