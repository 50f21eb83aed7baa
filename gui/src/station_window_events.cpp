// The operator's window reacting to the station's reports: seat progress, the device table,
// the lot's quota, the upload backlog, the MotherShip's state, errors (see station_window.h).
#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QMap>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QStatusBar>
#include <QTableWidget>

#include <algorithm>
#include <utility>

#include "tte/base/hex.h"
#include "tte/gui/station_window.h"
#include "tte/protocol/ids.h"

namespace tte::gui {
namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }
QString hex8(std::uint32_t v) { return q(toHex(v, 8)); }

/// USB port paths in the order of the hub's ports: "1-2" before "1-10", "1-1.2" before "1-1.10".
bool portBefore(const QString& a, const QString& b) {
    static const QRegularExpression kParts("[-.]");
    const QStringList x = a.split(kParts);
    const QStringList y = b.split(kParts);
    for (qsizetype i = 0; i < std::min(x.size(), y.size()); ++i) {
        bool xn = false;
        bool yn = false;
        const int xi = x[i].toInt(&xn);
        const int yi = y[i].toInt(&yn);
        if (xn && yn && xi != yi) return xi < yi;
        if (!(xn && yn) && x[i] != y[i]) return x[i] < y[i];
    }
    return x.size() < y.size();
}

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
        // The keyboard starts on Start (not in the count box, which would take the seat digits).
        if (ready && (focusWidget() == nullptr || focusWidget() == m_count)) m_start->setFocus(Qt::OtherFocusReason);
    });
    connect(r, &StationRunner::seatEvent, this, &StationWindow::onSeatEvent);
    connect(r, &StationRunner::pinNeeded, this, [this] {
        log("sign-in", "the HSM token needs its PIN: sign in");
        askSignIn();
    });
    connect(r, &StationRunner::signInResult, this, &StationWindow::onSignInResult);
    connect(r, &StationRunner::lineChanged, this, &StationWindow::onLineChanged);
    connect(r, &StationRunner::runStarted, this, [this] {
        const auto& c = m_runner->config();
        log("run", c.seats.empty() ? QString("started on %1 slot(s)").arg(c.slots)
                                   : QString("serving %1 seat(s)").arg(c.seats.size()));
        updateButtons();
        m_stop->setFocus(Qt::OtherFocusReason);  // Space/Enter now stops
    });
    connect(r, &StationRunner::runFinished, this, [this](int, int, const QString& summary) {
        m_banner->hide();
        m_banner->setProperty("reason", QString());
        log("run", summary);
        updateButtons();
        if (focusWidget() == nullptr || focusWidget() == m_stop || !focusWidget()->isEnabled())
            m_start->setFocus(Qt::OtherFocusReason);
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
    connect(r, &StationRunner::replaced, this, [this](const QString& port, quint32, quint32 newId, const QString& text) {
        if (newId != 0) setDeviceRow(port, hex8(newId), "committed", "reworked: a new identity");
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
                           "quota left <b>%7</b><br>firmware %8 · %9 · station %10 · DTLS %11")
                       .arg(q(lot.product).toHtmlEscaped(), q(lot.id).toHtmlEscaped(), q(protocol::msHostName(protocol::MsId{lot.msId})))
                       .arg(lot.msId)
                       .arg(hex8(lot.firstDevId), hex8(lot.lastDevId), m_quotaLeft.isEmpty() ? "–" : m_quotaLeft,
                            fw.toHtmlEscaped())
                       .arg(m_runner->config().seats.empty()
                                ? QString("%1 slot(s)").arg(m_runner->config().slots)
                                : QString("%1 seat(s)").arg(m_runner->config().seats.size()))
                       .arg(q(m_runner->config().stationId).toHtmlEscaped())
                       .arg(lot.dtls == station::LotDtls::psk ? QString("<b>PSK</b>") : QString("cert")));
}

void StationWindow::onSeatEvent(const SeatEvent& e) {
    SeatTile* tile = m_tileOf.value(e.port, nullptr);
    if (!tile && m_runner->config().seats.empty() && e.devId != 0) {
        // The old slot form: a tile per port, named by it, as its first board shows.
        tile = new SeatTile(e.port, e.port);
        m_tileOf.insert(e.port, tile);
        connect(tile, &SeatTile::picked, this, &StationWindow::pick);
        // In port order ("1-2" before "1-10"), in the grid and in the focus chain.
        m_tiles.insert(std::upper_bound(m_tiles.begin(), m_tiles.end(), tile,
                                        [](SeatTile* a, SeatTile* b) { return portBefore(a->port(), b->port()); }),
                       tile);
        layoutTiles();
        QWidget* previous = m_stop;
        for (auto* t : m_tiles) {
            setTabOrder(previous, t);
            previous = t;
        }
        setTabOrder(previous, m_rework);
    }
    if (tile) tile->showStep(e);
    if (e.transient) return;  // the tile shows them; the table and the log have one line per journalled step
    if (e.step == "committed" || e.step == "failed") m_runner->refresh();  // the counters on top, at once
    const QString name = e.seat.isEmpty() ? e.port : e.seat;
    if (e.devId == 0) {
        // A seat's state without a device (empty, done at start, ignored port, refused board): logged.
        log("seat", QString("%1 %2%3").arg(name, e.step, e.message.isEmpty() ? QString() : ": " + e.message));
        return;
    }
    const bool waits = e.step == "waiting" || e.step == "reprint";
    setDeviceRow(e.port, hex8(e.devId), e.step, e.step == "failed" ? "rework: " + e.message : waits ? e.message : QString());
    log("step", QString("%1 %2 %3%4").arg(name, e.port, hex8(e.devId) + " " + e.step,
                                           e.message.isEmpty() ? QString() : ": " + e.message));
}

void StationWindow::onLineChanged(const LineView& line) {
    m_banner->setVisible(line.held);
    m_banner->setProperty("reason", line.held ? line.reason : QString());
    static const QMap<QString, QString> kTitles = {
        {"printer", "LINE STOPPED – LABEL PRINTER"},
        {"token", "LINE STOPPED – HSM TOKEN"},
        {"quota", "LINE STOPPED – DEV ID QUOTA USED UP"},
        {"mothership", "LINE STOPPED – MOTHERSHIP UNREACHABLE"},
    };
    m_bannerTitle->setText(kTitles.value(line.reason, "LINE STOPPED"));
    QString action = line.action;
    if (!action.isEmpty()) action[0] = action[0].toUpper();
    m_bannerAction->setText(action.isEmpty() ? QString() : "▶ " + action);
    m_bannerText->setText(line.text);
    m_resume->setVisible(line.held && !line.byItself);
    log("line", line.held ? "held: " + line.text : "resumed");
    updateButtons();
}

void StationWindow::onStatus(const station::StationStatus& s) {
    const station::LotConfig& lot = m_runner->config().lot;
    m_quotaLeft = s.nextDevId ? QString("%1 (next %2)").arg(lot.lastDevId - *s.nextDevId + 1).arg(hex8(*s.nextDevId))
                              : QString("0 (used up)");
    setLot();
    QString text = QString("Upload backlog: %1 pending, %2 done, %3 rejected · %4 live, %5 to upload, %6 failed")
                       .arg(s.backlog.pending)
                       .arg(s.backlog.done)
                       .arg(s.backlog.rejected)
                       .arg(s.live)
                       .arg(s.committed)
                       .arg(s.failed);
    if (!s.backlog.lastError.empty()) text += " · last upload error: " + q(s.backlog.lastError);
    m_backlog->setText(text);
    m_backlog->setToolTip(text);  // the whole line, where a narrow window cuts it
    for (const auto& [period, c] : {std::pair<QString, const station::LineCounters&>{"lot", s.lotCounters},
                                    std::pair<QString, const station::LineCounters&>{"shift", s.shiftCounters}}) {
        counter(period, "done")->setText(QString::number(c.done));
        counter(period, "failed")->setText(QString::number(c.failed));
        counter(period, "reworked")->setText(QString::number(c.reworked));
        counter(period, "yield")->setText(q(station::yieldText(c.yield())));
        counter(period, "perHour")->setText(QString::number(c.perHour, 'f', 1));
    }
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

void StationWindow::pick(const QString& port) {
    m_picked = port;
    updateButtons();
}

QString StationWindow::detailOf(const QString& port) const {
    for (int row = 0; row < m_devices->rowCount(); ++row)
        if (m_devices->item(row, 0)->text() == port) return m_devices->item(row, 3)->text();
    return {};
}

QString StationWindow::devIdAt(const QString& port) const {
    for (int row = 0; row < m_devices->rowCount(); ++row)
        if (m_devices->item(row, 0)->text() == port) return m_devices->item(row, 1)->text();
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
    m_logToggle->setChecked(m_details->isVisible());
    const QString state = stateOf(selectedPort());
    // A failed board is erased; a board with a record is revoked and provisioned anew (not
    // while a run serves the seats).
    m_rework->setEnabled(open && (state == "failed" || ((state == "committed" || state == "live") && !running)));
    m_reprint->setEnabled(open && (state == "committed" || state == "live"));
}

}  // namespace tte::gui
