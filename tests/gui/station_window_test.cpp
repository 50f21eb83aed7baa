// tte-station's window over the station core with fakes: a run of N devices over 4 slots,
// the seats' tiles, the device table and the upload backlog; a deterministic mid-run (the
// flasher held), Stop, a bad config, Rework and Reprint, journal verify. Screenshots go to
// $TTE_SCREENSHOT_DIR when set (docs/images), else to the test's temp dir.
#include <QLabel>
#include <QMessageBox>
#include <QInputDialog>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTest>

#include <gtest/gtest.h>

#include "window_fixture.h"

namespace tte::gui {
namespace {

TEST_F(StationWindowTest, RunOfTenDevicesOverFourSlots) {
    site.flasher.failPorts = {"1-7"};
    openReady();
    EXPECT_TRUE(window->seatTiles().empty());  // the slot form: tiles come with their ports' boards
    EXPECT_TRUE(window->lotLabel()->text().contains("lot <b>lot-a</b>")) << window->lotLabel()->text().toStdString();
    EXPECT_TRUE(window->lotLabel()->text().contains("00000100 – 000001ff"));

    // Mid-run: each slot holds a device halfway through writing its flash.
    site.gate.close();
    QTest::mouseClick(window->startButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return site.gate.waiting() == 4; }, kDeadlineMs));
    ASSERT_TRUE(QTest::qWaitFor([&] {
        if (window->seatTiles().size() != 4) return false;
        for (auto* t : window->seatTiles())
            if (t->state() != SeatState::flashing || t->progress()->property("bytesDone").toULongLong() == 0) return false;
        return true;
    }, kDeadlineMs)) << log().toStdString();
    EXPECT_FALSE(window->startButton()->isEnabled());
    EXPECT_TRUE(window->stopButton()->isEnabled());
    QStringList held;
    for (auto* t : window->seatTiles()) {
        // The old slot form: the tiles are named by port.
        EXPECT_EQ(t->name(), t->port());
        EXPECT_EQ(t->stateLabel()->text(), "FLASHING");
        EXPECT_EQ(t->icon()->state(), SeatState::flashing);
        const auto done = t->progress()->property("bytesDone").toULongLong();
        const auto total = t->progress()->property("bytesTotal").toULongLong();
        EXPECT_EQ(done * 2, total) << t->name().toStdString();  // the gate holds it at half
        EXPECT_NEAR(static_cast<double>(t->progress()->value()) / t->progress()->maximum(), 0.5, 0.05);
        EXPECT_TRUE(t->progress()->text().endsWith("KiB written")) << t->progress()->text().toStdString();
        EXPECT_TRUE(t->devIdLabel()->text().startsWith("Dev ID 000001")) << t->devIdLabel()->text().toStdString();
        held << t->port();
    }
    held.sort();
    EXPECT_EQ(held, (QStringList{"1-1", "1-2", "1-3", "1-4"}));
    screenshot("station-run.png");
    site.gate.open();
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window->runner()->running(); }, kDeadlineMs)) << log().toStdString();

    // A tile per port; together they finished the ten, one of them for rework.
    QStringList finished;
    ASSERT_EQ(window->seatTiles().size(), 10u);
    QStringList order;
    for (auto* t : window->seatTiles()) order << t->name();
    EXPECT_EQ(order, (QStringList{"1-1", "1-2", "1-3", "1-4", "1-5", "1-6", "1-7", "1-8", "1-9", "1-10"}));
    for (auto* t : window->seatTiles()) {
        EXPECT_EQ(t->finished().size(), 1) << t->name().toStdString();
        finished << t->finished();
        EXPECT_EQ(t->state(), t->port() == "1-7" ? SeatState::rework : SeatState::done) << t->name().toStdString();
    }
    EXPECT_EQ(finished.size(), 10);
    EXPECT_EQ(finished.filter(" ok").size(), 9);
    EXPECT_EQ(finished.filter(" rework").size(), 1);
    EXPECT_EQ(window->seatTile("1-7")->stateLabel()->text(), "NEEDS REWORK");
    EXPECT_EQ(window->seatTile("1-7")->detailLabel()->text(), "flash: read-back differs at 0x08008010");
    EXPECT_EQ(window->seatTile("1-1")->stateLabel()->text(), "DONE");
    const QString failedId = cell("1-7", 1);
    EXPECT_TRUE(finished.contains(failedId + " rework")) << finished.join(",").toStdString();
    EXPECT_EQ(cell("1-7", 2), "failed");
    EXPECT_EQ(cell("1-7", 3), "rework: flash: read-back differs at 0x08008010");
    for (const char* port : {"1-1", "1-2", "1-3", "1-4", "1-5", "1-6", "1-8", "1-9", "1-10"})
        EXPECT_TRUE(ok(cell(port, 2))) << port;
    EXPECT_EQ(window->deviceTable()->rowCount(), 10);

    // The backlog drains to the MotherShip.
    ASSERT_TRUE(QTest::qWaitFor([&] { return window->backlogLabel()->text().startsWith("Upload backlog: 0 pending, 9 done"); },
                                kDeadlineMs))
        << window->backlogLabel()->text().toStdString();
    {
        std::lock_guard lock(site.ms.mutex);
        EXPECT_EQ(site.ms.stored, 9);
    }
    ASSERT_TRUE(QTest::qWaitFor([&] { return window->motherShipLabel()->text().startsWith("MotherShip: reachable"); },
                                kDeadlineMs));
    ASSERT_TRUE(QTest::qWaitFor([&] { return window->lotLabel()->text().contains("quota left <b>246 (next 0000010a)</b>"); },
                                kDeadlineMs))
        << window->lotLabel()->text().toStdString();
    // Once uploaded, the table shows the devices live (from the journal).
    ASSERT_TRUE(QTest::qWaitFor([&] { return cell("1-10", 2) == "live" && cell("1-1", 2) == "live"; }, kDeadlineMs));
    EXPECT_EQ(cell("1-7", 2), "failed");
    EXPECT_TRUE(log().contains("provisioned 9, failed 1")) << log().toStdString();
    // The counters on top: the journal's, as `tte-provision status` counts them.
    ASSERT_TRUE(QTest::qWaitFor([&] { return window->counter("lot", "done")->text() == "9"; }, kDeadlineMs));
    EXPECT_EQ(window->counter("lot", "failed")->text(), "1");
    EXPECT_EQ(window->counter("lot", "reworked")->text(), "0");
    EXPECT_EQ(window->counter("lot", "yield")->text(), "90.0 %");
    EXPECT_EQ(window->counter("shift", "done")->text(), "9");
    select("1-2");
    screenshot("station-done.png");
}

