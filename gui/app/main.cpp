// tte-station: the operator's window on the station core, wired to the real adapters (token,
// flasher or simulator directory, CUPS printer, MotherShip) exactly as tte-provision is.
// --start/--quit-when-done/--screenshot let a script drive it (offscreen: QT_QPA_PLATFORM).
#include <QApplication>
#include <QCommandLineParser>
#include <QPixmap>
#include <QTimer>

#include <cstdio>

#include "tte/gui/station_window.h"
#include "tte/station/wiring.h"

namespace {

struct Options {
    QString config;
    QString sim;
    bool start = false;
    int count = 0;
    bool quitWhenDone = false;
    QString screenshot;
};

Options parse(QApplication& app) {
    QCommandLineParser p;
    p.setApplicationDescription("tte-station: the TTE provisioning station for line operators");
    p.addHelpOption();
    p.addOption({"config", "station config (station.toml)", "FILE"});
    p.addOption({"sim", "use the simulated devices in DIR (tte-flash sim create)", "DIR"});
    p.addOption({"start", "start a run as soon as the station is ready"});
    p.addOption({"count", "provision at most N devices (default: every device present)", "N", "0"});
    p.addOption({"quit-when-done", "quit when the run and its upload are done (exit 1 if a device failed)"});
    p.addOption({"screenshot", "save the window as PNG to FILE before quitting", "FILE"});
    p.process(app);
    Options o{p.value("config"), p.value("sim"), p.isSet("start"), 0, p.isSet("quit-when-done"), p.value("screenshot")};
    bool ok = false;
    o.count = p.value("count").toInt(&ok);
    if (!ok || o.count < 0) {
        std::fprintf(stderr, "tte-station: --count must be a number >= 0\n");
        std::exit(2);
    }
    if ((o.start || o.quitWhenDone) && o.config.isEmpty()) {
        std::fprintf(stderr, "tte-station: --start and --quit-when-done need --config FILE\n");
        std::exit(2);
    }
    return o;
}

void finish(tte::gui::StationWindow& w, const Options& o, int code) {
    if (!o.screenshot.isEmpty() && !w.grab().save(o.screenshot)) {
        std::fprintf(stderr, "tte-station: cannot write %s\n", o.screenshot.toLocal8Bit().constData());
        code = 1;
    }
    if (o.quitWhenDone) QApplication::exit(code);
}

/// The scripted flow: start when ready, quit once the run is done and its upload drained.
void script(tte::gui::StationWindow& w, const Options& o) {
    auto* r = w.runner();
    QObject::connect(r, &tte::gui::StationRunner::problem, &w, [](const QString& title, const QString& text) {
        std::fprintf(stderr, "tte-station: %s: %s\n", title.toLocal8Bit().constData(), text.toLocal8Bit().constData());
    });
    QObject::connect(r, &tte::gui::StationRunner::checked, &w, [&w, o](bool ready, const QString&) {
        if (!ready) return finish(w, o, 1);
        if (o.start) w.startRun(o.count);
        else finish(w, o, 0);
    });
    QObject::connect(r, &tte::gui::StationRunner::runFinished, &w, [&w, r, o](int, int failed, const QString& summary) {
        std::printf("%s\n", summary.toLocal8Bit().constData());
        std::fflush(stdout);
        const int code = failed > 0 ? 1 : 0;
        auto* deadline = new QTimer(&w);
        deadline->setSingleShot(true);
        QObject::connect(deadline, &QTimer::timeout, &w, [&w, o, code] { finish(w, o, code); });
        QObject::connect(r, &tte::gui::StationRunner::statusChanged, deadline,
                         [&w, o, code, deadline](const tte::station::StationStatus& s) {
                             if (s.backlog.pending > 0 || !deadline->isActive()) return;
                             deadline->stop();
                             finish(w, o, code);
                         });
        deadline->start(20000);
    });
}

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("tte-station");
    const Options o = parse(app);
    tte::gui::StationWindow window([sim = o.sim.toStdString()](const tte::station::StationConfig& c)
                                       -> tte::Result<std::unique_ptr<tte::station::StationParts>> {
        return std::make_unique<tte::station::Wiring>(c, sim);
    });
    window.resize(1280, 860);
    window.show();
    if (!o.config.isEmpty()) {
        if (!window.openConfig(o.config)) {
            if (o.quitWhenDone) {
                std::fprintf(stderr, "tte-station: %s\n", window.errorDialog()->text().replace('\n', ' ').toLocal8Bit().constData());
                return 2;
            }
        } else if (o.start || o.quitWhenDone || !o.screenshot.isEmpty()) {
            script(window, o);
        }
    }
    return QApplication::exec();
}
