// One fixture seat's tile (see seat_tile.h).
#include "tte/gui/seat_tile.h"

#include <QFileInfo>
#include <QFontMetrics>
#include <QVariant>

#include <cmath>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>
#include <QProgressBar>
#include <QVBoxLayout>

namespace tte::gui {
namespace {

QString hex8(quint32 v) { return QString("%1").arg(v, 8, 16, QChar('0')); }

QFont pointFont(int points, bool bold) {
    QFont f;
    f.setPointSize(points);
    f.setBold(bold);
    return f;
}

/// "123.4 KiB" for the bar's text.
QString kib(quint64 bytes) { return QString::number(static_cast<double>(bytes) / 1024.0, 'f', 1); }

/// Black or white, whichever reads better on `background` (WCAG relative luminance).
QColor inkOn(const QColor& background) {
    const auto lin = [](double c) { return c <= 0.03928 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); };
    const double l = 0.2126 * lin(background.redF()) + 0.7152 * lin(background.greenF()) + 0.0722 * lin(background.blueF());
    return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? QColor(Qt::black) : QColor(Qt::white);
}

}  // namespace

QString waitingWord(const QString& holdFor) {
    if (holdFor == "token") return "WAITING FOR TOKEN";
    if (holdFor == "quota") return "WAITING FOR QUOTA";
    if (holdFor == "mothership") return "WAITING FOR MOTHERSHIP";
    return seatStateWord(SeatState::held);  // the printer (and events without a reason)
}

QString seatStateWord(SeatState state) {
    switch (state) {
    case SeatState::empty: return "EMPTY";
    case SeatState::starting: return "STARTING";
    case SeatState::flashing: return "FLASHING";
    case SeatState::verifying: return "VERIFYING";
    case SeatState::locking: return "LOCKING";
    case SeatState::printing: return "PRINTING";
    case SeatState::held: return "WAITING FOR PRINTER";
    case SeatState::done: return "DONE";
    case SeatState::rework: return "NEEDS REWORK";
    }
    return {};
}

QColor seatStateColour(SeatState state) {
    // Okabe & Ito (2008), "Color Universal Design": told apart with any colour vision; the
    // icon and the word say the same again.
    switch (state) {
    case SeatState::empty: return QColor(0xd9, 0xd9, 0xd9);
    case SeatState::starting:
    case SeatState::flashing: return QColor(0x56, 0xb4, 0xe9);   // sky blue
    case SeatState::verifying: return QColor(0x00, 0x72, 0xb2);  // blue
    case SeatState::locking: return QColor(0xcc, 0x79, 0xa7);    // reddish purple
    case SeatState::printing: return QColor(0xf0, 0xe4, 0x42);   // yellow
    case SeatState::held: return QColor(0xe6, 0x9f, 0x00);       // orange
    case SeatState::done: return QColor(0x00, 0x9e, 0x73);       // bluish green
    case SeatState::rework: return QColor(0xd5, 0x5e, 0x00);     // vermillion
    }
    return Qt::gray;
}

SeatState seatStateOf(const QString& step, SeatState fallback) {
    if (step == "empty") return SeatState::empty;
    if (step == "allocated" || step == "keyed") return SeatState::starting;
    if (step == "flashing") return SeatState::flashing;
    if (step == "verifying" || step == "flashed") return SeatState::verifying;
    if (step == "locking" || step == "locked") return SeatState::locking;
    if (step == "printing" || step == "labelled" || step == "reprint") return SeatState::printing;
    if (step == "waiting") return SeatState::held;
    if (step == "committed" || step == "done") return SeatState::done;
    if (step == "failed") return SeatState::rework;
    return fallback;
}

SeatIcon::SeatIcon(QWidget* parent) : QWidget(parent) { setFixedSize(56, 56); }

void SeatIcon::setState(SeatState state, const QColor& ink) {
    m_state = state;
    m_ink = ink;
    update();
}

