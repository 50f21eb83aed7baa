#include "tte/base/error.h"

#include <gtest/gtest.h>

namespace tte {
namespace {

TEST(Error, ToStringKeepsNativeName) {
    Error e{Errc::unauthenticated, "the PIN is wrong", "PKCS#11", 0xa0, "CKR_PIN_INCORRECT"};
    EXPECT_EQ(e.toString(), "the PIN is wrong (PKCS#11 CKR_PIN_INCORRECT)");
}

TEST(Error, ToStringWithNativeCodeOnly) {
    Error e{Errc::io, "write failed", "errno", 28, ""};
    EXPECT_EQ(e.toString(), "write failed (errno 28)");
}

TEST(Error, WithContextPrefixes) {
    Result<int> r = withContext(Error{Errc::timeout, "no answer", {}, 0, {}}, "slot 3");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "slot 3: no answer");
    EXPECT_EQ(r.error().code, Errc::timeout);
    EXPECT_EQ(errcName(r.error().code), "timeout");
}

}  // namespace
}  // namespace tte
