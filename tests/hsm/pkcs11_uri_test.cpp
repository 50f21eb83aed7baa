// RFC 7512 URI parsing and PIN sources.
#include "tte/hsm/pkcs11_uri.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"

namespace tte::hsm {
namespace {

TEST(Pkcs11Uri, ParsesPathAndQueryWithPercentDecoding) {
    auto uri = parsePkcs11Uri(
        "pkcs11:token=tte%20station;object=station-key;id=%01%02;type=private;manufacturer=SoftHSM%20project"
        "?pin-source=file:%2Ftmp%2Fpin&module-path=/usr/lib/x.so");
    ASSERT_TRUE(uri) << uri.error().toString();
    EXPECT_EQ(uri->token, "tte station");
    EXPECT_EQ(uri->object, "station-key");
    EXPECT_EQ(uri->id, (Bytes{1, 2}));
    EXPECT_EQ(uri->type, "private");
    EXPECT_EQ(uri->manufacturer, "SoftHSM project");
    EXPECT_EQ(uri->pinSource, "file:/tmp/pin");
    EXPECT_EQ(uri->modulePath, "/usr/lib/x.so");
    EXPECT_FALSE(uri->pinValue.has_value());
}

TEST(Pkcs11Uri, AcceptsSchemeInAnyCaseAndIgnoresVendorAttributes) {
    auto uri = parsePkcs11Uri("PKCS11:token=a;x-vendor=1?x-other=2");
    ASSERT_TRUE(uri) << uri.error().toString();
    EXPECT_EQ(uri->token, "a");
}

TEST(Pkcs11Uri, RejectsBadInputWithPreciseMessages) {
    struct Case {
        const char* uri;
        const char* message;
    } cases[] = {
        {"pkcs12:token=a", "PKCS#11 URI must start with 'pkcs11:'"},
        {"pkcs11:token", "PKCS#11 URI: 'token' is not name=value"},
        {"pkcs11:token=a;token=b", "PKCS#11 URI: attribute 'token' given twice"},
        {"pkcs11:object=a%2", "PKCS#11 URI attribute 'object': bad percent-escape at position 2"},
        {"pkcs11:object=a%zz", "PKCS#11 URI attribute 'object': bad percent-escape at position 2"},
        {"pkcs11:slot-id=3", "PKCS#11 URI: 'slot-id' is not accepted; choose the token by its label (token=...)"},
        {"pkcs11:colour=red", "PKCS#11 URI: unknown attribute 'colour'"},
        {"pkcs11:type=key", "PKCS#11 URI: type 'key' is not one of private, public, secret-key, cert, data"},
        {"pkcs11:token=a?pin=1", "PKCS#11 URI: unknown query attribute 'pin'"},
    };
    for (const auto& c : cases) {
        auto uri = parsePkcs11Uri(c.uri);
        ASSERT_FALSE(uri) << c.uri;
        EXPECT_EQ(uri.error().code, Errc::invalidArgument) << c.uri;
        EXPECT_EQ(uri.error().message, c.message) << c.uri;
    }
}

class PinFile : public ::testing::Test {
protected:
    std::string write(const std::string& name, const std::string& content) {
        std::string path = m_dir + "/" + name;
        std::ofstream(path) << content;
        return path;
    }
    tte::test::TempDir m_tmp{"pin"};
    std::string m_dir = m_tmp.path().string();
};

TEST_F(PinFile, ReadsFileAndStripsTheLineEnd) {
    auto path = write("pin", "123456\n");
    for (const auto& source : {"file:" + path, path, "file://" + path}) {
        auto pin = readPin(source);
        ASSERT_TRUE(pin) << pin.error().toString();
        EXPECT_EQ(pin->view(), "123456");
    }
}

TEST_F(PinFile, ReportsMissingEmptyAndMalformedSources) {
    auto missing = readPin("file:" + m_dir + "/none");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::notFound);
    EXPECT_EQ(missing.error().message, "PIN file " + m_dir + "/none cannot be opened");

    auto empty = readPin(write("empty", "\n"));
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().message, "PIN file " + m_dir + "/empty is empty");

    auto relative = readPin("pin.txt");
    ASSERT_FALSE(relative);
    EXPECT_EQ(relative.error().message, "PIN source 'pin.txt' is neither file:/absolute/path nor env:NAME");

    auto none = readPin("");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, Errc::invalidArgument);
}

TEST(PinSource, ReadsEnvironmentVariable) {
    ::setenv("TTE_TEST_PIN_VAR", "98765", 1);
    auto pin = readPin("env:TTE_TEST_PIN_VAR");
    ASSERT_TRUE(pin) << pin.error().toString();
    EXPECT_EQ(pin->view(), "98765");
    ::unsetenv("TTE_TEST_PIN_VAR");
    auto gone = readPin("env:TTE_TEST_PIN_VAR");
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().message, "PIN variable TTE_TEST_PIN_VAR is not set");
}

TEST(PinSource, PinValueInTheUriWarnsAndWins) {
    auto uri = parsePkcs11Uri("pkcs11:token=a?pin-value=42%2A&pin-source=file:/nonexistent");
    ASSERT_TRUE(uri);
    std::string warning;
    auto pin = resolvePin(*uri, "", [&](std::string_view w) { warning = w; });
    ASSERT_TRUE(pin) << pin.error().toString();
    EXPECT_EQ(pin->view(), "42*");
    EXPECT_EQ(warning, "the token URI carries pin-value; use pin-source outside tests");
}

TEST(PinSource, FallsBackToTheConfiguredSource) {
    ::setenv("TTE_TEST_PIN_FALLBACK", "1111", 1);
    auto uri = parsePkcs11Uri("pkcs11:token=a");
    ASSERT_TRUE(uri);
    auto pin = resolvePin(*uri, "env:TTE_TEST_PIN_FALLBACK", {});
    ASSERT_TRUE(pin);
    EXPECT_EQ(pin->view(), "1111");
    ::unsetenv("TTE_TEST_PIN_FALLBACK");
}

}  // namespace
}  // namespace tte::hsm