TEST_F(StationWindowTest, StopLetsTheSlotsFinishTheirDevices) {
    openReady();
    site.gate.close();
    QTest::mouseClick(window->startButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return site.gate.waiting() == 4; }, kDeadlineMs));
    QTest::mouseClick(window->stopButton(), Qt::LeftButton);
    site.gate.open();
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window->runner()->running(); }, kDeadlineMs)) << log().toStdString();
    EXPECT_EQ(window->deviceTable()->rowCount(), 4);
    EXPECT_TRUE(log().contains("provisioned 4, failed 0")) << log().toStdString();
    EXPECT_TRUE(window->startButton()->isEnabled());
}

TEST_F(StationWindowTest, ClosingRightAfterOpeningStopsEverything) {
    // The station check (and the upload loop it starts) may still be running: closing waits
    // for it and stops the loop it started (a hang here fails on the test's timeout).
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(window->openConfig(QString::fromStdString(site.writeConfig())));
        window.reset();
        window = std::make_unique<StationWindow>([this](const station::StationConfig& c)
                                                     -> Result<std::unique_ptr<station::StationParts>> {
            return std::make_unique<FakeParts>(c, site);
        });
    }
    openReady();
    EXPECT_TRUE(window->startButton()->isEnabled());
}

TEST_F(StationWindowTest, BadConfigShowsWhatIsWrong) {
    const std::string bad = station::testing::configText();
    const std::string path = site.writeConfig(bad.substr(0, bad.find("first_devid")) + "first_devid = \"00000200\"\nlast_devid = \"000001ff\"\n");
    EXPECT_FALSE(window->openConfig(QString::fromStdString(path)));
    ASSERT_NE(window->errorDialog(), nullptr);
    EXPECT_EQ(window->errorDialog()->windowTitle(), "Station config");
    EXPECT_EQ(window->errorDialog()->text().toStdString(), "Cannot open " + path + ":\n" + path + ":21: lot.first_devid: is above lot.last_devid");
    EXPECT_EQ(window->runner(), nullptr);
    EXPECT_FALSE(window->startButton()->isEnabled());

    const std::string missing = site.dir + "/nowhere.toml";
    EXPECT_FALSE(window->openConfig(QString::fromStdString(missing)));
    EXPECT_TRUE(window->errorDialog()->text().startsWith(QString::fromStdString("Cannot open " + missing + ":\n")))
        << window->errorDialog()->text().toStdString();
}

