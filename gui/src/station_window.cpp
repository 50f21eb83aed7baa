// The operator's window: layout, opening a station config, and the operator's actions
// (see station_window.h). Reactions to the runner's reports are in station_window_events.cpp.
#include "tte/gui/station_window.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTableWidget>
#include <QTime>
#include <QTimer>
#include <QVBoxLayout>

namespace tte::gui {

StationWindow::StationWindow(PartsFactory factory, QWidget* parent) : QMainWindow(parent), m_factory(std::move(factory)) {
    setWindowTitle("TTE station");
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

void StationWindow::buildUi() {
    auto* central = new QWidget;
    auto* top = new QVBoxLayout(central);
    // The line's hold: one sentence across the window, what is wrong and the one thing to do.
    m_banner = new QWidget;
    m_banner->setObjectName("lineBanner");
    m_banner->setAttribute(Qt::WA_StyledBackground, true);
    m_banner->setStyleSheet("#lineBanner { background: #fff3cd; border: 2px solid #d98c00; border-radius: 4px; }");
    auto* bannerLayout = new QHBoxLayout(m_banner);
    auto* bannerTitle = new QLabel("LINE HELD");
    bannerTitle->setStyleSheet("color: #8a4b00; font-weight: bold; font-size: 14pt;");
    m_bannerText = new QLabel;
    m_bannerText->setObjectName("lineBannerText");
    m_bannerText->setWordWrap(true);
    m_bannerText->setStyleSheet("color: #3d2600; font-size: 13pt;");
    m_resume = new QPushButton("Resume");
    m_resume->setToolTip("The fault is dealt with: print the waiting label again");
    bannerLayout->addWidget(bannerTitle);
    bannerLayout->addWidget(m_bannerText, 1);
    bannerLayout->addWidget(m_resume);
    m_banner->hide();
    top->addWidget(m_banner);
    connect(m_resume, &QPushButton::clicked, this, [this] {
        if (m_runner) m_runner->resumeLine();
    });

    auto* lotBox = new QGroupBox("Lot");
    auto* lotLayout = new QVBoxLayout(lotBox);
    m_lot = new QLabel("No station config open: File → Open…");
    m_lot->setObjectName("lot");
    m_lot->setTextInteractionFlags(Qt::TextSelectableByMouse);
    lotLayout->addWidget(m_lot);
    top->addWidget(lotBox);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel("Devices"));
    m_count = new QSpinBox;
    m_count->setRange(0, 100000);
    m_count->setSpecialValueText("all present");
    m_count->setToolTip("How many devices to provision (all fresh devices present when 0)");
    controls->addWidget(m_count);
    m_start = new QPushButton("Start");
    m_stop = new QPushButton("Stop");
    m_verify = new QPushButton("Verify journal");
    m_reprint = new QPushButton("Reprint label…");
    m_rework = new QPushButton("Rework");
    for (auto* b : {m_start, m_stop, m_verify}) controls->addWidget(b);
    controls->addStretch();
    controls->addWidget(new QLabel("Selected device:"));
    controls->addWidget(m_reprint);
    controls->addWidget(m_rework);
    top->addLayout(controls);
    connect(m_start, &QPushButton::clicked, this, [this] { startRun(m_count->value()); });
    connect(m_stop, &QPushButton::clicked, this, &StationWindow::stopRun);
    connect(m_verify, &QPushButton::clicked, this, &StationWindow::verifyJournal);
    connect(m_reprint, &QPushButton::clicked, this, &StationWindow::askReprintReason);
    connect(m_rework, &QPushButton::clicked, this, [this] { reworkDevice(selectedPort()); });

    m_slotArea = new QWidget;
    new QGridLayout(m_slotArea);
    top->addWidget(m_slotArea);

    auto* split = new QSplitter(Qt::Horizontal);
    m_devices = new QTableWidget(0, 4);
    m_devices->setObjectName("devices");
    m_devices->setHorizontalHeaderLabels({"Port", "Dev ID", "State", "Detail"});
    m_devices->horizontalHeader()->setStretchLastSection(true);
    m_devices->verticalHeader()->hide();
    m_devices->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_devices->setSelectionMode(QAbstractItemView::SingleSelection);
    m_devices->setEditTriggers(QAbstractItemView::NoEditTriggers);
    connect(m_devices, &QTableWidget::itemSelectionChanged, this, &StationWindow::updateButtons);
    m_log = new QPlainTextEdit;
    m_log->setObjectName("log");
    m_log->setReadOnly(true);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_log->setMaximumBlockCount(5000);
    split->addWidget(m_devices);
    split->addWidget(m_log);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    top->addWidget(split, 1);
    setCentralWidget(central);

    m_backlog = new QLabel("Upload backlog: –");
    m_backlog->setObjectName("backlog");
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
    file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);
    QMenu* station = menuBar()->addMenu("&Station");
    station->addAction("&Start run", this, [this] { startRun(m_count->value()); });
    station->addAction("S&top run", this, &StationWindow::stopRun);
    station->addAction("&Verify journal", this, &StationWindow::verifyJournal);
    QMenu* device = menuBar()->addMenu("&Device");
    device->addAction("&Reprint label…", this, &StationWindow::askReprintReason);
    device->addAction("R&ework", this, [this] { reworkDevice(selectedPort()); });
}

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
    m_ready = false;
    m_firmware.clear();
    m_quotaLeft.clear();
    m_devices->setRowCount(0);
    m_slotOf.clear();
    auto* grid = static_cast<QGridLayout*>(m_slotArea->layout());
    for (auto* s : m_slots) delete s;
    m_slots.clear();
    const int n = std::max(1, m_runner->config().slots);
    const int columns = std::min(n, 4);
    for (int i = 0; i < n; ++i) {
        m_slots.push_back(new SlotPanel(i + 1));
        grid->addWidget(m_slots.back(), i / columns, i % columns);
    }
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

void StationWindow::startRun(int count) {
    if (!m_runner || !m_ready || m_runner->running()) return;
    for (auto* s : m_slots) s->clear();
    m_slotOf.clear();
    m_runner->start(count);
}

void StationWindow::stopRun() {
    if (m_runner) m_runner->stop();
}

void StationWindow::reworkDevice(const QString& port) {
    if (!m_runner || port.isEmpty()) return;
    log("rework", "erasing the device at " + port);
    m_runner->rework(port);
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
