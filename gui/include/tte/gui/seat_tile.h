// One fixture seat as the line operator sees it from a metre away: the seat's name as it is
// written on the fixture, the state as a colour (Okabe–Ito, safe for colour-blind eyes), an
// icon and a word, the flash's byte progress, the Dev ID and the label preview of the last
// board in the seat, and how many boards the seat finished.
#pragma once

#include <QFrame>
#include <QString>
#include <QStringList>

class QLabel;
class QProgressBar;

namespace tte::gui {

/// What a seat shows; each has its own colour, icon and word (seatStateWord).
enum class SeatState { empty, starting, flashing, verifying, locking, printing, held, done, rework };

/// The word on the tile for a board waiting for a line held for `holdFor` ("token":
/// "WAITING FOR TOKEN", "quota", "mothership"; "printer" or "": "WAITING FOR PRINTER").
QString waitingWord(const QString& holdFor);
/// The word on the tile: "EMPTY", "FLASHING", … "NEEDS REWORK", "WAITING FOR PRINTER".
QString seatStateWord(SeatState state);
/// The tile's colour for the state (Okabe–Ito palette; grey for empty).
QColor seatStateColour(SeatState state);
/// The seat state for a pipeline step ("allocated" … "committed", "failed", "waiting", …), or
/// `fallback` for a step that does not change what the seat shows.
SeatState seatStateOf(const QString& step, SeatState fallback);

/// A pipeline step of one seat, as the runner reports it (station::SlotEvent on the GUI thread).
struct SeatEvent {
    QString port;
    QString seat;
    quint32 devId = 0;
    QString step;
    QString message;
    quint64 bytesDone = 0;
    quint64 bytesTotal = 0;
    QString label;  ///< "labelled": the label image
    bool transient = false;  ///< a step the journal does not keep (station::SlotEvent::transient())
    QString hold = {};  ///< "waiting": what the line holds for ("printer", "token", "quota", "mothership")
};

/// The state's icon, painted (no icon font needed on the line PC).
class SeatIcon : public QWidget {
    Q_OBJECT
public:
    explicit SeatIcon(QWidget* parent = nullptr);
    void setState(SeatState state, const QColor& ink);
    [[nodiscard]] SeatState state() const { return m_state; }
    [[nodiscard]] QSize sizeHint() const override { return {56, 56}; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    SeatState m_state = SeatState::empty;
    QColor m_ink;
};

class SeatTile : public QFrame {
    Q_OBJECT
public:
    /// `name`: the seat's name on the fixture (the port in the old slot form).
    SeatTile(const QString& name, const QString& port, QWidget* parent = nullptr);

    /// Shows a step of the board in this seat.
    void showStep(const SeatEvent& event);
    /// Forgets the seat's last board and counts (a new run).
    void clear();

    [[nodiscard]] QString name() const { return m_name; }
    [[nodiscard]] QString port() const { return m_port; }
    [[nodiscard]] SeatState state() const { return m_state; }
    [[nodiscard]] quint32 devId() const { return m_devId; }
    /// True while the board in the seat is between "allocated" and its end.
    [[nodiscard]] bool busy() const;
    /// Dev IDs (8 hex) this seat finished in the run, "<id> ok" or "<id> rework".
    [[nodiscard]] const QStringList& finished() const { return m_finished; }
    [[nodiscard]] const QString& labelImage() const { return m_labelPath; }

    QLabel* nameLabel() const { return m_nameLabel; }
    QLabel* stateLabel() const { return m_stateLabel; }
    QLabel* devIdLabel() const { return m_devIdLabel; }
    QLabel* detailLabel() const { return m_detailLabel; }
    QLabel* countLabel() const { return m_countLabel; }
    QLabel* preview() const { return m_preview; }
    QProgressBar* progress() const { return m_progress; }
    SeatIcon* icon() const { return m_icon; }

Q_SIGNALS:
    /// The operator picked this seat (click or keyboard focus): Rework/Reprint act on it.
    void picked(const QString& port);

protected:
    void focusInEvent(QFocusEvent* event) override;
    void focusOutEvent(QFocusEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    void setState(SeatState state);
    void setPreview(const QString& path);
    void updateCount();
    void restyle();

    QString m_name;
    QString m_port;
    SeatState m_state = SeatState::empty;
    QString m_holdFor;  // what a waiting board waits for ("printer", "token", ...)
    quint32 m_devId = 0;
    int m_ok = 0;
    int m_rework = 0;
    QStringList m_finished;
    QString m_labelPath;
    QWidget* m_band;
    SeatIcon* m_icon;
    QLabel* m_nameLabel;
    QLabel* m_portLabel;
    QLabel* m_stateLabel;
    QLabel* m_devIdLabel;
    QProgressBar* m_progress;
    QLabel* m_detailLabel;
    QLabel* m_preview;
    QLabel* m_countLabel;
};

}  // namespace tte::gui
