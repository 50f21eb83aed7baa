// tte-station's main window, made for the line: counters of the lot and the shift on top, a
// line-stop banner across the window that says the one thing to do, one large tile per fixture
// seat, Start/Stop/Rework/Reprint on big keys with shortcuts (the whole window works without a
// mouse), and the device table and the log folded away (F12). All station work runs in a
// StationRunner.
#pragma once

#include <QMainWindow>
#include <QMap>
#include <QMessageBox>
#include <QPointer>

#include <functional>
#include <memory>
#include <vector>

#include "tte/gui/seat_tile.h"
#include "tte/gui/sign_in_dialog.h"
#include "tte/gui/station_runner.h"

class QAction;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;
class QGridLayout;

namespace tte::gui {

class SeatIcon;

/// Makes the station's parts for a loaded config (Wiring in tte-station, fakes in tests).
using PartsFactory = std::function<Result<std::unique_ptr<station::StationParts>>(const station::StationConfig&)>;

/// The keys of the floor (also on the buttons).
inline constexpr Qt::Key kStartKey = Qt::Key_F5;
inline constexpr Qt::Key kStopKey = Qt::Key_F6;
inline constexpr Qt::Key kResumeKey = Qt::Key_F7;
inline constexpr Qt::Key kReworkKey = Qt::Key_F8;
inline constexpr Qt::Key kReprintKey = Qt::Key_F9;
inline constexpr Qt::Key kLogKey = Qt::Key_F12;

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
    /// Rework / reprint the device at `port` (the operator picks its seat or its table row).
    /// A failed device is erased at once; a device with a record (committed, live) is reworked
    /// as `tte-provision rework --devid D` does, after the operator confirms in the dialog
    /// (object name "reworkDialog") that names its Dev ID and says its label becomes void.
    void reworkDevice(const QString& port);
    void reprintDevice(const QString& port, const QString& reason);
    void verifyJournal();
    /// The operator signs in: named in every journal entry from now on, shown on top.
    [[nodiscard]] QString signedIn() const { return m_signedIn; }
    void signIn(const QString& name);
    /// Opens the sign-in dialog (object name "signInDialog"); OK signs in.
    void askSignIn();

    // What the operator sees, for tests.
    [[nodiscard]] StationRunner* runner() const { return m_runner.get(); }
    [[nodiscard]] const std::vector<SeatTile*>& seatTiles() const { return m_tiles; }
    /// The tile of the seat named `name` (seat name, or the port in the slot form), or nullptr.
    [[nodiscard]] SeatTile* seatTile(const QString& name) const;
    [[nodiscard]] QTableWidget* deviceTable() const { return m_devices; }
    [[nodiscard]] QPlainTextEdit* logView() const { return m_log; }
    /// The folded-away part: device table and log (F12).
    [[nodiscard]] QWidget* detailsPane() const { return m_details; }
    [[nodiscard]] QLabel* lotLabel() const { return m_lot; }
    [[nodiscard]] QLabel* operatorLabel() const { return m_operator; }
    /// The open sign-in dialog, or null.
    [[nodiscard]] SignInDialog* signInDialog() const { return m_signInDialog; }
    /// The counters on top: "done", "failed", "reworked", "yield", "perHour" for "lot" and "shift".
    [[nodiscard]] QLabel* counter(const QString& period, const QString& name) const;
    [[nodiscard]] QLabel* backlogLabel() const { return m_backlog; }
    [[nodiscard]] QLabel* motherShipLabel() const { return m_motherShip; }
    /// The banner across the window while the line holds (hidden while it runs).
    [[nodiscard]] QWidget* lineBanner() const { return m_banner; }
    [[nodiscard]] QLabel* lineBannerTitle() const { return m_bannerTitle; }
    [[nodiscard]] QLabel* lineBannerText() const { return m_bannerText; }
    [[nodiscard]] QLabel* lineBannerAction() const { return m_bannerAction; }
    [[nodiscard]] QPushButton* resumeButton() const { return m_resume; }
    [[nodiscard]] QPushButton* startButton() const { return m_start; }
    [[nodiscard]] QPushButton* stopButton() const { return m_stop; }
    [[nodiscard]] QPushButton* reworkButton() const { return m_rework; }
    [[nodiscard]] QPushButton* reprintButton() const { return m_reprint; }
    [[nodiscard]] QPushButton* logButton() const { return m_logToggle; }
    [[nodiscard]] QSpinBox* countBox() const { return m_count; }
    /// The error dialog on screen, if any.
    [[nodiscard]] QMessageBox* errorDialog() const { return m_error; }
    /// The confirmation of a live device's rework on screen, if any.
    [[nodiscard]] QMessageBox* reworkDialog() const { return m_reworkConfirm; }
    [[nodiscard]] bool ready() const { return m_ready; }
    /// The port Rework and Reprint act on: the picked seat, or the picked table row.
    [[nodiscard]] QString selectedPort() const { return m_picked; }

private:
    void buildUi();
    QWidget* buildCounters();
    QWidget* buildBanner();
    void buildMenus();
    void buildTiles();
    void layoutTiles();
    void connectRunner();
    void showError(const QString& title, const QString& text);
    void log(const QString& kind, const QString& text);
    void setLot();
    void onSeatEvent(const SeatEvent& e);
    void onStatus(const station::StationStatus& s);
    void onLineChanged(const LineView& line);
    /// The token took or refused the PIN of the open sign-in.
    void onSignInResult(bool ok, const QString& text);
    void setDeviceRow(const QString& port, const QString& devId, const QString& state, const QString& detail);
    void pick(const QString& port);
    [[nodiscard]] QString stateOf(const QString& port) const;
    [[nodiscard]] QString devIdAt(const QString& port) const;
    [[nodiscard]] QString detailOf(const QString& port) const;
    void updateButtons();
    void askReprintReason();
    void confirmLiveRework(const QString& port, const QString& devId);
    void toggleDetails();

    PartsFactory m_factory;
    std::unique_ptr<StationRunner> m_runner;
    bool m_ready = false;
    QString m_firmware;
    QString m_quotaLeft;
    QString m_picked;
    QString m_signedIn;  // the operator's name, for every runner this window opens
    QString m_pendingName;  // signed in once the token took the PIN
    QPointer<SignInDialog> m_signInDialog;
    std::vector<SeatTile*> m_tiles;
    QMap<QString, SeatTile*> m_tileOf;  // port → tile
    QWidget* m_tileArea = nullptr;
    QGridLayout* m_tileGrid = nullptr;
    QLabel* m_lot = nullptr;
    QLabel* m_operator = nullptr;
    QMap<QString, QLabel*> m_counters;  // "lot/done" …
    QTableWidget* m_devices = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QWidget* m_details = nullptr;
    QLabel* m_backlog = nullptr;
    QLabel* m_motherShip = nullptr;
    QWidget* m_banner = nullptr;
    SeatIcon* m_bannerIcon = nullptr;
    QLabel* m_bannerTitle = nullptr;
    QLabel* m_bannerText = nullptr;
    QLabel* m_bannerAction = nullptr;
    QPushButton* m_resume = nullptr;
    QPushButton* m_start = nullptr;
    QPushButton* m_stop = nullptr;
    QPushButton* m_rework = nullptr;
    QPushButton* m_reprint = nullptr;
    QPushButton* m_verify = nullptr;
    QPushButton* m_logToggle = nullptr;
    QSpinBox* m_count = nullptr;
    QTimer* m_timer = nullptr;
    QPointer<QMessageBox> m_error;
    QPointer<QMessageBox> m_reworkConfirm;
};

}  // namespace tte::gui
