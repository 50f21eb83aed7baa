// tte-station's main window for line operators: the lot, one panel per fixture slot, the
// devices of the run with Reprint and Rework, Start/Stop, a log of structured events, the
// upload backlog and the MotherShip's state. All station work runs in a StationRunner.
#pragma once

#include <QMainWindow>
#include <QMap>
#include <QMessageBox>
#include <QPointer>

#include <functional>
#include <memory>
#include <vector>

#include "tte/gui/slot_panel.h"
#include "tte/gui/station_runner.h"

class QAction;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

namespace tte::gui {

/// Makes the station's parts for a loaded config (Wiring in tte-station, fakes in tests).
using PartsFactory = std::function<Result<std::unique_ptr<station::StationParts>>(const station::StationConfig&)>;

class StationWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit StationWindow(PartsFactory factory, QWidget* parent = nullptr);
    ~StationWindow() override;

    /// Loads a station config and opens the station on it; a bad file shows an error dialog
    /// naming the key and the problem, and the station stays as it was.
    bool openConfig(const QString& path);

    void startRun(int count);
    void stopRun();
    /// Rework / reprint the device at `port` (the operator picks it in the device table).
    void reworkDevice(const QString& port);
    void reprintDevice(const QString& port, const QString& reason);
    void verifyJournal();

    // What the operator sees, for tests.
    [[nodiscard]] StationRunner* runner() const { return m_runner.get(); }
    [[nodiscard]] const std::vector<SlotPanel*>& slotPanels() const { return m_slots; }
    [[nodiscard]] QTableWidget* deviceTable() const { return m_devices; }
    [[nodiscard]] QPlainTextEdit* logView() const { return m_log; }
    [[nodiscard]] QLabel* lotLabel() const { return m_lot; }
    [[nodiscard]] QLabel* backlogLabel() const { return m_backlog; }
    [[nodiscard]] QLabel* motherShipLabel() const { return m_motherShip; }
    /// The banner across the window while the line holds (hidden while it runs).
    [[nodiscard]] QWidget* lineBanner() const { return m_banner; }
    [[nodiscard]] QLabel* lineBannerText() const { return m_bannerText; }
    [[nodiscard]] QPushButton* resumeButton() const { return m_resume; }
    [[nodiscard]] QPushButton* startButton() const { return m_start; }
    [[nodiscard]] QPushButton* stopButton() const { return m_stop; }
    [[nodiscard]] QPushButton* reworkButton() const { return m_rework; }
    [[nodiscard]] QPushButton* reprintButton() const { return m_reprint; }
    [[nodiscard]] QSpinBox* countBox() const { return m_count; }
    /// The error dialog on screen, if any.
    [[nodiscard]] QMessageBox* errorDialog() const { return m_error; }
    [[nodiscard]] bool ready() const { return m_ready; }

private:
    void buildUi();
    void buildMenus();
    void connectRunner();
    void showError(const QString& title, const QString& text);
    void log(const QString& kind, const QString& text);
    void setLot();
    void onSlotEvent(const QString& port, quint32 devId, const QString& step, const QString& message);
    void onStatus(const station::StationStatus& s);
    void onLineChanged(bool held, const QString& text, bool byItself);
    void setDeviceRow(const QString& port, const QString& devId, const QString& state, const QString& detail);
    [[nodiscard]] QString selectedPort() const;
    [[nodiscard]] QString stateOf(const QString& port) const;
    [[nodiscard]] QString detailOf(const QString& port) const;
    void updateButtons();
    void askReprintReason();

    PartsFactory m_factory;
    std::unique_ptr<StationRunner> m_runner;
    bool m_ready = false;
    QString m_firmware;
    QString m_quotaLeft;
    std::vector<SlotPanel*> m_slots;
    QMap<QString, SlotPanel*> m_slotOf;
    QWidget* m_slotArea = nullptr;
    QLabel* m_lot = nullptr;
    QTableWidget* m_devices = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QLabel* m_backlog = nullptr;
    QLabel* m_motherShip = nullptr;
    QWidget* m_banner = nullptr;
    QLabel* m_bannerText = nullptr;
    QPushButton* m_resume = nullptr;
    QPushButton* m_start = nullptr;
    QPushButton* m_stop = nullptr;
    QPushButton* m_rework = nullptr;
    QPushButton* m_reprint = nullptr;
    QPushButton* m_verify = nullptr;
    QSpinBox* m_count = nullptr;
    QTimer* m_timer = nullptr;
    QPointer<QMessageBox> m_error;
};

}  // namespace tte::gui
