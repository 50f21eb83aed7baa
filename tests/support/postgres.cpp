// A throwaway PostgreSQL server (postgres.h), driven with Debian's PostgreSQL 15 tools.
#include "support/postgres.h"

#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "support/process.h"

namespace tte::test {
namespace {
// Not a std::string: a test's static server stops at exit, perhaps after this file's statics.
constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";

// The port only names the socket file in the server's private dir.
int socketPort() { return 20000 + static_cast<int>(getpid() % 20000); }
}  // namespace

// Its own temp dir, owned by postgres (the caller's other files stay private to root).
Postgres::Postgres(const std::string& settings)
    : m_tmp("postgres"), m_dir(m_tmp.path().string()), m_data(m_dir + "/data"), m_settings(settings), m_port(socketPort()) {
    runShell("chown postgres " + m_dir);
    auto init = runShell(std::string("runuser -u postgres -- ") + kBin + "initdb -A trust -U postgres -D " + m_data);
    if (init.exitCode != 0) throw std::runtime_error("initdb failed: " + init.output);
    start();
}

Postgres::Postgres(DataDir data, const std::string& settings)
    : m_tmp("postgres"), m_dir(m_tmp.path().string()), m_data(data.path.string()), m_settings(settings), m_port(socketPort()) {
    runShell("chown postgres " + m_dir);
}

Postgres::~Postgres() { stop(); }

void Postgres::stop() { runShell(std::string("runuser -u postgres -- ") + kBin + "pg_ctl -D " + m_data + " -m fast -w stop"); }

void Postgres::start() {
    auto r = runShell(std::string("runuser -u postgres -- ") + kBin + "pg_ctl -D " + m_data + " -l " + m_dir +
                      "/log -w start -o \"-k " + m_dir + " -p " + std::to_string(m_port) + " -c listen_addresses='' " +
                      m_settings + "\"");
    if (r.exitCode != 0) throw std::runtime_error("pg_ctl start failed: " + r.output + "server log:\n" + log());
}

std::string Postgres::newDatabase() {
    // Not "t" + to_string(…): g++ 12 warns falsely (-Wrestrict) on it once inlined.
    const std::string name = std::string("t").append(std::to_string(++m_databases));
    auto r = runShell("runuser -u postgres -- createdb -h " + m_dir + " -p " + std::to_string(m_port) + " " + name);
    if (r.exitCode != 0) throw std::runtime_error("createdb failed: " + r.output);
    return url(name);
}

std::string Postgres::url(const std::string& database) const {
    return "postgresql:///" + database + "?host=" + m_dir + "&port=" + std::to_string(m_port) + "&user=postgres";
}

int Postgres::serverPid() const {
    std::ifstream in(m_data + "/postmaster.pid");
    int pid = 0;
    in >> pid;
    return in ? pid : 0;
}

std::string Postgres::log() const { return readText(m_dir + "/log"); }

}  // namespace tte::test
