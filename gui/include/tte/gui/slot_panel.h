// One fixture slot of the operator's window: the device it holds now (port, Dev ID), the
// pipeline step with a progress bar, the result (ok, or rework with the reason), and how
// many devices the slot finished in this run.
#pragma once

#include <QGroupBox>
#include <QStringList>

class QLabel;
class QProgressBar;

namespace tte::gui {

class SlotPanel : public QGroupBox {
    Q_OBJECT
public:
    explicit SlotPanel(int number, QWidget* parent = nullptr);

    /// A pipeline step of the device at `port` ("allocated" … "committed", or "failed").
    void showStep(const QString& port, quint32 devId, const QString& step, const QString& message);
    void clear();

    [[nodiscard]] QString port() const { return m_port; }
    /// True while the device in the slot is between "allocated" and its end.
    [[nodiscard]] bool busy() const { return m_busy; }
    /// Dev IDs (8 hex) this slot finished in the run, "ok" or "rework".
    [[nodiscard]] const QStringList& finished() const { return m_finished; }

    QLabel* portLabel() const { return m_portLabel; }
    QLabel* devIdLabel() const { return m_devIdLabel; }
    QLabel* stepLabel() const { return m_stepLabel; }
    QLabel* resultLabel() const { return m_resultLabel; }
    QLabel* countLabel() const { return m_countLabel; }
    QProgressBar* progress() const { return m_progress; }

private:
    void updateCount();

    QString m_port;
    bool m_busy = false;
    int m_ok = 0;
    int m_rework = 0;
    QStringList m_finished;
    QLabel* m_portLabel;
    QLabel* m_devIdLabel;
    QLabel* m_stepLabel;
    QLabel* m_resultLabel;
    QLabel* m_countLabel;
    QProgressBar* m_progress;
};

/// Progress of a step out of kSteps: allocated 1 … committed 5; -1 for an unknown step.
int stepProgress(const QString& step);
inline constexpr int kSteps = 5;

}  // namespace tte::gui
