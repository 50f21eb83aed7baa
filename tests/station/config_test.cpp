// station.toml parsing: a good file, the shipped example, and the exact message
// (`FILE:LINE: table.key: reason`) for each kind of bad input: a missing, unknown, mistyped or
// out-of-range key.
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
    EXPECT_EQ(c->lot.dtls, LotDtls::cert);
}

TEST(Config, ParsesADtlsPskLot) {
    auto c = parseConfig(configText("dtls = \"psk\""), "/site");
    ASSERT_TRUE(c) << c.error().toString();
    EXPECT_EQ(c->lot.dtls, LotDtls::psk);
    EXPECT_EQ(lotDtlsName(c->lot.dtls), "psk");
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
    EXPECT_EQ(missing.error().message, "station.toml:8: mothership.key: required key is missing");
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
    ::testing::Values(
        Bad{"id = \"st1\"", "", "station.toml:1: station.id: required key is missing"},
        Bad{"id = \"st1\"", "id = \"St 1\"", "station.toml:2: station.id: must be lower-case letters, digits, '-' or '_'"},
        Bad{"slots = 4", "slots = 0", "station.toml:4: station.slots: must be 1 to 64, not 0"},
        Bad{"slots = 4", "slot = 2", "station.toml:4: station.slot: unknown key (did you mean 'slots'?)"},
        Bad{"slots = 4", "slots = \"4\"", "station.toml:4: station.slots: expected an integer, found a string"},
        Bad{"[hsm]", "[hsm]\nqueue-key = \"q\"", "station.toml:6: hsm.queue-key: unknown key (did you mean 'queue_key'?)"},
        Bad{"firmware = \"fw.dfu\"", "firmware = \"fw.dfu\"\nfirmware_sha265 = \"00\"",
            "station.toml:18: lot.firmware_sha265: unknown key (did you mean 'firmware_sha256'?)"},
        Bad{"[mothership]", "[printr]\nhost = \"10.0.0.9\"\n[mothership]", "station.toml:8: printr: unknown table (did you mean 'printer'?)"},
        Bad{"[mothership]", "[mothership.tls]\n[mothership]", "station.toml:8: mothership.tls: unknown table"},
        Bad{"ms_id = 1", "ms_id = 0", "station.toml:18: lot.ms_id: must be 1 to 16777215, not 0"},
        Bad{"ms_id = 1", "ms_id = \"1\"", "station.toml:18: lot.ms_id: expected an integer, found a string"},
        Bad{"ms_id = 1", "ms_id = 1\nled_enrollment = \"yes\"",
            "station.toml:19: lot.led_enrollment: expected true or false, found a string"},
        Bad{"ms_id = 1", "ms_id = 1\ndtls = \"rpk\"",
            "station.toml:19: lot.dtls: must be \"cert\" (the default: a device key pair) or \"psk\" (DTLS-PSK), not 'rpk'"},
        Bad{"product = \"sensor\"", "product = \"sen sor\"", "station.toml:15: lot.product: must be 1-32 of [A-Za-z0-9._]"},
        Bad{"first_devid = \"00000100\"", "first_devid = \"00000300\"",
            "station.toml:21: lot.first_devid: is above lot.last_devid"},
        Bad{"first_devid = \"00000100\"", "first_devid = \"100\"", "station.toml:21: lot.first_devid: must be 8 hex digits, not '100'"},
        Bad{"0123456789abcdef\"", "0123456789abcdeg\"",
            "station.toml:20: lot.ms_fingerprint: must be 64 hex digits (a SHA-256 fingerprint)"},
        Bad{"https://127.0.0.1:8443", "http://127.0.0.1:8443", "station.toml:9: mothership.url: must be https://"},
        Bad{"[lot]", "[lot", "station.toml:13:5: syntax error: Error while parsing table header: expected ']', saw '\\n'"}));

TEST(Config, EveryProblemIsReportedInFileOrder) {
    std::string text = configText("box_size = -1");
    text.replace(text.find("slots = 4"), 9, "slot = 2");
    text.replace(text.find("pen = 32473"), 11, "pen = 32473.5");
    auto c = parseConfig(text, "/site", "/etc/tte/station.toml");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().message,
              "/etc/tte/station.toml:4: station.slot: unknown key (did you mean 'slots'?)\n"
              "/etc/tte/station.toml:16: lot.pen: expected an integer, found a number\n"
              "/etc/tte/station.toml:23: lot.box_size: must be 0 to 65536, not -1");
}

TEST(Config, MissingTablesAreNamed) {
    auto c = parseConfig("[station]\nid = \"st1\"\ndatabase = \"j.db\"\n", "/site");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().message,
              "station.toml: hsm: required table is missing\n"
              "station.toml: mothership: required table is missing\n"
              "station.toml: lot: required table is missing");
}

TEST(Config, MissingFileIsAnIoError) {
    auto c = loadConfig("/nonexistent/station.toml");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, Errc::io);
    EXPECT_EQ(c.error().message, "/nonexistent/station.toml: cannot read the file");
}

}  // namespace
}  // namespace tte::station
