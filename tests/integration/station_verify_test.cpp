// QA verify of one unit with the real parts (issue 22): `tte-provision verify --devid D (--port P
// | --flash-image F) --label-image F [--report FILE]` against a real tte-mothership (station API
// over mutual TLS, the public status query, CoAP over DTLS with the device's own key through the
// device's host client), the station's journal in its SoftHSM token, simulated boards and the
// labels the station printed through a real cupsd. A good unit passes every line and its OTP is
// still unspent afterwards; a unit whose label, flash block or MotherShip record was altered
// fails with the exact line named; a read-protected board is refused with the way out.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "support/sites.h"
#include "support/station_site.h"
#include "tte/protocol/crypto.h"

namespace tte {
namespace {

using nlohmann::json;
using test::SimDevice;
using test::StationSite;

std::string queryOf(const SimDevice& d) { return d.enrollmentUrl.substr(d.enrollmentUrl.find('?') + 1); }

/// The MotherShip's state for a device, asked with its label's OTP (status query).
std::string msState(StationSite& site, const SimDevice& d) {
    auto r = test::https(site.mothership()->httpsPort(), site.caCert().string(),
                         {"GET", "/.well-known/tte/status?" + queryOf(d), "", "", "", "", ""});
    if (r.status != 200) return "http " + std::to_string(r.status) + " " + r.body + r.error;
    return json::parse(r.body)["state"].get<std::string>();
}

test::fs::path labelOf(StationSite& site, const SimDevice& d, const char* ext = ".png") {
    return site.labelsDir() / (d.devIdHex + ext);
}

/// A copy of `from` with the byte at `offset` inverted.
test::fs::path alteredCopy(StationSite& site, const test::fs::path& from, std::size_t offset, const std::string& name) {
    std::string bytes = test::readText(from);
    bytes.at(offset) = static_cast<char>(~bytes.at(offset));
    const auto to = site.path(name);
    std::ofstream(to, std::ios::binary) << bytes;
    return to;
}

/// The line of the table for `check` ("  PASS  label   …"), or "" when absent.
std::string lineOf(const std::string& out, const std::string& check) {
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (line.size() > 8 && line.substr(8, check.size() + 1) == check + " ") return line;
    }
    return "";
}

class StationVerify : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        // Each test has its own units, so no test changes what another sees: 0 good (read
        // only), 1 whose label and image are the "other device", 2 revoked, 3 enrolled, 4 locked,
        // 5 whose MotherShip record is edited.
        s_site = new StationSite({.devices = 6, .slots = 1});
        ASSERT_EQ(s_site->setUp(), "");
        auto run = s_site->provision({"run", "--count", "6"});
        ASSERT_EQ(run.code, 0) << run.out << run.err;
        s_devices = s_site->provisionedDevices();
        ASSERT_EQ(s_devices.size(), 6u);
        // The images as QA would have captured them before the boards were locked.
        for (const auto& d : s_devices) test::fs::copy_file(d.flash, s_site->path(d.devIdHex + ".image"));
    }
    static void TearDownTestSuite() {
        delete s_site;
        s_site = nullptr;
    }
    StationSite& site() { return *s_site; }
    const SimDevice& unit(int i) { return s_devices.at(static_cast<std::size_t>(i)); }
    test::RunResult verify(const SimDevice& d, std::vector<std::string> args) {
        std::vector<std::string> argv = {"verify", "--devid", d.devIdHex};
        argv.insert(argv.end(), args.begin(), args.end());
        return site().provision(argv);
    }

    static StationSite* s_site;
    static std::vector<SimDevice> s_devices;
};
StationSite* StationVerify::s_site = nullptr;
std::vector<SimDevice> StationVerify::s_devices;

