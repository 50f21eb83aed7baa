// Bad input for every hosted parser, each with the exact message a person sees.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tte/protocol/block.h"
#include "tte/protocol/box.h"
#include "tte/protocol/enrollment_url.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/ids.h"
#include "tte/protocol/query.h"

namespace tte::protocol {
namespace {

template <class T>
std::string messageOf(const Result<T>& r) {
    return r ? std::string("(accepted)") : r.error().message;
}

struct Bad {
    const char* parser;
    std::string input;
    std::string message;
};

std::string run(const Bad& b) {
    const std::string_view p = b.parser;
    if (p == "url") return messageOf(parseEnrollmentUrl(b.input));
    if (p == "box") return messageOf(parseBoxUrl(b.input));
    if (p == "host") return messageOf(parseMsHostName(b.input, MsIdUse::operational));
    if (p == "urn") return messageOf(parseDevUrn(b.input));
    if (p == "query") return messageOf(parseQuery(b.input));
    if (p == "form") return messageOf(parseFormBody(b.input));
    if (p == "fingerprint") return messageOf(parseFingerprint(b.input));
    if (p == "pem") return messageOf(fingerprintFromPem(b.input));
    if (p == "otp") return messageOf(parseOtp(b.input));
    if (p == "devid") return messageOf(parseDevId(b.input));
    return "unknown parser";
}

const std::string kUrl = "https://tte-000001.net/.well-known/tte?";
const std::string kOk = "otp=123456789abcdef0,devid=abcdef01";
const std::string kBox = "https://tte-000001.net/.well-known/tte-box?";
const std::string kSecret = "secret=" + std::string(64, 'a');

const Bad kBadInputs[] = {
    // Enrollment URL (§2)
    {"url", "http://tte-000001.net/.well-known/tte?" + kOk, "enrollment URL: scheme must be https"},
    {"url", "tte-000001.net/.well-known/tte?" + kOk, "enrollment URL: scheme must be https"},
    {"url", "https://user@tte-000001.net/.well-known/tte?" + kOk, "enrollment URL: user info is not allowed"},
    {"url", "https://tte-000001.net:8443/.well-known/tte?" + kOk,
     "enrollment URL: port '8443' is not allowed (draft 2: the default port)"},
    {"url", "https://tte-000001.com/.well-known/tte?" + kOk,
     "enrollment URL: MotherShip host name: expected tte-<6 hex digits>.net, got 'tte-000001.com'"},
    {"url", "https://tte-00000g.net/.well-known/tte?" + kOk,
     "enrollment URL: MotherShip host name: expected tte-<6 hex digits>.net, got 'tte-00000g.net'"},
    {"url", "https://tte-000000.net/.well-known/tte?" + kOk, "enrollment URL: MS ID 0 is reserved for examples"},
    {"url", "https://tte-000001.net/.well-known/TTE?" + kOk,
     "enrollment URL: path must be /.well-known/tte, got '/.well-known/TTE'"},
    {"url", "https://tte-000001.net/.well-known/tte/?" + kOk,
     "enrollment URL: path must be /.well-known/tte, got '/.well-known/tte/'"},
    {"url", "https://tte-000001.net/.well-known/tte", "enrollment URL: missing query"},
    {"url", kUrl + kOk + "#x", "enrollment URL: a fragment is not allowed"},
    {"url", kUrl + kOk + std::string(200, 'x'), "enrollment URL: longer than 256 bytes"},
    {"url", kUrl + "otp=123456789abcdef0", "enrollment URL: missing parameter 'devid'"},
    {"url", kUrl + "devid=abcdef01", "enrollment URL: missing parameter 'otp'"},
    {"url", kUrl + "otp=,devid=abcdef01", "enrollment URL: empty parameter 'otp'"},
    {"url", kUrl + kOk + ",OTP=123456789abcdef0", "enrollment URL: duplicate parameter 'otp'"},
    {"url", kUrl + kOk + ",x=1", "enrollment URL: unknown parameter 'x'"},
    {"url", kUrl + "otp=123456789abcdef,devid=abcdef01", "enrollment URL: otp: expected 16 hex digits, got 15"},
    {"url", kUrl + "otp=123456789abcdef00,devid=abcdef01", "enrollment URL: otp: expected 16 hex digits, got 17"},
    {"url", kUrl + "otp=123456789abcdefg,devid=abcdef01",
     "enrollment URL: otp: 'g' at position 16 is not a hex digit"},
    {"url", kUrl + "otp=123456789abcdef0,devid=abcdef0", "enrollment URL: devid: expected 8 hex digits, got 7"},
    {"url", kUrl + "otp=123456789abcdef0,devid=+bcdef01", "enrollment URL: devid: '+' at position 1 is not a hex digit"},
    {"url", kUrl + "otp=123456789abcdef0,,devid=abcdef01", "enrollment URL: empty parameter at position 22"},
    {"url", kUrl + "otp=123456789abcdef0;devid=abcdef01", "enrollment URL: missing parameter 'devid'"},
    {"url", kUrl + "otp=123456789abcdef0,dev id=abcdef01",
     "enrollment URL: bad character in parameter name at position 25"},
    // Box URL (§3)
    {"box", kBox + kSecret + ",first=00000002,last=00000001", "box URL: first 00000002 is after last 00000001"},
    {"box", kBox + kSecret + ",first=00000000,last=00010000", "box URL: 65537 devices, at most 65536 in a box"},
    {"box", kBox + "secret=" + std::string(63, 'a') + ",first=00000000,last=00000001",
     "box URL: secret: expected 64 hex digits, got 63"},
    {"box", kBox + kSecret + ",last=00000001", "box URL: missing parameter 'first'"},
    {"box", kBox + kSecret + ",first=0000000,last=00000001", "box URL: first: expected 8 hex digits, got 7"},
    {"box", "https://tte-000001.net/.well-known/tte?" + kSecret + ",first=00000000,last=00000001",
     "box URL: path must be /.well-known/tte-box, got '/.well-known/tte'"},
    {"box", kBox + kSecret + ",first=00000000,last=00000001,otp=1", "box URL: unknown parameter 'otp'"},
    // Host name and MS ID (§1)
    {"host", "tte-1000000.net", "MotherShip host name: expected tte-<6 hex digits>.net, got 'tte-1000000.net'"},
    {"host", "tte-0000\n1.net", "MotherShip host name: expected tte-<6 hex digits>.net, got 'tte-0000\\x0a1.net'"},
    {"host", "tte--00001.net", "MotherShip host name: expected tte-<6 hex digits>.net, got 'tte--00001.net'"},
    // Dev URN (§1)
    {"urn", "urn:dev:mac:0024befffe804ff1", "Dev URN: expected prefix urn:dev:ops:"},
    {"urn", "urn:dev:ops:032473-S-abcdef01", "Dev URN: PEN must be decimal without a leading zero"},
    {"urn", "urn:dev:ops:99999999999-S-abcdef01", "Dev URN: PEN exceeds 32 bits"},
    {"urn", "urn:dev:ops:32473-S!-abcdef01", "Dev URN: product must be 1-32 of [A-Za-z0-9._]"},
    {"urn", "urn:dev:ops:32473-abcdef01", "Dev URN: missing '-' after the product"},
    {"urn", "urn:dev:ops:32473-S-abcdef0", "Dev URN: serial must be 8-16 hex digits"},
    {"urn", "urn:dev:ops:32473-S-abcdef0z", "Dev URN: serial must be 8-16 hex digits"},
    {"urn", "urn:dev:ops:1-" + std::string(120, 'a') + "-abcdef01", "Dev URN: longer than 127 bytes"},
    // Query strings and form bodies
    {"query", "a=1,b", "parameter 'b' has no '='"},
    {"query", "=1", "empty parameter name at position 1"},
    {"query", "a=%4", "bad percent-escape at position 3"},
    {"query", "a=%zz", "bad percent-escape at position 3"},
    {"query", "a=1&", "empty parameter at position 5"},
    {"query", "a b=1", "bad character in parameter name at position 2"},
    {"query", std::string(4097, 'a'), "query longer than 4096 bytes"},
    {"form", "cip=1&CIP=2", "duplicate parameter 'cip'"},
    {"form", "a=1,b=2&a=3", "duplicate parameter 'a'"},
    // Fingerprints
    {"fingerprint", std::string(63, 'a'), "fingerprint: expected 64 hex digits, got 63"},
    {"fingerprint", std::string(63, 'a') + "x", "fingerprint: 'x' at position 64 is not a hex digit"},
    {"pem", "no pem here", "fingerprint: no PEM object found"},
    {"pem", "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n", "fingerprint: PEM type 'X509 CRL' is not supported"},
    {"pem", "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
     "fingerprint: not a DER certificate, public key or private key"},
    {"pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
     "fingerprint: encrypted private keys are not supported"},
    // OTP and Dev ID on their own
    {"otp", "", "otp: expected 16 hex digits, got 0"},
    {"devid", "abcdef0x", "devid: 'x' at position 8 is not a hex digit"},
};

TEST(BadInput, EachIsRejectedWithItsExactMessage) {
    for (const Bad& b : kBadInputs) EXPECT_EQ(run(b), b.message) << b.parser << ": " << b.input;
}

TEST(BadInput, AreDistinct) {
    std::set<std::pair<std::string, std::string>> seen;
    for (const Bad& b : kBadInputs) EXPECT_TRUE(seen.emplace(b.parser, b.input).second) << b.input;
    EXPECT_GE(seen.size(), 40U);
}

}  // namespace
}  // namespace tte::protocol
