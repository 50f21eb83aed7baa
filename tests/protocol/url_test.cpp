// Enrollment URL, box URL and query strings: good inputs and the draft's own examples (§2, §3).
#include <gtest/gtest.h>

#include "tte/protocol/box.h"
#include "tte/protocol/enrollment_url.h"
#include "tte/protocol/query.h"

namespace tte::protocol {
namespace {

TEST(EnrollmentUrl, BuildsExactlyAsTheDocumentShows) {
    const EnrollmentUrl url{MsId{1}, Otp(0x123456789abcdef0ULL), DevId{0xabcdef01}};
    EXPECT_EQ(buildEnrollmentUrl(url), "https://tte-000001.net/.well-known/tte?otp=123456789abcdef0,devid=abcdef01");
}

TEST(EnrollmentUrl, ParsesTheDraftsExampleOnlyAsAnExample) {
    const std::string draft = "https://tte-000000.net/.well-known/tte?otp=123456789abcdef0,DevID=abcdef01";
    auto url = parseEnrollmentUrl(draft, MsIdUse::example);
    ASSERT_TRUE(url) << url.error().message;
    EXPECT_EQ(url->ms.value, 0U);
    EXPECT_EQ(url->otp.value(), 0x123456789abcdef0ULL);
    EXPECT_EQ(url->devId.value, 0xabcdef01U);
    EXPECT_EQ(parseEnrollmentUrl(draft).error().message, "enrollment URL: MS ID 0 is reserved for examples");
}

TEST(EnrollmentUrl, AcceptsAmpersandPort443AndAnyCase) {
    for (const char* text : {"https://tte-00000A.net/.well-known/tte?devid=ABCDEF01&OTP=123456789ABCDEF0",
                             "HTTPS://TTE-00000a.NET:443/.well-known/tte?otp=123456789abcdef0&devid=abcdef01"}) {
        auto url = parseEnrollmentUrl(text);
        ASSERT_TRUE(url) << text << ": " << url.error().message;
        EXPECT_EQ(url->ms.value, 10U);
        EXPECT_EQ(url->devId.value, 0xabcdef01U);
        EXPECT_EQ(url->otp.value(), 0x123456789abcdef0ULL);
    }
}

TEST(EnrollmentUrl, RoundTripsAcrossValues) {
    for (std::uint32_t ms : {1U, 0xABCU, 0xFFFFFFU}) {
        for (std::uint64_t otp : {0ULL, 1ULL, 0xFFFFFFFFFFFFFFFFULL}) {
            const EnrollmentUrl in{MsId{ms}, Otp(otp), DevId{ms * 7}};
            auto out = parseEnrollmentUrl(buildEnrollmentUrl(in));
            ASSERT_TRUE(out);
            EXPECT_EQ(out->ms, in.ms);
            EXPECT_EQ(out->otp, in.otp);
            EXPECT_EQ(out->devId, in.devId);
        }
    }
}

TEST(EnrollmentUrl, CredentialsFromAPostQueryWithControllerParameters) {
    auto q = parseQuery("otp=123456789abcdef0,devid=abcdef01,cip=192.0.2.1,cport=5684,cfingerprint=00");
    ASSERT_TRUE(q);
    auto creds = credentialsFromQuery(*q, {"cip", "cport", "cfingerprint", "description"});
    ASSERT_TRUE(creds) << creds.error().message;
    EXPECT_EQ(creds->devId.value, 0xabcdef01U);
    EXPECT_EQ(credentialsFromQuery(*q).error().message, "unknown parameter 'cip'");
}

TEST(Query, KeepsOrderLowerCasesNamesAndDecodesValues) {
    auto q = parseQuery("A=1,Description=Hall%20light%2C%202nd+floor&x_y-z.w=");
    ASSERT_TRUE(q) << q.error().message;
    ASSERT_EQ(q->size(), 3U);
    EXPECT_EQ(q->entries()[0].first, "a");
    EXPECT_EQ(*q->find("description"), "Hall light, 2nd+floor");
    EXPECT_EQ(*q->find("x_y-z.w"), "");
    EXPECT_EQ(q->find("missing"), nullptr);
    EXPECT_TRUE(parseQuery("")->empty());
}

TEST(Query, FormBodyDecodesPlusAndKeepsCommas) {
    auto q = parseFormBody("cip=192.0.2.1&description=a,b+c%21");
    ASSERT_TRUE(q) << q.error().message;
    EXPECT_EQ(*q->find("description"), "a,b c!");
}

TEST(Query, PercentEncodeRoundTrips) {
    const std::string text = "Hall light, 2nd floor/100% \xC3\xA9";
    EXPECT_EQ(percentEncode("a b,c"), "a%20b%2Cc");
    EXPECT_EQ(*parseQuery("d=" + percentEncode(text))->find("d"), text);
}

TEST(BoxUrl, BuildsAndParsesBack) {
    std::vector<std::uint8_t> bytes(32);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i);
    const BoxUrl box{MsId{1}, Secret(std::span<const std::uint8_t>(bytes)), DevId{0x100}, DevId{0x1ff}};
    auto text = buildBoxUrl(box);
    ASSERT_TRUE(text);
    EXPECT_EQ(*text,
              "https://tte-000001.net/.well-known/tte-box?secret="
              "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f,first=00000100,last=000001ff");
    auto back = parseBoxUrl(*text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->ms.value, 1U);
    EXPECT_TRUE(std::equal(back->secret.bytes().begin(), back->secret.bytes().end(), bytes.begin()));
    EXPECT_EQ(back->first.value, 0x100U);
    EXPECT_EQ(back->last.value, 0x1ffU);
}

TEST(BoxUrl, AcceptsExactly65536Devices) {
    const std::string secret(64, 'a');
    EXPECT_TRUE(parseBoxUrl("https://tte-000001.net/.well-known/tte-box?secret=" + secret +
                            "&first=00010000&last=0001ffff"));
}

}  // namespace
}  // namespace tte::protocol