TEST_F(StationVerify, AGoodUnitPassesEveryLineAndItsOtpStaysUnspent) {
    const SimDevice& a = unit(0);
    const auto report = site().path("a-report.html");
    auto r = verify(a, {"--port", a.port, "--label-image", labelOf(site(), a).string(), "--report", report.string()});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("verify Dev ID " + a.devIdHex + " (port " + a.port + ")"), std::string::npos) << r.out;
    for (const char* check : {"block", "ms-pin", "label", "records", "otp", "urn", "device-fp", "firmware", "signature",
                              "mcu_uid", "dtls"}) {
        EXPECT_TRUE(lineOf(r.out, check).starts_with("  PASS")) << check << "\n" << r.out;
    }
    EXPECT_NE(lineOf(r.out, "dtls").find("4.04 not mapped"), std::string::npos) << r.out;
    EXPECT_NE(lineOf(r.out, "mcu_uid").find("(read from the board)"), std::string::npos) << r.out;
    EXPECT_NE(lineOf(r.out, "otp").find("not-mapped (unspent)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("verify: PASS\n"), std::string::npos) << r.out;

    // The sheet: the table and the label image itself.
    const std::string html = test::readText(report);
    EXPECT_NE(html.find("<table id=\"checks\">"), std::string::npos);
    EXPECT_NE(html.find("<td>dtls</td><td class=\"pass\">PASS</td>"), std::string::npos) << html.substr(0, 3000);
    EXPECT_NE(html.find("<p class=\"pass\" id=\"verdict\">verify: PASS</p>"), std::string::npos);
    EXPECT_NE(html.find("<img id=\"label\" alt=\"label of Dev ID " + a.devIdHex + "\" src=\"data:image/png;base64,"),
              std::string::npos);
    // The embedded image is the label: extracted, it decodes to the unit's Enrollment URL.
    const auto start = html.find("base64,") + 7;
    auto png = protocol::base64Decode(html.substr(start, html.find('"', start) - start));
    ASSERT_TRUE(png);
    const auto extracted = site().path("extracted.png");
    std::ofstream(extracted, std::ios::binary).write(reinterpret_cast<const char*>(png->data()), static_cast<std::streamsize>(png->size()));
    EXPECT_EQ(test::zbar(extracted, site().path(".")), a.enrollmentUrl);

    // The PDF sheet: the same table as text, and the label on it decodes to the unit's URL.
    const auto pdf = site().path("a-report.pdf");
    auto asPdf = verify(a, {"--flash-image", site().path(a.devIdHex + ".image").string(), "--label-image",
                            labelOf(site(), a).string(), "--report", pdf.string()});
    EXPECT_EQ(asPdf.code, 0) << asPdf.out << asPdf.err;
    EXPECT_TRUE(test::readText(pdf).starts_with("%PDF"));
    auto pdfText = test::run({"/usr/bin/pdftotext", "-layout", pdf.string(), "-"}, site().path("."), "pdftotext");
    EXPECT_EQ(pdfText.code, 0) << pdfText.err;
    EXPECT_NE(pdfText.out.find("verify: PASS"), std::string::npos) << pdfText.out;
    EXPECT_NE(pdfText.out.find("4.04 not mapped"), std::string::npos) << pdfText.out;
    EXPECT_EQ(test::zbarPdf(pdf, site().path(".")), a.enrollmentUrl);

    // Nothing was spent: the status query still says not-mapped, and the same unit verifies
    // again from its captured image and from the label PDF the station printed.
    EXPECT_EQ(msState(site(), a), "not-mapped");
    auto image = verify(a, {"--flash-image", site().path(a.devIdHex + ".image").string(), "--label-image",
                            labelOf(site(), a, ".pdf").string()});
    EXPECT_EQ(image.code, 0) << image.out << image.err;
    EXPECT_NE(image.out.find("verify Dev ID " + a.devIdHex + " (image "), std::string::npos) << image.out;
    EXPECT_NE(lineOf(image.out, "mcu_uid").find("(journal and MotherShip)"), std::string::npos) << image.out;
    EXPECT_EQ(msState(site(), a), "not-mapped");
}

TEST_F(StationVerify, AnotherDevicesLabelIsTheLabelLine) {
    const SimDevice& a = unit(0);
    const SimDevice& b = unit(1);
    auto r = verify(a, {"--port", a.port, "--label-image", labelOf(site(), b).string()});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_EQ(lineOf(r.out, "label"), "  FAIL  label      the label is Dev ID " + b.devIdHex + "'s, not " + a.devIdHex +
                                          "'s (another device's label)")
        << r.out;
    EXPECT_NE(r.out.find("verify: FAIL (1 mismatch: label)\n"), std::string::npos) << r.out;
    EXPECT_EQ(msState(site(), a), "not-mapped");
}

TEST_F(StationVerify, AnAlteredOrForeignFlashImageIsTheBlockOrFirmwareLine) {
    const SimDevice& a = unit(0);
    const SimDevice& b = unit(1);
    const std::string label = labelOf(site(), a).string();
    // Another device's image.
    auto foreign = verify(a, {"--flash-image", site().path(b.devIdHex + ".image").string(), "--label-image", label});
    EXPECT_EQ(foreign.code, 1) << foreign.out << foreign.err;
    EXPECT_EQ(lineOf(foreign.out, "block"), "  FAIL  block      the flash holds the block of Dev ID " + b.devIdHex + ", not " +
                                                a.devIdHex + " (another device's image)")
        << foreign.out;
    EXPECT_TRUE(lineOf(foreign.out, "dtls").starts_with("  FAIL")) << foreign.out;

    // One byte of the block (inside the URN): its CRC no longer holds.
    const auto image = site().path(a.devIdHex + ".image");
    auto block = verify(a, {"--flash-image", alteredCopy(site(), image, 0x8000 + 0x60, "block-byte.image").string(),
                            "--label-image", label});
    EXPECT_EQ(block.code, 1) << block.out << block.err;
    EXPECT_EQ(lineOf(block.out, "block"), "  FAIL  block      the flash holds no valid provisioning block: crc") << block.out;

    // One byte of the firmware: the block is fine, the firmware line names the address.
    auto firmware = verify(a, {"--flash-image", alteredCopy(site(), image, 0x200, "firmware-byte.image").string(),
                               "--label-image", label});
    EXPECT_EQ(firmware.code, 1) << firmware.out << firmware.err;
    EXPECT_NE(lineOf(firmware.out, "firmware").find("the flash differs from the lot's firmware at 0x08000200"),
              std::string::npos)
        << firmware.out;
    EXPECT_NE(firmware.out.find("verify: FAIL (1 mismatch: firmware)\n"), std::string::npos) << firmware.out;
}

TEST_F(StationVerify, ARevokedRecordFailsTheRecordOtpAndDtlsLines) {
    const SimDevice& c = unit(2);
    auto revoke = site().msAdmin({"revoke", "--devid", c.devIdHex, "--reason", "qa test"});
    ASSERT_EQ(revoke.code, 0) << revoke.out << revoke.err;
    auto r = verify(c, {"--port", c.port, "--label-image", labelOf(site(), c).string()});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_NE(lineOf(r.out, "records").find("the MotherShip has the device revoked"), std::string::npos) << r.out;
    EXPECT_EQ(lineOf(r.out, "otp"), "  FAIL  otp        the MotherShip answers the OTP with state revoked") << r.out;
    EXPECT_EQ(lineOf(r.out, "dtls"),
              "  FAIL  dtls       the MotherShip refused the device's key: 4.03 (not the recorded key, or revoked)")
        << r.out;
    EXPECT_TRUE(lineOf(r.out, "label").starts_with("  PASS")) << r.out;
    EXPECT_TRUE(lineOf(r.out, "firmware").starts_with("  PASS")) << r.out;
    EXPECT_NE(r.out.find("verify: FAIL (3 mismatches: records, otp, dtls)\n"), std::string::npos) << r.out;
}

TEST_F(StationVerify, ARecordEditedAtTheMotherShipIsNamedFieldByField) {
    // Someone with the registry's database changes the device's key fingerprint and firmware
    // hash behind the station's back (the signed record no longer matches). The registry keeps
    // them as bytes (schema version 10): blob literals.
    const SimDevice& e = unit(5);
    const SimDevice& other = unit(0);
    auto edit = test::run({"/usr/bin/sqlite3", site().path("mothership/registry.db").string(),
                           "UPDATE devices SET fingerprint = X'" + other.fingerprint + "', firmware_sha256 = X'" +
                               std::string(64, '0') + "' WHERE devid = " + std::to_string(e.devId)},
                          site().path("."), "sqlite3");
    ASSERT_EQ(edit.code, 0) << edit.out << edit.err;
    auto r = verify(e, {"--port", e.port, "--label-image", labelOf(site(), e).string()});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_EQ(lineOf(r.out, "device-fp"), "  FAIL  device-fp  the MotherShip has " + other.fingerprint +
                                              ", the block's certificate " + e.fingerprint + "; the status query has " +
                                              other.fingerprint + ", the block's certificate " + e.fingerprint)
        << r.out;
    EXPECT_NE(lineOf(r.out, "firmware").find("the MotherShip's record names firmware 0000000000000000…"), std::string::npos)
        << r.out;
    EXPECT_EQ(lineOf(r.out, "signature"),
              "  FAIL  signature  the MotherShip's record is not the signed one: fingerprint, firmware_sha256 differ")
        << r.out;
    EXPECT_EQ(lineOf(r.out, "dtls"),
              "  FAIL  dtls       the MotherShip refused the device's key: 4.03 (not the recorded key, or revoked)")
        << r.out;
    EXPECT_NE(r.out.find("verify: FAIL (4 mismatches: device-fp, firmware, signature, dtls)\n"), std::string::npos) << r.out;
    EXPECT_EQ(msState(site(), e), "not-mapped");
}

TEST_F(StationVerify, AnEnrolledUnitPassesWithItsController) {
    const SimDevice& b = unit(3);
    const std::string controller = ",cip=192.0.2.1,cport=5684,cfingerprint=" + std::string(64, 'c');
    auto map = test::https(site().mothership()->httpsPort(), site().caCert().string(),
                           {"POST", "/.well-known/tte?" + queryOf(b) + controller, "", "", "", "", ""});
    ASSERT_EQ(map.status, 200) << map.body;
    auto r = verify(b, {"--port", b.port, "--label-image", labelOf(site(), b).string()});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(lineOf(r.out, "dtls"), "  PASS  dtls       the device's own request with its key: 2.05, controller 192.0.2.1:5684")
        << r.out;
    EXPECT_EQ(msState(site(), b), "registered");  // the device's request registers it, as a device would
}

TEST_F(StationVerify, ALockedBoardIsRefusedNamingReadProtectionAndItsImageVerifies) {
    const SimDevice& a = unit(4);
    auto lock = test::run({(test::binDir() / "tte-flash").string(), "--sim", site().path("sim").string(), "protect",
                           "--level", "1", "--device", a.port},
                          site().path("."), "tte-flash-protect");
    ASSERT_EQ(lock.code, 0) << lock.out << lock.err;
    auto r = verify(a, {"--port", a.port, "--label-image", labelOf(site(), a).string()});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_EQ(r.err, "tte-provision: port " + a.port +
                         ": the board is read-protected (RDP level 1): its bootloader refuses every read; verify the "
                         "image captured before the lock with --flash-image FILE\n");
    EXPECT_EQ(r.out, "");
    auto image = verify(a, {"--flash-image", site().path(a.devIdHex + ".image").string(), "--label-image",
                            labelOf(site(), a).string()});
    EXPECT_EQ(image.code, 0) << image.out << image.err;
}

TEST_F(StationVerify, UsageErrorsExit2) {
    const SimDevice& a = unit(0);
    auto none = verify(a, {"--label-image", labelOf(site(), a).string()});
    EXPECT_EQ(none.code, 2);
    EXPECT_EQ(none.err, "tte-provision: verify needs --port P or --flash-image F\n");
    auto both = verify(a, {"--port", a.port, "--flash-image", "x", "--label-image", "y"});
    EXPECT_EQ(both.code, 2);
    EXPECT_NE(both.err.find("--port excludes --flash-image"), std::string::npos) << both.err;
    auto txt = verify(a, {"--port", a.port, "--label-image", "y", "--report", "r.txt"});
    EXPECT_EQ(txt.code, 2);
    EXPECT_EQ(txt.err, "tte-provision: --report: r.txt: name the sheet FILE.html or FILE.pdf\n");
    auto badId = site().provision({"verify", "--devid", "1fe", "--port", a.port, "--label-image", "y"});
    EXPECT_EQ(badId.code, 2);
    EXPECT_NE(badId.err.find("--devid: expected 8 hex digits, got 3"), std::string::npos) << badId.err;
    auto noLabel = verify(a, {"--flash-image", site().path(a.devIdHex + ".image").string(), "--label-image",
                              site().path("missing.png").string()});
    EXPECT_EQ(noLabel.code, 1);
    EXPECT_NE(lineOf(noLabel.out, "label").find("the label image gives no code: no label image "), std::string::npos)
        << noLabel.out;
}

}  // namespace
}  // namespace tte
