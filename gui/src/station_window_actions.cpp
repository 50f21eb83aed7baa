// The operator's window at work: opening a station config, signing in, and the operator's
// actions – start, stop, rework, reprint, verify – with their dialogs and the log (see
// station_window.h). The widgets are built in station_window.cpp.
#include "tte/gui/station_window.h"

#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QTableWidget>
#include <QTime>
#include <QTimer>

#include <memory>
#include <utility>

namespace tte::gui {

bool StationWindow::openConfig(const QString& path) {
    if (m_runner && m_runner->running()) {
        showError("Station config", "Stop the run before opening another station config.");
        return false;
    }
    auto config = station::loadConfig(path.toStdString());
    if (!config) {
        showError("Station config", QString("Cannot open %1:\n%2").arg(path, QString::fromStdString(config.error().message)));
        return false;
    }
    auto parts = m_factory(*config);
    if (!parts) {
        showError("Station", QString::fromStdString(parts.error().toString()));
        return false;
    }
    m_timer->stop();
    m_runner = std::make_unique<StationRunner>(std::move(*parts));
    m_runner->setOperator(m_signedIn);
    m_ready = false;
    m_firmware.clear();
    m_quotaLeft.clear();
    m_devices->setRowCount(0);
    buildTiles();
    setWindowTitle(QString("TTE station %1 – %2").arg(QString::fromStdString(m_runner->config().stationId),
                                                      QFileInfo(path).fileName()));
    connectRunner();
    setLot();
    log("open", path);
    m_runner->check();
    m_runner->refresh();
    m_timer->start();
    updateButtons();
    return true;
}

void StationWindow::signIn(const QString& name) {
    const QString trimmed = name.trimmed();
    m_signedIn = trimmed;
    if (m_runner) m_runner->setOperator(trimmed);
    m_operator->setText(trimmed.isEmpty() ? QString("Nobody signed in") : "Operator: " + trimmed);
    if (!trimmed.isEmpty()) log("sign-in", trimmed);
    updateButtons();
}

void StationWindow::askSignIn() {
    // The operator's name, and the token's PIN where the station has no pin_file for it
    // (docs/STATION.md "Sign-in"): checked by logging in to the token, never logged.
    const bool needsPin = m_runner && m_runner->needsPin();
    QString name = m_signedIn;
    if (m_signInDialog) {
        if (!needsPin || m_signInDialog->needsPin()) {
            m_signInDialog->raise();
            return;
        }
        // Opened for the name before the token said it needs its PIN: ask again, with the PIN.
        name = m_signInDialog->nameEdit()->text();
        m_signInDialog->reject();
    }
    auto* dialog = new SignInDialog(name, needsPin,
                                    m_runner ? QString::fromStdString(m_runner->config().tokenLabel) : QString(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFont(font());
    m_signInDialog = dialog;
    connect(dialog, &SignInDialog::signInRequested, this, [this, dialog](const QString& name, const QString& pin) {
        if (!dialog->needsPin() || !m_runner) {
            signIn(name);
            return;
        }
        m_pendingName = name;
        log("sign-in", name + ": logging in to the HSM token");
        m_runner->signIn(pin);
    });
    dialog->open();
}

void StationWindow::onSignInResult(bool ok, const QString& text) {
    if (ok) {
        signIn(m_pendingName);
        log("sign-in", "the HSM token took the PIN");
        if (m_signInDialog) m_signInDialog->finish();
        return;
    }
    log("sign-in", "the HSM token refused the PIN: " + text);
    if (m_signInDialog) m_signInDialog->showRefusal(text);
}

void StationWindow::startRun(int count) {
    if (!m_runner || !m_ready || m_runner->running()) return;
    if (m_runner->needsPin() || (!m_runner->config().seats.empty() && m_signedIn.isEmpty())) {
        askSignIn();  // a fixture with seats starts no run without a name
        return;
    }
    for (auto* t : m_tiles) t->clear();
    m_runner->start(count);
}

void StationWindow::stopRun() {
    if (m_runner) m_runner->stop();
}

void StationWindow::reworkDevice(const QString& port) {
    if (!m_runner || port.isEmpty()) return;
    const QString state = stateOf(port);
    if (state == "committed" || state == "live") {
        if (m_runner->running()) {
            showError("Rework", "Stop the run before reworking a device that has a record: its board is provisioned "
                                "again in its seat.");
            return;
        }
        return confirmLiveRework(port, devIdAt(port));
    }
    log("rework", "erasing the device at " + port);
    m_runner->rework(port);
}

void StationWindow::confirmLiveRework(const QString& port, const QString& devId) {
    bool ok = false;
    const quint32 id = devId.toUInt(&ok, 16);
    if (!ok) return showError("Rework", "the device at " + port + " has no Dev ID in the journal");
    if (m_reworkConfirm) m_reworkConfirm->close();
    const QString seat = QString::fromStdString(m_runner->config().seatName(port.toStdString()));
    m_reworkConfirm = new QMessageBox(
        QMessageBox::Warning, "Rework a live device",
        QString("Rework device %1 in seat %2?\n\n"
                "Device %1 is revoked at the MotherShip first: its label becomes void – its code and its key are "
                "refused from then on. Destroy the old label.\n\n"
                "Then the board is provisioned as a new device with a new Dev ID and a new label.")
            .arg(devId, seat),
        QMessageBox::Cancel, this);
    m_reworkConfirm->setObjectName("reworkDialog");
    QPushButton* go = m_reworkConfirm->addButton(QString("Revoke %1 and rework").arg(devId), QMessageBox::DestructiveRole);
    go->setObjectName("reworkConfirm");
    m_reworkConfirm->setDefaultButton(QMessageBox::Cancel);  // a glove on Enter must not revoke
    m_reworkConfirm->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_reworkConfirm, &QMessageBox::buttonClicked, this, [this, go, id, devId, port](QAbstractButton* b) {
        if (b != go || !m_runner) return log("rework", "rework of " + devId + " cancelled");
        log("rework", QString("revoking device %1 at %2, then provisioning its board anew").arg(devId, port));
        m_runner->reworkLive(id);
    });
    m_reworkConfirm->open();
}

void StationWindow::reprintDevice(const QString& port, const QString& reason) {
    if (!m_runner || port.isEmpty()) return;
    log("reprint", QString("the label of the device at %1 (%2)").arg(port, reason));
    m_runner->reprint(port, reason);
}

void StationWindow::verifyJournal() {
    if (m_runner) m_runner->verifyJournal();
}

void StationWindow::askReprintReason() {
    const QString port = selectedPort();
    if (port.isEmpty()) return;
    auto* dialog = new QInputDialog(this);
    dialog->setObjectName("reprintDialog");
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle("Reprint label");
    dialog->setLabelText(QString("Why is the label of the device at %1 printed again?").arg(port));
    connect(dialog, &QInputDialog::textValueSelected, this, [this, port](const QString& r) { reprintDevice(port, r); });
    dialog->open();
}

void StationWindow::showError(const QString& title, const QString& text) {
    log("error", title + ": " + text);
    if (m_error) m_error->close();
    m_error = new QMessageBox(QMessageBox::Critical, title, text, QMessageBox::Ok, this);
    m_error->setObjectName("errorDialog");
    m_error->setAttribute(Qt::WA_DeleteOnClose);
    m_error->open();
}

void StationWindow::log(const QString& kind, const QString& text) {
    QScrollBar* bar = m_log->verticalScrollBar();
    const bool atEnd = bar->value() == bar->maximum();
    m_log->appendPlainText(QString("%1  %2  %3").arg(QTime::currentTime().toString("HH:mm:ss"), kind.leftJustified(9), text));
    if (atEnd) bar->setValue(bar->maximum());  // follow the newest events unless the operator scrolled up
}

}  // namespace tte::gui
