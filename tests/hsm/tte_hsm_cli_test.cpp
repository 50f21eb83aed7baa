// tte-hsm end to end: init a SoftHSM token in a temp dir, make keys, list, export, and the
// one-line errors for bad input.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/process.h"
#include "support/temp_dir.h"

namespace {

struct ToolRun {
    int exitCode = -1;
    std::string out;  // stdout and stderr
};

class TteHsmCli : public ::testing::Test {
protected:
    void SetUp() override {
        const char* bin = std::getenv("TTE_BIN");
        ASSERT_NE(bin, nullptr) << "TTE_BIN is not set (run through ctest)";
        m_tool = std::string(bin) + "/tte-hsm";
        ::unsetenv("SOFTHSM2_CONF");
    }
    ToolRun run(const std::string& args) {
        const auto r = tte::test::runShell("'" + m_tool + "' " + args);
        return {r.exitCode, r.output};
    }

    tte::test::TempDir m_tmpDir{"hsm-cli"};
    std::string m_tmp = m_tmpDir.path().string();
    std::string m_tool;
};

TEST_F(TteHsmCli, InitKeygenListExport) {
    std::string site = m_tmp + "/site";
    auto init = run("init " + site + " --label cli-token");
    ASSERT_EQ(init.exitCode, 0) << init.out;
    struct stat st{};
    ASSERT_EQ(::stat((site + "/user-pin").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((site + "/so-pin").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    ::setenv("SOFTHSM2_CONF", (site + "/softhsm2.conf").c_str(), 1);
    std::string common = "--token pkcs11:token=cli-token --pin-file " + site + "/user-pin ";
    auto station = run(common + "keygen station");
    ASSERT_EQ(station.exitCode, 0) << station.out;
    EXPECT_TRUE(station.out.starts_with("signing key 'station-key' created; fingerprint ")) << station.out;
    auto lot = run(common + "keygen lot 2026-01");
    ASSERT_EQ(lot.exitCode, 0) << lot.out;
    EXPECT_EQ(lot.out, "HMAC key 'lot-2026-01' created\n");
    auto twice = run(common + "keygen lot 2026-01");
    EXPECT_EQ(twice.exitCode, 1);
    EXPECT_EQ(twice.out, "tte-hsm: a secret key labelled 'lot-2026-01' already exists on token 'cli-token'\n");

    auto list = run(common + "list");
    ASSERT_EQ(list.exitCode, 0) << list.out;
    EXPECT_NE(list.out.find("lot-2026-01                      hmac       yes       no          yes"),
              std::string::npos)
        << list.out;
    EXPECT_NE(list.out.find("station-key                      ec-private yes       no          yes"),
              std::string::npos)
        << list.out;

    std::string pem = m_tmp + "/station.pem";
    auto cert = run(common + "export-cert --cn station-01 --out " + pem);
    ASSERT_EQ(cert.exitCode, 0) << cert.out;
    FILE* f = std::fopen(pem.c_str(), "r");
    ASSERT_NE(f, nullptr);
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(X509_verify(x, X509_get0_pubkey(x)), 1);
    char cn[64] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
    EXPECT_STREQ(cn, "station-01");
    X509_free(x);
}

TEST_F(TteHsmCli, BadInputGivesOneLineAndNonZeroExit) {
    auto none = run("");
    EXPECT_EQ(none.exitCode, 2);
    auto unknown = run("frobnicate");
    EXPECT_EQ(unknown.exitCode, 2);
    EXPECT_TRUE(unknown.out.starts_with("tte-hsm: ")) << unknown.out;
    auto pinOnArgv = run("--pin 1234 list");
    EXPECT_EQ(pinOnArgv.exitCode, 2) << pinOnArgv.out;
    auto noPin = run("list");
    EXPECT_EQ(noPin.exitCode, 1);
    EXPECT_EQ(noPin.out,
              "tte-hsm: no PIN source: give pin-source=file:PATH in the token URI or a PIN file/variable\n");
    auto badModule = run("--module " + m_tmp + "/none.so --pin-env HOME list");
    EXPECT_EQ(badModule.exitCode, 1);
    EXPECT_TRUE(badModule.out.starts_with("tte-hsm: cannot load the PKCS#11 module " + m_tmp + "/none.so: "))
        << badModule.out;
    auto help = run("--help");
    EXPECT_EQ(help.exitCode, 0);
    EXPECT_NE(help.out.find("export-cert"), std::string::npos);
}

TEST_F(TteHsmCli, HsmInitScriptMakesTokenStationKeyAndLotKeys) {
    const char* src = std::getenv("TTE_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    std::string site = m_tmp + "/script-site";
    std::string cmd = "'" + std::string(src) + "/scripts/hsm-init' " + site +
                      " --label script-token --station-key --lot A --lot B 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[1024];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ASSERT_EQ(::pclose(p), 0) << out;
    EXPECT_NE(out.find("HMAC key 'lot-B' created"), std::string::npos) << out;
    ::setenv("SOFTHSM2_CONF", (site + "/softhsm2.conf").c_str(), 1);
    // The PIN source may also be given in the token URI itself.
    auto list = run("--token 'pkcs11:token=script-token?pin-source=file:" + site + "/user-pin' list");
    ASSERT_EQ(list.exitCode, 0) << list.out;
    for (const char* label : {"station-key", "lot-A", "lot-B"}) {
        EXPECT_NE(list.out.find(label), std::string::npos) << list.out;
    }
}

TEST_F(TteHsmCli, InitRefusesAnExistingSite) {
    ASSERT_EQ(run("init " + m_tmp + "/s").exitCode, 0);
    auto again = run("init " + m_tmp + "/s");
    EXPECT_EQ(again.exitCode, 1);
    EXPECT_EQ(again.out, "tte-hsm: " + m_tmp + "/s/softhsm2.conf exists already\n");
}

}  // namespace
