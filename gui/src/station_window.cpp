// The operator's window built: its widgets, menus, keys and seat tiles (see station_window.h).
// Its actions are in station_window_actions.cpp, its reactions to the runner's reports in
// station_window_events.cpp.
#include "tte/gui/station_window.h"

#include <QFileDialog>

#include <algorithm>
#include <QFontDatabase>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace tte::gui {
namespace {

/// A button for gloves: big, its key on it (the key itself is the menu action's: it acts at
/// once, where a button's own shortcut clicks it only after an animation).
QPushButton* bigButton(const QString& text, Qt::Key key, const QString& objectName) {
    auto* b = new QPushButton(QString("%1  [%2]").arg(text, QKeySequence(key).toString(QKeySequence::NativeText)));
    b->setObjectName(objectName);
    b->setMinimumSize(170, 64);
    b->setStyleSheet("QPushButton { font-size: 17pt; font-weight: bold; padding: 6px 14px; }"
                     "QPushButton:focus { border: 4px solid black; }");
    return b;
}

}  // namespace

StationWindow::StationWindow(PartsFactory factory, QWidget* parent) : QMainWindow(parent), m_factory(std::move(factory)) {
    setWindowTitle("TTE station");
    QFont f = font();
    f.setPointSize(13);  // readable from a metre away; the tiles and counters are larger still
    setFont(f);
    buildUi();
    buildMenus();
    m_timer = new QTimer(this);
    m_timer->setInterval(1000);
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (m_runner) m_runner->refresh();
    });
    updateButtons();
}

StationWindow::~StationWindow() = default;

QWidget* StationWindow::buildCounters() {
    // The supervisor's numbers, the same as `tte-provision status` (station::stationStatus).
    auto* box = new QWidget;
    box->setObjectName("counters");
    auto* grid = new QGridLayout(box);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(18);
    const QStringList names = {"done", "failed", "reworked", "yield", "perHour"};
    const QStringList titles = {"done", "failed", "reworked", "yield", "devices / hour"};
    for (int c = 0; c < names.size(); ++c) {
        auto* t = new QLabel(titles[c]);
        t->setStyleSheet("font-size: 12pt; color: #444;");
        t->setAlignment(Qt::AlignCenter);
        grid->addWidget(t, 0, c + 1);
    }
    int row = 1;
    for (const QString period : {"lot", "shift"}) {
        auto* p = new QLabel(period == "lot" ? "Lot" : "Shift");
        p->setObjectName(period + "Title");
        p->setStyleSheet("font-size: 15pt; font-weight: bold;");
        grid->addWidget(p, row, 0);
        for (int c = 0; c < names.size(); ++c) {
            auto* v = new QLabel("–");
            v->setObjectName(period + "-" + names[c]);
            v->setAlignment(Qt::AlignCenter);
            v->setStyleSheet("font-size: 22pt; font-weight: bold;");
            v->setMinimumWidth(130);  // "100.0 %" at 22pt
            grid->addWidget(v, row, c + 1);
            m_counters.insert(period + "/" + names[c], v);
        }
        ++row;
    }
    return box;
}

QWidget* StationWindow::buildBanner() {
    // The line stops: one band across the window, what is wrong and the one thing to do.
    m_banner = new QWidget;
    m_banner->setObjectName("lineBanner");
    m_banner->setAttribute(Qt::WA_StyledBackground, true);
    m_banner->setStyleSheet("#lineBanner { background: #e69f00; border: 4px solid #000000; border-radius: 6px; }"
                            "#lineBanner QLabel { color: #000000; }");
    auto* layout = new QHBoxLayout(m_banner);
    m_bannerIcon = new SeatIcon;
    m_bannerIcon->setState(SeatState::held, Qt::black);
    auto* words = new QVBoxLayout;
    m_bannerTitle = new QLabel;
    m_bannerTitle->setObjectName("lineBannerTitle");
    m_bannerTitle->setStyleSheet("font-size: 24pt; font-weight: bold;");
    m_bannerAction = new QLabel;
    m_bannerAction->setObjectName("lineBannerAction");
    m_bannerAction->setWordWrap(true);
    m_bannerAction->setStyleSheet("font-size: 20pt; font-weight: bold;");
    m_bannerText = new QLabel;
    m_bannerText->setObjectName("lineBannerText");
    m_bannerText->setWordWrap(true);
    m_bannerText->setStyleSheet("font-size: 14pt;");
    words->addWidget(m_bannerTitle);
    words->addWidget(m_bannerAction);
    words->addWidget(m_bannerText);
    m_resume = bigButton("Resume", kResumeKey, "resume");
    m_resume->setToolTip("The fault is dealt with: the line goes on (a waiting label is printed again)");
    layout->addWidget(m_bannerIcon, 0, Qt::AlignTop);
    layout->addLayout(words, 1);
    layout->addWidget(m_resume, 0, Qt::AlignVCenter);
    m_banner->hide();
    connect(m_resume, &QPushButton::clicked, this, [this] {
        if (m_runner) m_runner->resumeLine();
    });
    return m_banner;
}