TEST_F(StationWindowTest, ReworkAFailedDeviceThenProvisionItAgain) {
    site.flasher.failPorts = {"1-2"};
    openReady();
    window->countBox()->setValue(3);
    runToEnd();
    ASSERT_EQ(cell("1-2", 2), "failed");
    const QString burned = cell("1-2", 1);

    select("1-1");
    EXPECT_TRUE(window->reworkButton()->isEnabled());  // it has a record: revoked first, after a confirmation
    select("1-2");
    ASSERT_TRUE(window->reworkButton()->isEnabled());
    site.flasher.failPorts.clear();  // the fixture was fixed
    QTest::mouseClick(window->reworkButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return cell("1-2", 2) == "reworked"; }, kDeadlineMs)) << log().toStdString();
    EXPECT_TRUE(log().contains("device " + burned + " at 1-2 erased; Dev ID " + burned + " stays burned")) << log().toStdString();
    EXPECT_EQ(site.flasher.read("1-2", site.encoder.blockAddress(), 4).value(), std::vector<std::uint8_t>(4, 0xff));

    // The next run provisions the reworked board with a new Dev ID.
    window->countBox()->setValue(1);
    runToEnd();
    EXPECT_TRUE(ok(cell("1-2", 2))) << cell("1-2", 2).toStdString();
    EXPECT_NE(cell("1-2", 1), burned);

    // A provisioned (locked) board sent back is reworked as `tte-provision rework --devid D`
    // does: after the operator confirms, revoked at the MotherShip first, then provisioned anew.
    ASSERT_TRUE(QTest::qWaitFor([&] { return window->backlogLabel()->text().startsWith("Upload backlog: 0 pending, 3 done"); },
                                kDeadlineMs))
        << window->backlogLabel()->text().toStdString();
    ASSERT_EQ(site.flasher.protection["1-1"], station::ReadProtection::level1);
    // (which Dev ID 1-1 got depends on which of the parallel slots allocated first)
    const QString id = cell("1-1", 1);
    ASSERT_TRUE(QTest::qWaitFor([&] { return cell("1-1", 2) == "live"; }, kDeadlineMs));
    select("1-1");
    ASSERT_TRUE(window->reworkButton()->isEnabled());  // a live board too, now
    // Cancelled: nothing happens.
    QTest::mouseClick(window->reworkButton(), Qt::LeftButton);
    ASSERT_NE(window->reworkDialog(), nullptr);
    window->reworkDialog()->button(QMessageBox::Cancel)->click();
    EXPECT_TRUE(site.ms.revoked.empty());
    EXPECT_EQ(cell("1-1", 1), id);
    // Confirmed: the dialog names the Dev ID and says the old label becomes void.
    QTest::mouseClick(window->reworkButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return window->reworkDialog() != nullptr; }, kDeadlineMs));
    const QString question = window->reworkDialog()->text();
    EXPECT_TRUE(question.startsWith("Rework device " + id + " in seat 1-1?")) << question.toStdString();
    EXPECT_TRUE(question.contains("Device " + id + " is revoked at the MotherShip first: its label becomes void"))
        << question.toStdString();
    screenshot("station-rework-live.png");
    auto* confirm = window->reworkDialog()->findChild<QPushButton*>("reworkConfirm");
    ASSERT_NE(confirm, nullptr);
    EXPECT_EQ(confirm->text(), "Revoke " + id + " and rework");
    confirm->click();
    ASSERT_TRUE(QTest::qWaitFor([&] { return cell("1-1", 1) != id && ok(cell("1-1", 2)); }, kDeadlineMs)) << log().toStdString();
    const QString fresh = cell("1-1", 1);
    EXPECT_TRUE(log().contains("device " + id + " at 1-1 revoked at the MotherShip (reworked at station ")) << log().toStdString();
    EXPECT_TRUE(log().contains("provisioned as " + fresh + ", reworked from " + id)) << log().toStdString();
    EXPECT_EQ(window->errorDialog(), nullptr);
    {
        std::lock_guard lock(site.ms.mutex);
        ASSERT_TRUE(site.ms.revoked.contains(id.toUInt(nullptr, 16)));
        EXPECT_TRUE(site.ms.revoked.at(id.toUInt(nullptr, 16)).starts_with("reworked at station "));
    }
    // The new identity's record names the old Dev ID once it is uploaded.
    ASSERT_TRUE(QTest::qWaitFor(
        [&] {
            std::lock_guard lock(site.ms.mutex);
            for (const auto& [rid, r] : site.ms.records)
                if (r.devId.value == fresh.toUInt(nullptr, 16)) return r.reworkedFrom.has_value();
            return false;
        },
        kDeadlineMs));
    {
        std::lock_guard lock(site.ms.mutex);
        for (const auto& [rid, r] : site.ms.records)
            if (r.devId.value == fresh.toUInt(nullptr, 16)) {
                EXPECT_EQ(r.reworkedFrom->value, id.toUInt(nullptr, 16));
            }
    }
}

