// The operator's window reacting to the station's reports: slot progress, the device table,
// the lot's quota, the upload backlog, the MotherShip's state, errors (see station_window.h).
#include <QFileInfo>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStatusBar>
#include <QTableWidget>

#include "tte/base/hex.h"
#include "tte/gui/station_window.h"
#include "tte/protocol/ids.h"

namespace tte::gui {
namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }
QString hex8(std::uint32_t v) { return q(toHex(v, 8)); }

}  // namespace

void StationWindow::connectRunner() {
    StationRunner* r = m_runner.get();
    connect(r, &StationRunner::problem, this, &StationWindow::showError);
    connect(r, &StationRunner::logEvent, this, &StationWindow::log);
    connect(r, &StationRunner::checked, this, [this](bool ready, const QString& firmware) {
        m_ready = ready;
        m_firmware = firmware;
        setLot();
        log("ready", ready ? "token, journal, flasher, firmware and printer are ready" : "the station is NOT ready");
        updateButtons();
    });
    connect(r, &StationRunner::slotEvent, this, &StationWindow::onSlotEvent);
    connect(r, &StationRunner::lineChanged, this, &StationWindow::onLineChanged);
    connect(r, &StationRunner::runStarted, this, [this] {
        log("run", QString("started on %1 slot(s)").arg(m_slots.size()));
        updateButtons();
    });
    connect(r, &StationRunner::runFinished, this, [this](int, int, const QString& summary) {
        m_banner->hide();
        log("run", summary);
        updateButtons();
    });
    connect(r, &StationRunner::statusChanged, this, &StationWindow::onStatus);
    connect(r, &StationRunner::devicesChanged, this, [this](const QList<DeviceRow>& rows) {
        for (const auto& d : rows) {
            // A slot's live progress is newer than the journal snapshot of a running device.
            if (m_runner->running() && d.state != "committed" && d.state != "live" && d.state != "failed" &&
                !stateOf(d.port).isEmpty())
                continue;
            setDeviceRow(d.port, hex8(d.devId), d.state, d.detail.isEmpty() ? detailOf(d.port) : d.detail);
        }
    });
    connect(r, &StationRunner::motherShipChanged, this, [this](bool ok, const QString& text) {
        m_motherShip->setText("MotherShip: " + text);
        m_motherShip->setStyleSheet(ok ? "color: #1b7f2a;" : "color: #b00020; font-weight: bold;");
    });
    connect(r, &StationRunner::reworked, this, [this](const QString& port, quint32 devId, const QString& text) {
        setDeviceRow(port, hex8(devId), "reworked", "erased; the next run gives it a new Dev ID");
        log("rework", text);
    });
    connect(r, &StationRunner::reprinted, this, [this](const QString& port, const QString& text) {
        setDeviceRow(port, {}, {}, "label reprinted");
        log("reprint", text);
    });
    connect(r, &StationRunner::journalVerified, this, [this](bool ok, const QString& text) {
        log("journal", text);
        if (!ok) showError("Journal", text);
        else statusBar()->showMessage(text, 10000);
    });
}

void StationWindow::setLot() {
    const station::LotConfig& lot = m_runner->config().lot;
    const QString fw = QFileInfo(q(lot.firmware)).fileName() +
                       (m_firmware.isEmpty() ? QString(" (not loaded)") : " (SHA-256 " + m_firmware.left(16) + "…)");
    m_lot->setText(QString("<b>%1</b> · lot <b>%2</b> · MotherShip %3 (MS ID %4) · Dev IDs %5 – %6 · "
                           "quota left <b>%7</b><br>firmware %8 · %9 slot(s) · station %10")
                       .arg(q(lot.product).toHtmlEscaped(), q(lot.id).toHtmlEscaped(), q(protocol::msHostName(protocol::MsId{lot.msId})))
                       .arg(lot.msId)
                       .arg(hex8(lot.firstDevId), hex8(lot.lastDevId), m_quotaLeft.isEmpty() ? "–" : m_quotaLeft,
                            fw.toHtmlEscaped())
                       .arg(m_runner->config().slots)
                       .arg(q(m_runner->config().stationId).toHtmlEscaped()));
}

