// The token that can go away (token_server.h).
#include "support/token_server.h"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>

namespace tte::test {

TokenServer::TokenServer(std::filesystem::path socket, std::filesystem::path outDir, std::string softhsmConf,
                         std::string tokenUri)
    : m_socket(std::move(socket)), m_outDir(std::move(outDir)), m_conf(std::move(softhsmConf)),
      m_tokenUri(std::move(tokenUri)) {}

TokenServer::~TokenServer() { stop(); }

std::string TokenServer::address() const { return "unix:path=" + m_socket.string(); }

std::string TokenServer::start() {
    std::filesystem::remove(m_socket);
    m_server = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/p11-kit", "server", "-f", "-n", m_socket.string(), "--provider",
                                 "/usr/lib/softhsm/libsofthsm2.so", m_tokenUri},
        m_outDir, "p11-kit-server" + std::to_string(++m_starts), std::vector<std::string>{"SOFTHSM2_CONF=" + m_conf});
    if (!m_server->started()) return "p11-kit server did not start";
    if (!waitFor([&] { return std::filesystem::exists(m_socket) || m_server->exited(); }, std::chrono::seconds(20)) ||
        m_server->exited())
        return "p11-kit server does not listen on " + m_socket.string() + ": " + m_server->err();
    return {};
}

void TokenServer::stop() {
    if (!m_server) return;
    // Stopped first, the server forks no child for a new connection while its children are
    // read: a child forked after the reading would go on serving that connection. WNOWAIT
    // leaves the state for the Process to collect.
    siginfo_t info{};
    ::kill(m_server->pid(), SIGSTOP);
    ::waitid(P_PID, static_cast<id_t>(m_server->pid()), &info, WSTOPPED | WEXITED | WNOWAIT);
    const std::string pid = std::to_string(m_server->pid());
    std::ifstream children("/proc/" + pid + "/task/" + pid + "/children");
    for (int child = 0; children >> child;) ::kill(child, SIGKILL);
    m_server->kill(SIGKILL);
    m_server.reset();
}

}  // namespace tte::test