TEST_F(StationWindowTest, ReopenedStationShowsTheDevicesOfItsJournal) {
    site.flasher.failPorts = {"1-3"};
    openReady();
    window->countBox()->setValue(3);
    runToEnd();
    const QString id11 = cell("1-1", 1);  // depends on which of the parallel slots allocated first
    ASSERT_TRUE(id11.startsWith("000001")) << id11.toStdString();
    // Another opening of the same station (a restart): the table comes from the journal.
    ASSERT_TRUE(window->openConfig(QString::fromStdString(site.writeConfig())));
    EXPECT_EQ(window->deviceTable()->rowCount(), 0);
    ASSERT_TRUE(QTest::qWaitFor([&] { return window->deviceTable()->rowCount() == 3; }, kDeadlineMs));
    ASSERT_TRUE(QTest::qWaitFor([&] { return cell("1-1", 2) == "live" && cell("1-2", 2) == "live"; }, kDeadlineMs));
    EXPECT_EQ(cell("1-1", 1), id11);
    EXPECT_EQ(cell("1-3", 2), "failed");
    EXPECT_EQ(cell("1-3", 3), "rework: flash: read-back differs at 0x08008010");
    select("1-3");
    EXPECT_TRUE(window->reworkButton()->isEnabled());
    EXPECT_FALSE(window->reprintButton()->isEnabled());
    select("1-1");
    EXPECT_TRUE(window->reprintButton()->isEnabled());
}

TEST_F(StationWindowTest, ReprintTheLabelOfAProvisionedDevice) {
    openReady();
    window->countBox()->setValue(2);
    runToEnd();
    const std::size_t jobs = site.printer.printed.size();
    // (which Dev ID 1-2 got depends on which of the parallel slots allocated first)
    const std::string id = cell("1-2", 1).toStdString();
    ASSERT_TRUE(id == "00000100" || id == "00000101") << id;
    select("1-2");
    ASSERT_TRUE(window->reprintButton()->isEnabled());
    QTest::mouseClick(window->reprintButton(), Qt::LeftButton);
    auto* dialog = window->findChild<QInputDialog*>("reprintDialog");
    ASSERT_NE(dialog, nullptr);
    dialog->setTextValue("label torn at packing");
    dialog->accept();
    ASSERT_TRUE(QTest::qWaitFor([&] { return cell("1-2", 3) == "label reprinted"; }, kDeadlineMs)) << log().toStdString();
    EXPECT_EQ(site.printer.printed.size(), jobs + 1);
    // The same Enrollment URL (same OTP) as the first label of that device.
    const std::string url = site.printer.printed.rbegin()->second;
    EXPECT_NE(url.find("devid=" + id), std::string::npos) << url;
    int same = 0;
    for (const auto& [job, u] : site.printer.printed) same += u == url ? 1 : 0;
    EXPECT_EQ(same, 2);
    EXPECT_TRUE(log().contains("label of the device at 1-2 reprinted (label torn at packing)")) << log().toStdString();

    // A reason is required.
    window->reprintDevice("1-2", "");
    ASSERT_TRUE(QTest::qWaitFor([&] { return window->errorDialog() != nullptr; }, kDeadlineMs));
    EXPECT_EQ(window->errorDialog()->text(), "reprint needs a reason");

    // The journal, with the reprint in it, still verifies.
    window->verifyJournal();
    ASSERT_TRUE(QTest::qWaitFor([&] { return log().contains("journal verifies: "); }, kDeadlineMs)) << log().toStdString();
}

}  // namespace
}  // namespace tte::gui

