// station.toml parsing: a good file, and the exact message for each kind of bad input.
#include <gtest/gtest.h>

#include "support/fakes/station_site.h"

namespace tte::station {
namespace {

using testing::configText;

TEST(Config, ParsesTheLotAndResolvesPaths) {
    auto c = parseConfig(configText("box_size = 10"), "/site");
    ASSERT_TRUE(c) << c.error().toString();
    EXPECT_EQ(c->stationId, "st1");
    EXPECT_EQ(c->database, "/site/journal.db");
    EXPECT_EQ(c->slots, 4);
    EXPECT_EQ(c->lot.firmware, "/site/fw.dfu");
    EXPECT_EQ(c->lot.firstDevId, 0x100u);
    EXPECT_EQ(c->lot.lastDevId, 0x1ffu);
    EXPECT_EQ(c->lot.boxSize, 10u);
    EXPECT_EQ(c->lot.msPort, 5684);
    EXPECT_FALSE(c->lot.controller);
}

TEST(Config, ParsesAPreEnrolledLot) {
    auto c = parseConfig(configText("", std::string("[controller]\naddress = \"10.0.0.2\"\nport = 5685\nfingerprint = \"") +
                                            testing::kMsFingerprint + "\"\nurl = \"https://10.0.0.2:9443\"\n"),
                         "/site");
    ASSERT_TRUE(c) << c.error().toString();
    ASSERT_TRUE(c->lot.controller);
    EXPECT_EQ(c->lot.controller->port, 5685);
}

TEST(Config, TheIdentityKeyInTheTokenNeedsNoKeyFile) {
    std::string text = configText();
    text.replace(text.find("key = \"station.key\"\n"), 20, "");
    auto missing = parseConfig(text, "/site");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "config: missing mothership.key");
    text.replace(text.find("pin_file = \"user-pin\"\n"), 21, "pin_file = \"user-pin\"\nstation_key = \"station-key\"\n");
    auto c = parseConfig(text, "/site");
    ASSERT_TRUE(c) << c.error().toString();
    EXPECT_EQ(c->identityKey, "station-key");
    EXPECT_EQ(c->stationKey, "");
}

TEST(Config, TheShippedExampleParses) {
    auto c = loadConfig(TTE_SOURCE_DIR "/config/station.toml");
    ASSERT_TRUE(c) << c.error().toString();
    EXPECT_EQ(c->identityKey, "station-key");
    EXPECT_EQ(c->lot.id, "lot-2026-11-a");
}

struct Bad {
    std::string from, to, message;
};

class ConfigBad : public ::testing::TestWithParam<Bad> {};

TEST_P(ConfigBad, NamesTheProblem) {
    std::string text = configText();
    const auto pos = text.find(GetParam().from);
    ASSERT_NE(pos, std::string::npos);
    text.replace(pos, GetParam().from.size(), GetParam().to);
    auto c = parseConfig(text, "/site");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, Errc::invalidArgument);
    EXPECT_EQ(c.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    All, ConfigBad,
    ::testing::Values(Bad{"id = \"st1\"", "", "config: missing station.id"},
                      Bad{"id = \"st1\"", "id = \"St 1\"", "config: station.id must be lower-case letters, digits, '-' or '_'"},
                      Bad{"slots = 4", "slots = 0", "config: station.slots must be in 1..64"},
                      Bad{"ms_id = 1", "ms_id = 0", "config: lot.ms_id must be in 1..16777215"},
                      Bad{"ms_id = 1", "ms_id = \"1\"", "config: lot.ms_id must be an integer"},
                      Bad{"product = \"sensor\"", "product = \"sen sor\"", "config: lot.product must be 1-32 of [A-Za-z0-9._]"},
                      Bad{"first_devid = \"00000100\"", "first_devid = \"00000300\"",
                          "config: lot.first_devid is above lot.last_devid"},
                      Bad{"first_devid = \"00000100\"", "first_devid = \"100\"",
                          "config: lot.first_devid: expected 8 hex digits, got 3"},
                      Bad{"0123456789abcdef\"", "0123456789abcdeg\"",
                          "config: lot.ms_fingerprint: 'g' at position 64 is not a hex digit"},
                      Bad{"https://127.0.0.1:8443", "http://127.0.0.1:8443", "config: mothership.url must be https://"},
                      Bad{"[lot]", "[lot", "config: line 13: Error while parsing table header: expected ']', saw '\\n'"}));

TEST(Config, MissingFileIsAnIoError) {
    auto c = loadConfig("/nonexistent/station.toml");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, Errc::io);
    EXPECT_EQ(c.error().message, "config: cannot read /nonexistent/station.toml");
}

}  // namespace
}  // namespace tte::station
