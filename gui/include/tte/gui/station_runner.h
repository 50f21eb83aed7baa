// The station core behind the operator's window: owns the station's parts (real adapters or
// fakes), runs the pipeline, rework, reprint, journal verify and the status probes on worker
// threads, and reports back with Qt signals delivered on the GUI thread. The GUI never
// blocks on a token, a flasher, a printer, the journal or the MotherShip.
#pragma once

#include <QList>
#include <QObject>
#include <QString>
#include <QThreadPool>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "tte/gui/seat_tile.h"
#include "tte/station/parts.h"
#include "tte/station/reports.h"

namespace tte::gui {

/// The latest device the journal knows at a port, for the device table.
struct DeviceRow {
    QString port;
    quint32 devId = 0;
    QString state;   ///< latest journal kind: "allocated" … "committed", "live", "failed", "reworked"
    QString detail;  ///< "rework: <step>: <reason>" for a failed device
};

/// The line's hold as the banner shows it (station::LineState on the GUI thread).
struct LineView {
    bool held = false;
    QString reason;   ///< "printer", "token", "quota", "mothership" (station::holdReasonName)
    QString problem;  ///< what is wrong
    QString action;   ///< the one thing to do
    QString text;     ///< LineState::text(): both in one sentence
    bool byItself = true;  ///< goes on by itself once the fault clears (else: Resume)
};

class StationRunner : public QObject {
    Q_OBJECT
public:
    explicit StationRunner(std::unique_ptr<station::StationParts> parts, QObject* parent = nullptr);
    ~StationRunner() override;

    [[nodiscard]] const station::StationConfig& config() const { return m_parts->config(); }
    [[nodiscard]] bool running() const { return m_running; }

    /// Opens the token and the journal, loads the firmware, connects the printer and starts the
    /// upload loop; reports each failure with problem() and the outcome with checked().
    void check();
    /// Provisions up to `count` devices (0 = every fresh device present) on config().slots.
    void start(int count);
    /// The slots finish the devices they hold and take no new ones.
    void stop();
    /// The operator signed in: named in every journal entry from now on. A fixture with
    /// seats starts no run without one.
    void setOperator(const QString& name) { m_operator = name.toStdString(); }
    [[nodiscard]] QString operatorName() const { return QString::fromStdString(m_operator); }
    /// A device that never went live (failed): its board erased (station::reworkDevice()).
    void rework(const QString& port);
    /// A device with a record (`tte-provision rework --devid D`, station::reworkById()): revoked
    /// at the MotherShip first, then its board provisioned as a new device that names it
    /// (`reworked_from`). Reports replaced() or problem("Rework", …).
    void reworkLive(quint32 devId);
    void reprint(const QString& port, const QString& reason);
    void verifyJournal();
    /// The operator says a fault the line cannot see clear is dealt with (the banner's Resume).
    void resumeLine();
    /// Counts and backlog from the journal (fast), then the MotherShip's lot quota (network).
    void refresh();
    /// True once check() found that the token needs a PIN the station has no file for, until
    /// signIn() logged in with one.
    [[nodiscard]] bool needsPin() const { return m_needsPin; }
    /// Logs in to the token with the PIN the operator typed (off the GUI thread); reports with
    /// signInResult() and, when it took, checks the station again.
    void signIn(const QString& pin);

Q_SIGNALS:
    /// A failure the operator must see: `title` names the part ("HSM token", "Printer", …).
    void problem(const QString& title, const QString& text);
    void checked(bool ready, const QString& firmware);
    /// A step of the board in a seat (or a seat's own state: "empty", "done", … with devId 0),
    /// with the flash's bytes and the label image (station::SlotEvent).
    void seatEvent(const tte::gui::SeatEvent& event);
    /// A structured line for the log pane: what happened (`kind`) and the details.
    void logEvent(const QString& kind, const QString& text);
    void runStarted();
    void runFinished(int committed, int failed, const QString& summary);
    void statusChanged(const tte::station::StationStatus& status);
    /// Every port's latest device, from the journal (also those of earlier sessions).
    void devicesChanged(const QList<tte::gui::DeviceRow>& rows);
    void motherShipChanged(bool reachable, const QString& text);
    void reworked(const QString& port, quint32 devId, const QString& text);
    /// A live device was revoked and its board is now `newDevId` (or its new identity failed:
    /// `newDevId` 0 and `text` says why).
    void replaced(const QString& port, quint32 oldDevId, quint32 newDevId, const QString& text);
    void reprinted(const QString& port, const QString& text);
    void journalVerified(bool ok, const QString& text);
    /// The line holds or runs again (`line.held` false), as station::LineHold reports it.
    void lineChanged(const tte::gui::LineView& line);
    /// The token needs the operator's PIN before the station can be checked (sign in).
    void pinNeeded();
    /// The token took the PIN (`ok`), or refused it: `text` says what it said.
    void signInResult(bool ok, const QString& text);

private:
    /// Runs `work` on the pool; `work` reports through post().
    void submit(std::function<void()> work);
    /// Calls `fn` on the GUI thread (dropped when this runner is gone).
    void post(std::function<void()> fn);
    void runTask(int count);
    void refreshTask();

    std::unique_ptr<station::StationParts> m_parts;
    std::string m_operator;
    QThreadPool m_pool;
    std::atomic<bool> m_stop{false};
    std::atomic<station::Pipeline*> m_pipeline{nullptr};  // while a run goes on
    bool m_running = false;                  // GUI thread only
    std::atomic<bool> m_refreshing{false};
    /// Counts the journal changes this runner made; a device snapshot taken while it moved is
    /// older than the events already shown, and is dropped.
    std::atomic<std::uint64_t> m_changes{0};
    std::atomic<bool> m_uploading{false};
    std::atomic<bool> m_needsPin{false};
    std::thread m_uploadThread;
};

}  // namespace tte::gui