void SeatIcon::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF r = QRectF(rect()).adjusted(6, 6, -6, -6);
    QPen pen(m_ink, 5, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    p.setPen(pen);
    p.setBrush(Qt::NoBrush);
    const QPointF c = r.center();
    const double w = r.width();
    switch (m_state) {
    case SeatState::empty:  // a hollow seat
        p.setPen(QPen(m_ink, 4, Qt::DashLine));
        p.drawRoundedRect(r, 6, 6);
        break;
    case SeatState::starting:
    case SeatState::flashing: {  // an arrow into the chip
        p.drawLine(QPointF(c.x(), r.top()), QPointF(c.x(), r.bottom() - 10));
        p.drawPolyline(QPolygonF({QPointF(c.x() - 12, r.bottom() - 22), QPointF(c.x(), r.bottom() - 10),
                                  QPointF(c.x() + 12, r.bottom() - 22)}));
        p.drawLine(QPointF(r.left(), r.bottom()), QPointF(r.right(), r.bottom()));
        break;
    }
    case SeatState::verifying: {  // a magnifier
        const QRectF lens(r.left(), r.top(), w * 0.62, w * 0.62);
        p.drawEllipse(lens);
        p.drawLine(lens.center() + QPointF(w * 0.22, w * 0.22), r.bottomRight());
        break;
    }
    case SeatState::locking: {  // a padlock
        const QRectF body(r.left() + 4, c.y() - 2, w - 8, r.bottom() - c.y() + 2);
        p.setBrush(m_ink);
        p.drawRoundedRect(body, 3, 3);
        p.setBrush(Qt::NoBrush);
        p.drawArc(QRectF(c.x() - w * 0.26, r.top(), w * 0.52, w * 0.6), 0, 180 * 16);
        p.drawLine(QPointF(c.x() - w * 0.26, r.top() + w * 0.3), QPointF(c.x() - w * 0.26, c.y() - 2));
        p.drawLine(QPointF(c.x() + w * 0.26, r.top() + w * 0.3), QPointF(c.x() + w * 0.26, c.y() - 2));
        break;
    }
    case SeatState::printing: {  // a label coming out of a printer
        p.drawRect(QRectF(r.left(), r.top() + w * 0.3, w, w * 0.35));
        p.drawRect(QRectF(r.left() + w * 0.2, r.top() + w * 0.65, w * 0.6, w * 0.35));
        p.drawLine(QPointF(r.left() + w * 0.2, r.top() + w * 0.3), QPointF(r.left() + w * 0.2, r.top()));
        p.drawLine(QPointF(r.left() + w * 0.2, r.top()), QPointF(r.left() + w * 0.8, r.top()));
        p.drawLine(QPointF(r.left() + w * 0.8, r.top()), QPointF(r.left() + w * 0.8, r.top() + w * 0.3));
        break;
    }
    case SeatState::held: {  // pause: the board waits
        p.setBrush(m_ink);
        p.setPen(Qt::NoPen);
        p.drawRect(QRectF(r.left() + w * 0.18, r.top(), w * 0.22, w));
        p.drawRect(QRectF(r.left() + w * 0.6, r.top(), w * 0.22, w));
        break;
    }
    case SeatState::done:  // a tick
        p.setPen(QPen(m_ink, 8, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        p.drawPolyline(QPolygonF({QPointF(r.left() + 2, c.y()), QPointF(c.x() - 4, r.bottom() - 4),
                                  QPointF(r.right() - 2, r.top() + 4)}));
        break;
    case SeatState::rework: {  // a cross
        p.setPen(QPen(m_ink, 8, Qt::SolidLine, Qt::RoundCap));
        p.drawLine(r.topLeft() + QPointF(4, 4), r.bottomRight() - QPointF(4, 4));
        p.drawLine(r.topRight() + QPointF(-4, 4), r.bottomLeft() + QPointF(4, -4));
        break;
    }
    }
}

SeatTile::SeatTile(const QString& name, const QString& port, QWidget* parent) : QFrame(parent), m_name(name), m_port(port) {
    setObjectName("seat-" + name);
    setProperty("seatTile", true);
    setFocusPolicy(Qt::StrongFocus);
    setAccessibleName("Seat " + name);
    setFrameShape(QFrame::NoFrame);
    setMinimumSize(250, 330);
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);

    m_band = new QWidget;
    m_band->setObjectName("band");
    m_band->setAttribute(Qt::WA_StyledBackground, true);
    auto* band = new QHBoxLayout(m_band);
    band->setContentsMargins(12, 8, 12, 8);
    m_icon = new SeatIcon;
    auto* words = new QVBoxLayout;
    words->setSpacing(0);
    auto* head = new QHBoxLayout;
    m_nameLabel = new QLabel(name);
    m_nameLabel->setObjectName("seatName");
    m_portLabel = new QLabel(name == port ? QString() : "port " + port);
    m_portLabel->setObjectName("seatPort");
    head->addWidget(m_nameLabel);
    head->addStretch();
    head->addWidget(m_portLabel, 0, Qt::AlignTop);
    m_stateLabel = new QLabel;
    m_stateLabel->setObjectName("seatState");
    m_stateLabel->setWordWrap(true);  // "NEEDS REWORK", "WAITING FOR PRINTER" on a narrow tile
    // Room for two lines in every state: the tiles stay aligned, and a wrapped word never
    // waits for a second layout pass to get its height.
    m_stateLabel->setMinimumHeight(2 * QFontMetrics(pointFont(20, true)).lineSpacing());
    m_stateLabel->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    words->addLayout(head);
    words->addWidget(m_stateLabel);
    band->addWidget(m_icon);
    band->addLayout(words, 1);
    v->addWidget(m_band);

    auto* body = new QWidget;
    body->setObjectName("body");
    body->setAttribute(Qt::WA_StyledBackground, true);
    auto* b = new QVBoxLayout(body);
    b->setContentsMargins(12, 8, 12, 8);
    m_progress = new QProgressBar;
    m_progress->setObjectName("bytes");
    m_progress->setMinimumHeight(30);
    m_progress->setTextVisible(true);
    m_devIdLabel = new QLabel;
    m_devIdLabel->setObjectName("devId");
    m_devIdLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_detailLabel = new QLabel;
    m_detailLabel->setObjectName("detail");
    m_detailLabel->setWordWrap(true);
    m_detailLabel->setMinimumHeight(2 * QFontMetrics(pointFont(14, false)).lineSpacing());
    m_detailLabel->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_preview = new QLabel;
    m_preview->setObjectName("labelPreview");
    m_preview->setAlignment(Qt::AlignCenter);
    m_preview->setMinimumHeight(110);
    m_countLabel = new QLabel;
    m_countLabel->setObjectName("seatCount");
    b->addWidget(m_devIdLabel);
    b->addWidget(m_progress);
    b->addWidget(m_detailLabel);
    b->addWidget(m_preview, 1);
    b->addWidget(m_countLabel);
    v->addWidget(body, 1);
    clear();
}

void SeatTile::clear() {
    m_devId = 0;
    m_ok = m_rework = 0;
    m_finished.clear();
    m_devIdLabel->setText("Dev ID –");
    m_detailLabel->clear();
    m_detailLabel->setToolTip({});
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(" ");
    m_progress->setVisible(false);  // shown with the first bytes of a flash
    setPreview({});
    setState(SeatState::empty);
    updateCount();
}

bool SeatTile::busy() const {
    return m_state != SeatState::empty && m_state != SeatState::done && m_state != SeatState::rework;
}

void SeatTile::showStep(const SeatEvent& e) {
    const SeatState previous = m_state;
    if (e.step == "waiting") m_holdFor = e.hold;
    const SeatState next = seatStateOf(e.step, m_state);
    if (e.devId == 0) {
        // The seat without a board in the pipeline: empty, or an old board still in it.
        if (e.step == "waiting") {
            // A new board in the seat that does not start while the line holds.
            m_devId = 0;
            m_devIdLabel->setText("Dev ID –");
            m_progress->setVisible(false);
            setPreview({});
            m_detailLabel->setText("a new board waits: " + e.message);
            setState(SeatState::held);
        } else if (e.step == "empty") {
            m_detailLabel->setText("put a blank board in");
        } else if (e.step == "done" || e.step == "failed" || e.step == "refused") {
            m_detailLabel->setText(e.message);
            setState(e.step == "done" ? SeatState::done : SeatState::rework);
        }
        if (e.step == "empty") setState(SeatState::empty);
        return;
    }
    if (e.step == "allocated") {
        m_devId = e.devId;
        m_detailLabel->clear();
        m_detailLabel->setToolTip({});
        setPreview({});
        m_progress->setRange(0, 1);
        m_progress->setValue(0);
        m_progress->setFormat(" ");
        m_progress->setVisible(false);
    }
    m_devId = e.devId;
    m_devIdLabel->setText("Dev ID " + hex8(e.devId));
    if ((e.step == "flashing" || e.step == "verifying") && e.bytesTotal > 0) {
        // QProgressBar counts in int: KiB keep a whole flash of 1 MiB far inside it.
        m_progress->setVisible(true);
        m_progress->setRange(0, static_cast<int>((e.bytesTotal + 1023) / 1024));
        m_progress->setValue(static_cast<int>((e.bytesDone + 1023) / 1024));
        if (e.bytesDone >= e.bytesTotal) m_progress->setValue(m_progress->maximum());
        m_progress->setFormat(QString("%1 / %2 KiB %3").arg(kib(e.bytesDone), kib(e.bytesTotal),
                                                              e.step == "flashing" ? "written" : "read back"));
        m_progress->setProperty("bytesDone", QVariant::fromValue(e.bytesDone));
        m_progress->setProperty("bytesTotal", QVariant::fromValue(e.bytesTotal));
    }
    if (e.step == "failed") {
        ++m_rework;
        m_finished << hex8(e.devId) + " rework";
        m_detailLabel->setText(e.message);
        m_detailLabel->setToolTip(e.message);
    } else if (e.step == "waiting") {
        m_detailLabel->setText(e.message);
    } else if (e.step == "reprint") {
        m_detailLabel->setText("label printed again");
        m_detailLabel->setToolTip(e.message);
    } else if (e.step == "labelled") {
        m_detailLabel->clear();
        setPreview(e.label);
    } else if (e.step == "committed") {
        ++m_ok;
        m_finished << hex8(e.devId) + " ok";
        m_detailLabel->setText("take the board out");
    } else if (previous == SeatState::held && next != SeatState::held) {
        m_detailLabel->clear();
    }
    setState(next);
    updateCount();
}

void SeatTile::setState(SeatState state) {
    m_state = state;
    restyle();
}

void SeatTile::restyle() {
    const QColor colour = seatStateColour(m_state);
    const QColor ink = inkOn(colour);
    m_icon->setState(m_state, ink);
    m_stateLabel->setText(m_state == SeatState::held ? waitingWord(m_holdFor) : seatStateWord(m_state));
    const bool focus = hasFocus();
    m_band->setStyleSheet(QString("#band { background: %1; }"
                                  "QLabel { color: %2; }"
                                  "#seatName { font-size: 30pt; font-weight: bold; }"
                                  "#seatPort { font-size: 12pt; }"
                                  "#seatState { font-size: 20pt; font-weight: bold; }")
                              .arg(colour.name(), ink.name()));
    setStyleSheet(QString("*[seatTile=\"true\"] { border: %1px solid %2; border-radius: 6px; background: white; }"
                          "#body { background: white; }"
                          "#body QLabel { color: #111; }"
                          "#devId { font-size: 20pt; font-family: monospace; font-weight: bold; }"
                          "#detail { font-size: 14pt; }"
                          "#seatCount { font-size: 13pt; color: #333; }"
                          "QProgressBar { font-size: 13pt; border: 1px solid #555; border-radius: 3px; text-align: center; }"
                          "QProgressBar { color: #000000; background: white; }"
                          "QProgressBar::chunk { background: %3; }")
                      .arg(focus ? 6 : 3)
                      .arg(focus ? "#000000" : colour.darker(130).name(), seatStateColour(SeatState::flashing).name()));
}

void SeatTile::setPreview(const QString& path) {
    m_labelPath = path;
    QPixmap image;
    if (!path.isEmpty() && QFileInfo(path).isFile()) image.load(path);
    if (image.isNull()) {
        m_preview->setPixmap({});
        m_preview->setText(path.isEmpty() ? QString() : "label printed (no preview: " + QFileInfo(path).fileName() + ")");
        return;
    }
    m_preview->setText({});
    m_preview->setPixmap(image.scaled(260, 120, Qt::KeepAspectRatio, Qt::SmoothTransformation));
}

void SeatTile::updateCount() { m_countLabel->setText(QString("%1 done · %2 rework in this run").arg(m_ok).arg(m_rework)); }

void SeatTile::focusInEvent(QFocusEvent* event) {
    QFrame::focusInEvent(event);
    restyle();
    Q_EMIT picked(m_port);
}

void SeatTile::focusOutEvent(QFocusEvent* event) {
    QFrame::focusOutEvent(event);
    restyle();
}

void SeatTile::mousePressEvent(QMouseEvent* event) {
    setFocus(Qt::MouseFocusReason);
    QFrame::mousePressEvent(event);
}

}  // namespace tte::gui