namespace tte::gui {
namespace {

// The printer runs out of labels during a run: a banner across the window says so and what to
// do, every slot shows its device waiting for its label, nothing fails; once labels are loaded
// the banner goes and the run finishes by itself.
TEST_F(StationWindowTest, PrinterOutOfLabelsHoldsTheLineWithABanner) {
    openReady();
    EXPECT_FALSE(window->lineBanner()->isVisible());
    site.printer.setFault(station::PrinterCondition{false, true, "printer tte-labels is out of labels", "load a roll"});
    window->countBox()->setValue(6);
    QTest::mouseClick(window->startButton(), Qt::LeftButton);
    const QString text = "Printer tte-labels is out of labels \u2013 load a roll; the line goes on by itself";
    ASSERT_TRUE(QTest::qWaitFor([&] { return window->lineBanner()->isVisible(); }, kDeadlineMs)) << log().toStdString();
    EXPECT_EQ(window->lineBannerText()->text(), text);
    EXPECT_FALSE(window->resumeButton()->isVisible());  // it goes on by itself
    // The boards the slots hold wait for their labels (none failed); no new board starts.
    // Every slot that holds a board shows it waiting for its label.
    ASSERT_TRUE(QTest::qWaitFor([&] {
        int waiting = 0;
        for (auto* t : window->seatTiles()) {
            if (!t->busy()) continue;
            if (t->state() != SeatState::held || t->stateLabel()->text() != "WAITING FOR PRINTER") return false;
            if (t->detailLabel()->text() != "printer tte-labels is out of labels") return false;
            ++waiting;
        }
        return waiting > 0;
    }, kDeadlineMs)) << log().toStdString();
    EXPECT_EQ(window->lineBannerTitle()->text(), "LINE STOPPED \u2013 LABEL PRINTER");
    EXPECT_EQ(window->lineBannerAction()->text(), "\u25B6 Load a roll");
    EXPECT_FALSE(log().contains("failed")) << log().toStdString();
    EXPECT_EQ(cell("1-1", 3), "printer tte-labels is out of labels");
    EXPECT_TRUE(log().contains("held: " + text)) << log().toStdString();

    site.printer.setFault(std::nullopt);  // labels loaded
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window->lineBanner()->isVisible(); }, kDeadlineMs)) << log().toStdString();
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window->runner()->running(); }, kDeadlineMs)) << log().toStdString();
    EXPECT_TRUE(log().contains("provisioned 6, failed 0")) << log().toStdString();
    EXPECT_TRUE(log().contains("resumed")) << log().toStdString();
}

// Two label jobs of one device are lost: the banner asks the operator to check the printer and
// offers Resume, which prints the label once more.
TEST_F(StationWindowTest, TwoLostJobsHoldTheLineUntilResume) {
    site.printer.jobScripts = {{station::fakes::FakePrinter::Fate::cancelled, 0}, {station::fakes::FakePrinter::Fate::aborted, 0}};
    openReady();
    window->countBox()->setValue(1);
    QTest::mouseClick(window->startButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return window->lineBanner()->isVisible(); }, kDeadlineMs)) << log().toStdString();
    EXPECT_TRUE(window->lineBannerText()->text().startsWith("Two label jobs of device 00000100 were lost"))
        << window->lineBannerText()->text().toStdString();
    ASSERT_TRUE(window->resumeButton()->isVisible());
    QTest::mouseClick(window->resumeButton(), Qt::LeftButton);
    ASSERT_TRUE(QTest::qWaitFor([&] { return !window->runner()->running(); }, kDeadlineMs)) << log().toStdString();
    EXPECT_FALSE(window->lineBanner()->isVisible());
    EXPECT_TRUE(log().contains("provisioned 1, failed 0")) << log().toStdString();
    EXPECT_EQ(site.printer.submitted.size(), 3u);
}

}  // namespace
}  // namespace tte::gui
