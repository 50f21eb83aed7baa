// The window tests' fixture: tte-station's window over the station core with the fakes of
// tests/station in a temp dir (support/fakes/gui_station.h). Screenshots go to
// $TTE_SCREENSHOT_DIR when set (docs/images), else to the test's temp dir.
#pragma once

#include <QCoreApplication>
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTest>

#include <gtest/gtest.h>

#include <cstdlib>

#include "support/fakes/gui_station.h"
#include "tte/gui/seat_tile.h"
#include "tte/gui/station_window.h"

namespace tte::gui {

using testing::FakeParts;
using testing::FakeSite;

constexpr int kDeadlineMs = 20000;

class StationWindowTest : public ::testing::Test {
protected:
    explicit StationWindowTest(int devices = 10) : site(devices) {
        window = std::make_unique<StationWindow>([this](const station::StationConfig& c)
                                                     -> Result<std::unique_ptr<station::StationParts>> {
            auto p = std::make_unique<FakeParts>(c, site);
            parts = p.get();
            return p;
        });
        window->resize(1280, 860);
        window->show();
    }
    ~StationWindowTest() override {
        site.gate.open();
        site.printer.setFault(std::nullopt);  // a line held by a failed test goes on
        window.reset();
    }

    /// Opens the site's config and waits until the station reports ready.
    void openReady() {
        ASSERT_TRUE(window->openConfig(QString::fromStdString(site.writeConfig())));
        ASSERT_TRUE(QTest::qWaitFor([&] { return window->ready(); }, kDeadlineMs)) << log().toStdString();
    }
    void runToEnd() {
        ASSERT_TRUE(window->startButton()->isEnabled());
        QTest::mouseClick(window->startButton(), Qt::LeftButton);
        ASSERT_TRUE(QTest::qWaitFor([&] { return !window->runner()->running(); }, kDeadlineMs)) << log().toStdString();
    }
    QString log() const { return window->logView()->toPlainText(); }
    static bool ok(const QString& state) { return state == "committed" || state == "live"; }
    int rowOf(const QString& port) const {
        for (int r = 0; r < window->deviceTable()->rowCount(); ++r)
            if (window->deviceTable()->item(r, 0)->text() == port) return r;
        return -1;
    }
    QString cell(const QString& port, int column) const {
        const int r = rowOf(port);
        return r < 0 ? QString() : window->deviceTable()->item(r, column)->text();
    }
    void select(const QString& port) {
        const int r = rowOf(port);
        ASSERT_GE(r, 0) << port.toStdString();
        window->deviceTable()->selectRow(r);
    }
    void screenshot(const std::string& name) {
        const char* dir = std::getenv("TTE_SCREENSHOT_DIR");
        const std::string path = (dir && *dir ? std::string(dir) : site.dir) + "/" + name;
        // The layouts settle first (a state's word may have wrapped since the last pass).
        QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
        QCoreApplication::processEvents();
        ASSERT_TRUE(window->grab().save(QString::fromStdString(path))) << path;
    }

    FakeSite site;
    FakeParts* parts = nullptr;  ///< the station's parts of the latest opening (owned by the window's runner)
    std::unique_ptr<StationWindow> window;
};


}  // namespace tte::gui
