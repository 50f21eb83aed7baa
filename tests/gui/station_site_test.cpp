// tte-station, the program, on a whole station site with the real parts
// (tests/support/station_site.h: SoftHSM token, tte-mothership, private cupsd,
// simulated STM32F405 devices, station.toml): offscreen, scripted with --start and
// --quit-when-done, it provisions every device, the MotherShip holds their records, the
// journal verifies with tte-provision, and tte-provision reprints a label on the same journal.
// With $TTE_SCREENSHOT_DIR set, the window at the end is kept there as station-site.png.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/station_site.h"

namespace tte::test {
namespace {

TEST(StationProgram, ProvisionsTheSiteOnTheSimulatorWithTheRealParts) {
    StationSite site({.devices = 4, .slots = 2});
    ASSERT_EQ(site.setUp(), "");
    const fs::path shot = site.path("station-end.png");
    auto r = run({(binDir() / "tte-station").string(), "--config", site.path("station/station.toml").string(), "--sim",
                  site.path("sim").string(), "--start", "--quit-when-done", "--screenshot", shot.string()},
                 site.path("."), "tte-station", std::chrono::seconds(150),
                 {"SOFTHSM2_CONF=" + site.path("softhsm/softhsm2.conf").string(), "QT_QPA_PLATFORM=offscreen"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("provisioned 4, failed 0"), std::string::npos) << r.out;

    // Every device holds a valid block; its label was printed; the MotherShip has its record.
    const auto devices = site.provisionedDevices();
    ASSERT_EQ(devices.size(), 4u);
    for (const auto& d : devices) {
        EXPECT_EQ(d.msFingerprint, site.msFingerprint());
        EXPECT_TRUE(fs::exists(site.labelsDir() / (d.devIdHex + ".png"))) << d.devIdHex;
    }
    EXPECT_EQ(site.msRecords().size(), 4u);
    EXPECT_GT(fs::file_size(shot), 10000u);
    if (const char* dir = std::getenv("TTE_SCREENSHOT_DIR"); dir && *dir)
        fs::copy_file(shot, fs::path(dir) / "station-site.png", fs::copy_options::overwrite_existing);

    // The same journal, seen by tte-provision: it verifies, and all four are live.
    auto verify = site.provision({"journal", "verify"});
    EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
    auto status = site.provision({"status"});
    EXPECT_NE(status.out.find("4 allocated, 4 live"), std::string::npos) << status.out;
    // Reprint on the real printer, from the label the station kept.
    auto reprint = site.provision({"reprint", "--port", devices[0].port, "--reason", "label torn at packing"});
    EXPECT_EQ(reprint.code, 0) << reprint.out << reprint.err;
}

}  // namespace
}  // namespace tte::test