void StationWindow::onSlotEvent(const QString& port, quint32 devId, const QString& step, const QString& message) {
    if (devId == 0) {
        // A seat's state without a device (empty, done at start, ignored port, refused board): logged.
        log("seat", QString("%1 %2%3").arg(port, step, message.isEmpty() ? QString() : ": " + message));
        return;
    }
    SlotPanel* panel = m_slotOf.value(port, nullptr);
    if (!panel || step == "allocated") {
        // A new device: the slot that finished its last one (a worker takes one at a time).
        panel = nullptr;
        for (auto* s : m_slots) {
            if (!s->busy()) {
                panel = s;
                break;
            }
        }
        if (!panel) panel = m_slots.front();
        m_slotOf.remove(panel->port());
        m_slotOf.insert(port, panel);
    }
    panel->showStep(port, devId, step, message);
    const bool waits = step == "waiting" || step == "reprint";
    setDeviceRow(port, hex8(devId), step, step == "failed" ? "rework: " + message : waits ? message : QString());
    log("step", QString("%1 %2 %3%4").arg(panel->title().toLower(), port, hex8(devId) + " " + step,
                                           message.isEmpty() ? QString() : ": " + message));
}

void StationWindow::onLineChanged(bool held, const QString& text, bool byItself) {
    m_banner->setVisible(held);
    m_bannerText->setText(text);
    m_resume->setVisible(held && !byItself);
    log("line", held ? "held: " + text : "resumed");
}

void StationWindow::onStatus(const station::StationStatus& s) {
    const station::LotConfig& lot = m_runner->config().lot;
    m_quotaLeft = s.nextDevId ? QString("%1 (next %2)").arg(lot.lastDevId - *s.nextDevId + 1).arg(hex8(*s.nextDevId))
                              : QString("0 (used up)");
    setLot();
    QString text = QString("Upload backlog: %1 pending, %2 done, %3 rejected · devices: %4 live, %5 awaiting upload, "
                           "%6 failed")
                       .arg(s.backlog.pending)
                       .arg(s.backlog.done)
                       .arg(s.backlog.rejected)
                       .arg(s.live)
                       .arg(s.committed)
                       .arg(s.failed);
    if (!s.backlog.lastError.empty()) text += " · last upload error: " + q(s.backlog.lastError);
    m_backlog->setText(text);
}

void StationWindow::setDeviceRow(const QString& port, const QString& devId, const QString& state, const QString& detail) {
    int row = 0;
    while (row < m_devices->rowCount() && m_devices->item(row, 0)->text() != port) ++row;
    if (row == m_devices->rowCount()) {
        m_devices->insertRow(row);
        for (int c = 0; c < 4; ++c) m_devices->setItem(row, c, new QTableWidgetItem);
        m_devices->item(row, 0)->setText(port);
    }
    if (!devId.isEmpty()) m_devices->item(row, 1)->setText(devId);
    if (!state.isEmpty()) {
        m_devices->item(row, 2)->setText(state);
        m_devices->item(row, 2)->setForeground(state == "failed" ? QColor(0xb0, 0x00, 0x20)
                                               : (state == "committed" || state == "live") ? QColor(0x1b, 0x7f, 0x2a)
                                                                      : palette().color(QPalette::Text));
    }
    m_devices->item(row, 3)->setText(detail);
    updateButtons();
}

QString StationWindow::selectedPort() const {
    const auto rows = m_devices->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : m_devices->item(rows.front().row(), 0)->text();
}

QString StationWindow::detailOf(const QString& port) const {
    for (int row = 0; row < m_devices->rowCount(); ++row)
        if (m_devices->item(row, 0)->text() == port) return m_devices->item(row, 3)->text();
    return {};
}

QString StationWindow::stateOf(const QString& port) const {
    for (int row = 0; row < m_devices->rowCount(); ++row)
        if (m_devices->item(row, 0)->text() == port) return m_devices->item(row, 2)->text();
    return {};
}

void StationWindow::updateButtons() {
    const bool open = m_runner != nullptr;
    const bool running = open && m_runner->running();
    m_start->setEnabled(open && m_ready && !running);
    m_stop->setEnabled(running);
    m_verify->setEnabled(open);
    m_count->setEnabled(!running);
    const QString state = stateOf(selectedPort());
    m_rework->setEnabled(open && state == "failed");
    m_reprint->setEnabled(open && (state == "committed" || state == "live"));
}

}  // namespace tte::gui
