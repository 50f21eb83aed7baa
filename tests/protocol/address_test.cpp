// ADDR:PORT text (tte/protocol/address.h): the one parser every program uses.
#include "tte/protocol/address.h"

#include <gtest/gtest.h>

namespace tte::protocol {
namespace {

TEST(HostPort, ParsesV4V6AndNames) {
    EXPECT_EQ(*parseHostPort("127.0.0.1:5685", "x"), (HostPort{"127.0.0.1", 5685}));
    EXPECT_EQ(*parseHostPort("[::1]:5685", "x"), (HostPort{"::1", 5685}));
    EXPECT_EQ(*parseHostPort("tte-000001.net:443", "x"), (HostPort{"tte-000001.net", 443}));
    EXPECT_EQ(*parseHostPort("127.0.0.1:0", "x", PortZero::allowed), (HostPort{"127.0.0.1", 0}));
    EXPECT_EQ(formatHostPort("::1", 5684), "[::1]:5684");
    EXPECT_EQ(formatHostPort("127.0.0.1", 5684), "127.0.0.1:5684");
    EXPECT_EQ(*parseHostPort(formatHostPort("2001:db8::7", 1), "x"), (HostPort{"2001:db8::7", 1}));
}

TEST(HostPort, NamesEachProblem) {
    const auto message = [](std::string_view text, PortZero zero = PortZero::refused) {
        auto r = parseHostPort(text, "--listen", zero);
        return r ? std::string("(accepted)") : r.error().message;
    };
    EXPECT_EQ(message("nowhere"), "--listen must be ADDR:PORT or [IPv6]:PORT, got 'nowhere'");
    EXPECT_EQ(message("::1:80"), "--listen must be ADDR:PORT or [IPv6]:PORT, got '::1:80'");
    EXPECT_EQ(message("[::1]80"), "--listen must be ADDR:PORT or [IPv6]:PORT, got '[::1]80'");
    EXPECT_EQ(message(":80"), "--listen must be ADDR:PORT or [IPv6]:PORT, got ':80'");
    EXPECT_EQ(message("[]:80"), "--listen must be ADDR:PORT or [IPv6]:PORT, got '[]:80'");
    EXPECT_EQ(message("127.0.0.1:0"), "--listen: port must be 1 to 65535, got '0'");
    EXPECT_EQ(message("127.0.0.1:65536", PortZero::allowed), "--listen: port must be 0 to 65535, got '65536'");
    EXPECT_EQ(message("127.0.0.1:"), "--listen: port must be 1 to 65535, got ''");
    EXPECT_EQ(message("127.0.0.1:+80"), "--listen: port must be 1 to 65535, got '+80'");
    EXPECT_EQ(message("[[/]:80"), "--listen must be ADDR:PORT or [IPv6]:PORT, got '[[/]:80'");
    EXPECT_EQ(message("[host]:80"), "--listen must be ADDR:PORT or [IPv6]:PORT, got '[host]:80'");
    EXPECT_EQ(message("ho st:80"), "--listen must be ADDR:PORT or [IPv6]:PORT, got 'ho st:80'");
    EXPECT_EQ(message("a]:80"), "--listen must be ADDR:PORT or [IPv6]:PORT, got 'a]:80'");
    EXPECT_EQ(message("127.0.0.1:080"), "(accepted)");
    EXPECT_EQ(message("[::ffff:192.0.2.1]:80"), "(accepted)");
}

}  // namespace
}  // namespace tte::protocol
