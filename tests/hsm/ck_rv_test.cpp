// The CK_RV name table is complete: every CKR_ of the PKCS#11 v2.40 header has its name.
#include "tte/hsm/ck_rv.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tte::hsm {
namespace {

TEST(CkRv, NamesEveryReturnValueOfTheHeader) {
    std::ifstream header("/usr/include/p11-kit-1/p11-kit/pkcs11.h");
    ASSERT_TRUE(header) << "the PKCS#11 header of libp11-kit-dev is missing";
    int count = 0;
    std::string line;
    while (std::getline(header, line)) {
        // e.g. "#define CKR_PIN_INCORRECT			(0xa0UL)"
        std::istringstream in(line);
        std::string define, name, value;
        if (!(in >> define >> name >> value) || define != "#define" || !name.starts_with("CKR_")) continue;
        if (name == "CKR_VENDOR_DEFINED" || !value.starts_with("(") || !value.ends_with("UL)")) continue;
        unsigned long rv = std::stoul(value.substr(1, value.size() - 4), nullptr, 0);
        EXPECT_EQ(ckrName(rv), name);
        EXPECT_FALSE(ckrSentence(rv).starts_with("the module failed with a code")) << name;
        ++count;
    }
    EXPECT_GE(count, 90);
}

TEST(CkRv, ErrorKeepsNativeCodeNameAndSentence) {
    Error e = ckrError(0xa0, "logging in to token 'x'");
    EXPECT_EQ(e.code, Errc::unauthenticated);
    EXPECT_EQ(e.domain, "PKCS#11");
    EXPECT_EQ(e.nativeCode, 0xa0);
    EXPECT_EQ(e.nativeName, "CKR_PIN_INCORRECT");
    EXPECT_EQ(e.toString(),
              "logging in to token 'x': the PIN is wrong; check the PIN file (too many wrong PINs lock the token) "
              "(PKCS#11 CKR_PIN_INCORRECT)");
}

TEST(CkRv, VendorAndUnknownCodesAreNamedInHex) {
    EXPECT_EQ(ckrName(0x80000001UL), "CKR_VENDOR_DEFINED+0x1");
    EXPECT_EQ(ckrName(0x4), "CKR_0x4");
    EXPECT_EQ(ckrErrc(0x4), Errc::internal);
}

}  // namespace
}  // namespace tte::hsm