void StationWindow::buildUi() {
    auto* central = new QWidget;
    auto* top = new QVBoxLayout(central);

    // Top: the lot and who signed in on the left, the counters on the right.
    auto* header = new QHBoxLayout;
    auto* who = new QVBoxLayout;
    m_lot = new QLabel("No station config open: File → Open… (Ctrl+O)");
    m_lot->setObjectName("lot");
    m_lot->setWordWrap(true);
    m_lot->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_operator = new QLabel("Nobody signed in");
    m_operator->setObjectName("operator");
    m_operator->setStyleSheet("font-size: 16pt; font-weight: bold;");
    who->addWidget(m_operator);
    who->addWidget(m_lot);
    header->addLayout(who, 1);
    header->addWidget(buildCounters());
    top->addLayout(header);
    top->addWidget(buildBanner());

    // The keys: Start/Stop on the left, what acts on the picked seat on the right.
    auto* controls = new QHBoxLayout;
    auto* countTitle = new QLabel("Boards");
    countTitle->setStyleSheet("font-size: 15pt;");
    m_count = new QSpinBox;
    m_count->setObjectName("count");
    m_count->setRange(0, 100000);
    m_count->setSpecialValueText("no limit");
    m_count->setMinimumHeight(48);
    m_count->setStyleSheet("font-size: 15pt;");
    m_count->setToolTip("How many boards to provision (0: every board present, or no limit on a fixture with seats)");
    countTitle->setBuddy(m_count);
    m_start = bigButton("Start", kStartKey, "start");
    m_stop = bigButton("Stop", kStopKey, "stop");
    m_rework = bigButton("Rework", kReworkKey, "rework");
    m_reprint = bigButton("Reprint", kReprintKey, "reprint");
    m_logToggle = bigButton("Log", kLogKey, "logToggle");
    m_logToggle->setCheckable(true);
    m_verify = new QPushButton("Verify journal");
    m_verify->setObjectName("verify");
    controls->addWidget(countTitle);
    controls->addWidget(m_count);
    controls->addWidget(m_start);
    controls->addWidget(m_stop);
    controls->addStretch();
    controls->addWidget(m_rework);
    controls->addWidget(m_reprint);
    controls->addWidget(m_logToggle);
    top->addLayout(controls);
    connect(m_start, &QPushButton::clicked, this, [this] { startRun(m_count->value()); });
    connect(m_stop, &QPushButton::clicked, this, &StationWindow::stopRun);
    connect(m_verify, &QPushButton::clicked, this, &StationWindow::verifyJournal);
    connect(m_reprint, &QPushButton::clicked, this, &StationWindow::askReprintReason);
    connect(m_rework, &QPushButton::clicked, this, [this] { reworkDevice(selectedPort()); });
    connect(m_logToggle, &QPushButton::clicked, this, &StationWindow::toggleDetails);

    // The seats: one large tile each.
    m_tileArea = new QWidget;
    m_tileArea->setObjectName("seats");
    m_tileGrid = new QGridLayout(m_tileArea);
    m_tileGrid->setSpacing(12);
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_tileArea);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setFocusPolicy(Qt::NoFocus);
    top->addWidget(scroll, 3);

    // Folded away by default: the device table and the log.
    m_details = new QWidget;
    m_details->setObjectName("details");
    auto* detailsLayout = new QVBoxLayout(m_details);
    detailsLayout->setContentsMargins(0, 0, 0, 0);
    auto* split = new QSplitter(Qt::Horizontal);
    m_devices = new QTableWidget(0, 4);
    m_devices->setObjectName("devices");
    m_devices->setHorizontalHeaderLabels({"Port", "Dev ID", "State", "Detail"});
    m_devices->horizontalHeader()->setStretchLastSection(true);
    m_devices->verticalHeader()->hide();
    m_devices->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_devices->setSelectionMode(QAbstractItemView::SingleSelection);
    m_devices->setEditTriggers(QAbstractItemView::NoEditTriggers);
    connect(m_devices, &QTableWidget::itemSelectionChanged, this, [this] {
        const auto rows = m_devices->selectionModel()->selectedRows();
        if (!rows.isEmpty()) pick(m_devices->item(rows.front().row(), 0)->text());
    });
    m_log = new QPlainTextEdit;
    m_log->setObjectName("log");
    m_log->setReadOnly(true);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_log->setMaximumBlockCount(5000);
    split->addWidget(m_devices);
    split->addWidget(m_log);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto* detailKeys = new QHBoxLayout;
    detailKeys->addWidget(m_verify);
    detailKeys->addStretch();
    detailsLayout->addLayout(detailKeys);
    detailsLayout->addWidget(split);
    m_details->hide();
    top->addWidget(m_details, 2);
    setCentralWidget(central);

    m_backlog = new QLabel("Upload backlog: –");
    m_backlog->setObjectName("backlog");
    // Cut at the window's edge rather than drawn under the MotherShip's state.
    m_backlog->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_motherShip = new QLabel("MotherShip: –");
    m_motherShip->setObjectName("mothership");
    statusBar()->addWidget(m_backlog, 1);
    statusBar()->addPermanentWidget(m_motherShip);
}

void StationWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu("&File");
    file->addAction("&Open station config…", QKeySequence::Open, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, "Open station config", {}, "Station config (*.toml)");
        if (!path.isEmpty()) openConfig(path);
    });
    file->addAction("S&ign in…", QKeySequence(Qt::CTRL | Qt::Key_I), this, &StationWindow::askSignIn);
    file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);
    // The floor's keys: each works wherever the focus is, and only when its button would.
    QMenu* station = menuBar()->addMenu("&Station");
    station->addAction("&Start run", QKeySequence(kStartKey), this, [this] {
        if (m_start->isEnabled()) startRun(m_count->value());
    });
    station->addAction("S&top run", QKeySequence(kStopKey), this, [this] {
        if (m_stop->isEnabled()) stopRun();
    });
    station->addAction("&Resume the line", QKeySequence(kResumeKey), this, [this] {
        if (m_runner && m_resume->isVisible()) m_runner->resumeLine();
    });
    station->addAction("&Verify journal", this, &StationWindow::verifyJournal);
    QMenu* device = menuBar()->addMenu("&Device");
    device->addAction("R&ework the picked seat's board", QKeySequence(kReworkKey), this, [this] {
        if (m_rework->isEnabled()) reworkDevice(selectedPort());
    });
    device->addAction("&Reprint its label…", QKeySequence(kReprintKey), this, [this] {
        if (m_reprint->isEnabled()) askReprintReason();
    });
    QMenu* view = menuBar()->addMenu("&View");
    view->addAction("Show/hide &log and device table", QKeySequence(kLogKey), this, &StationWindow::toggleDetails);
    // Seats by number: 1 … 9 pick the seat (the keyboard's way to "point at" a board).
    for (int i = 0; i < 9; ++i) {
        auto* s = new QShortcut(QKeySequence(Qt::Key_1 + i), this);
        connect(s, &QShortcut::activated, this, [this, i] {
            if (i < static_cast<int>(m_tiles.size())) m_tiles[static_cast<std::size_t>(i)]->setFocus(Qt::ShortcutFocusReason);
        });
    }
}

void StationWindow::layoutTiles() {
    // Four columns of equal width, as many rows as it takes (the area scrolls beyond two).
    constexpr int kColumns = 4;
    for (auto* t : m_tiles) m_tileGrid->removeWidget(t);
    for (std::size_t i = 0; i < m_tiles.size(); ++i)
        m_tileGrid->addWidget(m_tiles[i], static_cast<int>(i) / kColumns, static_cast<int>(i) % kColumns);
    for (int c = 0; c < kColumns; ++c) m_tileGrid->setColumnStretch(c, 1);
}

void StationWindow::toggleDetails() {
    m_details->setVisible(!m_details->isVisible());
    m_logToggle->setChecked(m_details->isVisible());
}

SeatTile* StationWindow::seatTile(const QString& name) const {
    for (auto* t : m_tiles)
        if (t->name() == name) return t;
    return nullptr;
}

QLabel* StationWindow::counter(const QString& period, const QString& name) const {
    return m_counters.value(period + "/" + name, nullptr);
}

void StationWindow::buildTiles() {
    for (auto* t : m_tiles) delete t;
    m_tiles.clear();
    m_tileOf.clear();
    m_picked.clear();
    const station::StationConfig& c = m_runner->config();
    // A tile per seat, named as on the fixture; the old slot form has no seats: a tile per
    // port, made when its first board shows (onSeatEvent).
    for (const station::Seat& seat : c.seats) {
        auto* t = new SeatTile(QString::fromStdString(seat.name), QString::fromStdString(seat.port));
        m_tiles.push_back(t);
        m_tileOf.insert(t->port(), t);
        connect(t, &SeatTile::picked, this, &StationWindow::pick);
    }
    layoutTiles();
    // Focus order: the count, Start, Stop, the seats in order, Rework, Reprint, Log.
    QWidget* previous = m_stop;
    setTabOrder(m_count, m_start);
    setTabOrder(m_start, m_stop);
    for (auto* t : m_tiles) {
        setTabOrder(previous, t);
        previous = t;
    }
    setTabOrder(previous, m_rework);
    setTabOrder(m_rework, m_reprint);
    setTabOrder(m_reprint, m_logToggle);
}

}  // namespace tte::gui
