// The per-test SoftHSM token and the outside views of it.
#include "softhsm_fixture.h"

#include <dlfcn.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace tte::hsm::test {

std::string modulePath() { return tte::test::pkcs11Module(); }

void SoftHsmTest::SetUp() {
    m_tmpDir = std::make_unique<tte::test::TempDir>("hsm-test");
    m_tmp = m_tmpDir->path().string();
    const tte::test::SoftHsmToken token(m_tmp + "/site", "tte-test", false);
    ASSERT_EQ(token.error(), "");
    m_site = token.site();
}

void SoftHsmTest::TearDown() {
    if (!m_lockedDir.empty()) {
        std::string cmd = "chattr -i '" + m_lockedDir + "' 2>/dev/null";
        if (std::system(cmd.c_str()) != 0) std::filesystem::permissions(m_lockedDir, std::filesystem::perms::owner_all);
        std::filesystem::permissions(m_lockedDir, std::filesystem::perms::owner_all);
    }
    if (m_dl != nullptr) dlclose(m_dl);
    m_tmpDir.reset();
}

Result<std::unique_ptr<Pkcs11KeyStore>> SoftHsmTest::open() const {
    return Pkcs11KeyStore::open(m_site.storeOptions(modulePath()));
}

CK_FUNCTION_LIST* SoftHsmTest::rawModule() {
    if (m_dl == nullptr) m_dl = dlopen(modulePath().c_str(), RTLD_NOW | RTLD_LOCAL);
    if (m_dl == nullptr) return nullptr;
    auto get = reinterpret_cast<CK_C_GetFunctionList>(dlsym(m_dl, "C_GetFunctionList"));
    CK_FUNCTION_LIST* fn = nullptr;
    if (get == nullptr || get(&fn) != CKR_OK) return nullptr;
    return fn;
}

CK_SLOT_ID SoftHsmTest::rawSlot() {
    CK_FUNCTION_LIST* fn = rawModule();
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;
    if (fn == nullptr || fn->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK) return CK_INVALID_HANDLE;
    for (CK_ULONG i = 0; i < n; ++i) {
        CK_TOKEN_INFO info{};
        if (fn->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
        std::string label(reinterpret_cast<const char*>(info.label), sizeof info.label);
        if (label.rfind(m_site.label + " ", 0) == 0) return slots[i];
    }
    return CK_INVALID_HANDLE;
}

std::string SoftHsmTest::listObjectsWithTool() {
    std::ifstream pinFile(m_site.userPinFile);
    std::string pin;
    std::getline(pinFile, pin);
    int master = -1;
    pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    if (pid < 0) return "forkpty failed";
    if (pid == 0) {
        std::string mod = modulePath();
        execlp("pkcs11-tool", "pkcs11-tool", "--module", mod.c_str(), "--token-label", m_site.label.c_str(),
               "--login", "--list-objects", static_cast<char*>(nullptr));
        _exit(127);
    }
    std::string out;
    bool prompted = false, pinSent = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        if (prompted && !pinSent) {
            // Type the PIN only once the tool has switched echo off: that switch flushes
            // whatever was typed before it (TCSAFLUSH).
            termios t{};
            if (::tcgetattr(master, &t) == 0 && !(t.c_lflag & ECHO)) {
                std::string line = pin + "\n";
                if (::write(master, line.data(), line.size()) != static_cast<ssize_t>(line.size())) break;
                pinSent = true;
            }
        }
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, prompted && !pinSent ? 5 : 1000) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0) break;  // EIO once the child has closed the terminal
        out.append(buf, static_cast<std::size_t>(n));
        prompted = prompted || out.find("Please enter User PIN:") != std::string::npos;
    }
    if (std::chrono::steady_clock::now() >= deadline) ::kill(pid, SIGKILL);
    ::close(master);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) out += "\n<pkcs11-tool failed>";
    return out;
}

bool SoftHsmTest::makeTokenDirectoryReadOnly(std::string& why) {
    std::string dir;
    for (const auto& e : std::filesystem::directory_iterator(m_site.tokenDir)) {
        if (e.is_directory()) dir = e.path().string();
    }
    if (dir.empty()) {
        why = "no token directory under " + m_site.tokenDir;
        return false;
    }
    if (::geteuid() != 0) {
        // An ordinary user cannot create files in a directory without write permission.
        std::filesystem::permissions(dir, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
        m_lockedDir = dir;
        return true;
    }
    // root ignores permission bits; the immutable attribute binds root too (ext4, xfs, btrfs).
    std::string cmd = "chattr +i '" + dir + "' 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) {
        why = "chattr +i is not supported on " + dir;
        return false;
    }
    m_lockedDir = dir;
    return true;
}

}  // namespace tte::hsm::test
