// A real PKCS#11 token that can go away and come back: `p11-kit server` exporting a SoftHSM
// token on a Unix socket, reached through p11-kit's client module
// (/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so with P11_KIT_SERVER_ADDRESS). stop()
// kills the server and the processes serving its connections, as pulling a token out does;
// start() brings it back on the same socket (token_server.cpp).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace tte::test {

/// p11-kit's client module (Debian package p11-kit-modules).
inline constexpr const char* kP11KitClient = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so";

class TokenServer {
public:
    /// Serves the token `tokenUri` (e.g. "pkcs11:token=tte-station") of the SoftHSM whose
    /// configuration is `softhsmConf` on `socket`; its output goes to `outDir`.
    TokenServer(std::filesystem::path socket, std::filesystem::path outDir, std::string softhsmConf, std::string tokenUri);
    ~TokenServer();
    TokenServer(const TokenServer&) = delete;
    TokenServer& operator=(const TokenServer&) = delete;

    /// "unix:path=…": the client's P11_KIT_SERVER_ADDRESS.
    [[nodiscard]] std::string address() const;
    /// "" once the server listens, else why not.
    std::string start();
    /// SIGKILL to the server and to every process it forked for a connection (the server
    /// stopped first, so that it forks none meanwhile).
    void stop();

private:
    std::filesystem::path m_socket;
    std::filesystem::path m_outDir;
    std::string m_conf;
    std::string m_tokenUri;
    std::unique_ptr<Process> m_server;
    int m_starts = 0;
};

}  // namespace tte::test
