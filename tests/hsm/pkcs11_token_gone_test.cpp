// A real token that goes away and comes back while several threads use the store, as the
// station's seats do: the test's SoftHSM token behind `p11-kit server`, reached through
// p11-kit's client module, whose connection dies with the server. The store initializes the
// module anew to find the token again; that must wait for every call in flight, since
// C_Finalize frees what they use (p11-kit's client then aborts on a freed socket).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "softhsm_fixture.h"
#include "support/token_server.h"

namespace tte::hsm::test {
namespace {

using Pkcs11TokenGoneTest = SoftHsmTest;

/// Sets an environment variable for the test's lifetime (the client module reads it).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : m_name(name) { ::setenv(name, value.c_str(), 1); }
    ~ScopedEnv() { ::unsetenv(m_name); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* m_name;
};

TEST_F(Pkcs11TokenGoneTest, ThreadsUsingTheStoreOutliveTheTokenGoingAndComingBack) {
    ASSERT_TRUE(std::filesystem::exists(tte::test::kP11KitClient) && std::filesystem::exists("/usr/bin/p11-kit"))
        << "needs the Debian packages p11-kit and p11-kit-modules (scripts/setup installs them)";
    // p11-kit's client writes to the dead server's socket: a program using the store ignores
    // SIGPIPE, as tte-provision and tte-station do (docs/STATION.md), or the write ends it.
    std::signal(SIGPIPE, SIG_IGN);
    tte::test::TokenServer server(m_tmp + "/p11-kit.sock", m_tmp, m_site.confPath, "pkcs11:token=tte-test");
    ASSERT_EQ(server.start(), "");
    const ScopedEnv env("P11_KIT_SERVER_ADDRESS", server.address());
    // p11-kit's client loses a connection object when its server dies in the middle of a
    // connect (tests/lsan.supp); kept mapped to the end, LeakSanitizer can name it.
    ASSERT_NE(::dlopen(tte::test::kP11KitClient, RTLD_NOW | RTLD_NODELETE), nullptr) << ::dlerror();
    auto store = Pkcs11KeyStore::open(m_site.storeOptions(tte::test::kP11KitClient));
    ASSERT_TRUE(store) << store.error().toString();

    // Four threads draw random bytes without pause, as seats do between boards.
    std::atomic<bool> stop{false};
    std::atomic<int> drawn{0}, refused{0};
    std::mutex firstErrorMutex;
    std::string firstError;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            while (!stop) {
                if (auto r = (*store)->random(16)) {
                    EXPECT_EQ(r->size(), 16u);
                    ++drawn;
                } else {
                    ++refused;
                    std::lock_guard lock(firstErrorMutex);
                    if (firstError.empty()) firstError = r.error().toString();
                }
            }
        });
    }
    const auto reach = [](const std::atomic<int>& counter, int target) {
        return tte::test::waitFor([&] { return counter >= target; }, std::chrono::seconds(60));
    };
    EXPECT_TRUE(reach(drawn, 200));
    // The token goes away: every call fails, and each thread's next session asks for the
    // module to be initialized anew while the others are in calls.
    server.stop();
    EXPECT_TRUE(reach(refused, 2000)) << refused << " refusals";
    const int drawnBefore = drawn;
    ASSERT_EQ(server.start(), "");
    EXPECT_TRUE(reach(drawn, drawnBefore + 200)) << "the store did not find the token again: " << firstError;
    stop = true;
    for (auto& t : threads) t.join();
    // The refusal names the way to the token, with the module's own code.
    EXPECT_NE(firstError.find("CKR_"), std::string::npos) << firstError;
}

}  // namespace
}  // namespace tte::hsm::test
