// A throwaway PostgreSQL server for tests and benchmarks: initdb as user postgres into its own
// temp dir, listening on a Unix socket only (nothing on the network), stopped on destruction.
// Or a server on a data directory the caller prepared (a base backup's copy set up for
// recovery), started when the caller says.
#pragma once

#include <filesystem>
#include <string>

#include "support/temp_dir.h"

namespace tte::test {

class Postgres {
public:
    /// An existing data directory, owned by user postgres (mode 0700), that the server uses in
    /// place and leaves behind.
    struct DataDir {
        std::filesystem::path path;
    };

    /// initdb (about 0.6 s) and start. `settings` are extra `-c name=value` server options.
    /// Throws std::runtime_error when initdb or the start fails.
    explicit Postgres(const std::string& settings = "");
    /// A server on `data`, not started yet: start() it. Its socket and log are in a temp dir of
    /// its own, so that the log outlives a start that fails.
    Postgres(DataDir data, const std::string& settings);
    ~Postgres();
    Postgres(const Postgres&) = delete;
    Postgres& operator=(const Postgres&) = delete;

    /// Stops the server (a database outage), and starts it again. start() waits until the
    /// server accepts connections (a server in recovery: read-only ones) and throws
    /// std::runtime_error with pg_ctl's output and the server's log when it does not.
    void stop();
    void start();
    /// A fresh, empty database: its libpq URL (`postgresql:///tN?host=DIR&port=P&user=postgres`).
    [[nodiscard]] std::string newDatabase();
    /// The libpq URL of `database` on this server (which need not exist).
    [[nodiscard]] std::string url(const std::string& database) const;
    /// The server's main process (postmaster.pid), 0 when it is not running.
    [[nodiscard]] int serverPid() const;
    /// Its data directory.
    [[nodiscard]] const std::string& dataDir() const { return m_data; }
    /// What the server logged since its first start.
    [[nodiscard]] std::string log() const;

private:
    TempDir m_tmp;
    std::string m_dir;
    std::string m_data;
    std::string m_settings;
    int m_port = 0;
    int m_databases = 0;
};

}  // namespace tte::test
