// A throwaway PostgreSQL server for tests and benchmarks: initdb as user postgres into its own
// temp dir, listening on a Unix socket only (nothing on the network), stopped on destruction.
#pragma once

#include <string>

#include "support/temp_dir.h"

namespace tte::test {

class Postgres {
public:
    /// initdb (about 0.6 s) and start. `settings` are extra `-c name=value` server options.
    /// Throws std::runtime_error when initdb or the start fails.
    explicit Postgres(const std::string& settings = "");
    ~Postgres();
    Postgres(const Postgres&) = delete;
    Postgres& operator=(const Postgres&) = delete;

    /// Stops the server (a database outage), and starts it again.
    void stop();
    void start();
    /// A fresh, empty database: its libpq URL (`postgresql:///tN?host=DIR&port=P&user=postgres`).
    [[nodiscard]] std::string newDatabase();
    /// The server's main process (postmaster.pid), 0 when it is not running.
    [[nodiscard]] int serverPid() const;

private:
    TempDir m_tmp;
    std::string m_dir;
    std::string m_settings;
    int m_port = 0;
    int m_databases = 0;
};

}  // namespace tte::test
