// One fixture slot's panel (see slot_panel.h).
#include "tte/gui/slot_panel.h"

#include <QFormLayout>
#include <QLabel>
#include <QProgressBar>

namespace tte::gui {

int stepProgress(const QString& step) {
    static const char* const kOrder[] = {"allocated", "keyed", "flashed", "labelled", "committed"};
    for (int i = 0; i < kSteps; ++i)
        if (step == kOrder[i]) return i + 1;
    return -1;
}

SlotPanel::SlotPanel(int number, QWidget* parent) : QGroupBox(QString("Slot %1").arg(number), parent) {
    setObjectName(QString("slot%1").arg(number));
    auto* form = new QFormLayout(this);
    m_portLabel = new QLabel;
    m_devIdLabel = new QLabel;
    m_stepLabel = new QLabel;
    m_resultLabel = new QLabel;
    m_resultLabel->setWordWrap(true);
    m_countLabel = new QLabel;
    m_progress = new QProgressBar;
    m_progress->setRange(0, kSteps);
    m_progress->setFormat("%v/%m");
    m_devIdLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow("Port", m_portLabel);
    form->addRow("Dev ID", m_devIdLabel);
    form->addRow("Step", m_stepLabel);
    form->addRow("", m_progress);
    form->addRow("Result", m_resultLabel);
    form->addRow("Done", m_countLabel);
    clear();
}

void SlotPanel::clear() {
    m_port.clear();
    m_busy = false;
    m_ok = m_rework = 0;
    m_finished.clear();
    m_portLabel->setText("–");
    m_devIdLabel->setText("–");
    m_stepLabel->setText("empty");
    m_resultLabel->clear();
    m_progress->setValue(0);
    updateCount();
}

void SlotPanel::showStep(const QString& port, quint32 devId, const QString& step, const QString& message) {
    const QString id = QString("%1").arg(devId, 8, 16, QChar('0'));
    m_port = port;
    m_portLabel->setText(port);
    m_devIdLabel->setText(id);
    m_stepLabel->setText(step);
    if (step == "failed") {
        m_busy = false;
        ++m_rework;
        m_finished << id + " rework";
        m_resultLabel->setText("rework: " + message);
        m_resultLabel->setStyleSheet("color: #b00020; font-weight: bold;");
    } else if (step == "waiting" || step == "reprint") {
        // The device waits for its label (the line holds), or its lost label prints again.
        m_busy = true;
        // One short line (the banner says why at length); the reason in the tooltip.
        m_resultLabel->setText(step == "waiting" ? "waiting for its label" : "label printed again");
        m_resultLabel->setToolTip(message);
        m_resultLabel->setStyleSheet("color: #8a4b00; font-weight: bold;");
    } else {
        const int p = stepProgress(step);
        if (p > 0) m_progress->setValue(p);
        m_busy = p < kSteps;  // -1: a step inside one of the five (printing)
        if (p == 1 || step == "labelled") {
            m_resultLabel->clear();
            m_resultLabel->setToolTip({});
            m_resultLabel->setStyleSheet({});
        }
        if (p == kSteps) {
            ++m_ok;
            m_finished << id + " ok";
            m_resultLabel->setText("ok");
            m_resultLabel->setStyleSheet("color: #1b7f2a; font-weight: bold;");
        }
    }
    updateCount();
}

void SlotPanel::updateCount() { m_countLabel->setText(QString("%1 ok, %2 rework").arg(m_ok).arg(m_rework)); }

}  // namespace tte::gui
