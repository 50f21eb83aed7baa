// The Controller's identity across an interrupted first start: a key left without its
// certificate (a kill between the two writes) keeps the fingerprint it already has.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tte/controller/identity.h"

namespace tte::controller {
namespace {

namespace fs = std::filesystem;

class IdentityDir : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "tte-identity-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir = tmpl;
    }
    void TearDown() override { fs::remove_all(dir); }
    fs::path dir;
};

TEST_F(IdentityDir, AKeyWithoutItsCertificateGetsOneAndKeepsItsFingerprint) {
    auto first = loadOrCreateIdentity(dir);
    ASSERT_TRUE(first) << first.error().toString();
    fs::remove(dir / "identity.crt");  // what a kill between the two writes leaves
    auto again = loadOrCreateIdentity(dir);
    ASSERT_TRUE(again) << again.error().toString();
    EXPECT_EQ(again->fingerprint, first->fingerprint);
    EXPECT_TRUE(fs::exists(dir / "identity.crt"));
    EXPECT_EQ(loadOrCreateIdentity(dir)->fingerprint, first->fingerprint);
}

TEST_F(IdentityDir, ACertificateWithoutItsKeyIsRefused) {
    ASSERT_TRUE(loadOrCreateIdentity(dir));
    fs::remove(dir / "identity.key");  // never left by a kill: the key is written first
    auto again = loadOrCreateIdentity(dir);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::io);
    EXPECT_EQ(again.error().message, "cannot read " + (dir / "identity.key").string());
}

TEST_F(IdentityDir, AKeyThatIsNoKeyIsCorrupt) {
    std::ofstream(dir / "identity.key") << "not a key\n";
    auto r = loadOrCreateIdentity(dir);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::corrupt);
    EXPECT_EQ(r.error().message, (dir / "identity.key").string() + " is not a PEM private key");
}

}  // namespace
}  // namespace tte::controller
