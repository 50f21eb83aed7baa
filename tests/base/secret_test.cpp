#include "tte/base/secret.h"

#include <gtest/gtest.h>

#include <sstream>

namespace tte {
namespace {

TEST(Secret, PrintsAsStars) {
    Secret s(std::string_view("1234"));
    std::ostringstream os;
    os << s;
    EXPECT_EQ(os.str(), "***");
    EXPECT_EQ(s.view(), "1234");
}

TEST(Secret, MoveLeavesSourceEmpty) {
    Secret a(std::string_view("key"));
    Secret b = std::move(a);
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
    EXPECT_EQ(b.view(), "key");
    Secret c = b.clone();
    b.clear();
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(c.view(), "key");
}

TEST(Secret, ConstantTimeEqual) {
    std::vector<std::uint8_t> a{1, 2, 3}, b{1, 2, 3}, c{1, 2, 4}, d{1, 2};
    EXPECT_TRUE(constantTimeEqual(a, b));
    EXPECT_FALSE(constantTimeEqual(a, c));
    EXPECT_FALSE(constantTimeEqual(a, d));
}

}  // namespace
}  // namespace tte
