// tte-station: the operator's window on the station core, wired to the real adapters (token,
// flasher or simulator directory, CUPS printer, MotherShip) exactly as tte-provision is.
// --start/--quit-when-done/--screenshot let a script drive it (offscreen: QT_QPA_PLATFORM).
// Flags are parsed (tte::cli) before Qt starts: --help, --version, --check-config and usage
// errors work over SSH without a display.
#include <QApplication>
#include <QPixmap>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <optional>

#include "tte/cli/program.h"
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
    QString operatorName;
    bool checkConfig = false;
};

/// Parses the flags before Qt starts, so --help, --version and a usage error need no display.
std::optional<int> parse(int argc, char** argv, Options& o) {
    CLI::App cli{"tte-station: the TTE provisioning station for line operators"};
    tte::cli::setUp(cli, "tte-station");
    std::string config, sim, screenshot, operatorName;
    cli.add_option("--operator", operatorName,
                   "who runs the line: named in every journal entry (without it the window asks at start)");
    cli.add_option("--config", config, "station config (station.toml)");
    cli.add_option("--sim", sim, "use the simulated devices in DIR (tte-flash sim create)")->type_name("DIR");
    cli.add_flag("--start", o.start, "start a run as soon as the station is ready");
    cli.add_option("--count", o.count, "provision at most N devices (default: every device present)")
        ->check(CLI::NonNegativeNumber);
    cli.add_flag("--quit-when-done", o.quitWhenDone, "quit when the run and its upload are done (exit 1 if a device failed)");
    cli.add_option("--screenshot", screenshot, "save the window as PNG to FILE before quitting")->type_name("FILE");
    tte::cli::addCheckConfig(cli, o.checkConfig);
    if (auto exit = tte::cli::parse(cli, argc, argv)) return exit;
    o.config = QString::fromStdString(config);
    o.sim = QString::fromStdString(sim);
    o.screenshot = QString::fromStdString(screenshot);
    o.operatorName = QString::fromStdString(operatorName);
    if ((o.start || o.quitWhenDone || o.checkConfig) && o.config.isEmpty())
        return tte::cli::usage("tte-station", "--start, --quit-when-done and --check-config need --config FILE");
    return std::nullopt;
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
    // A PKCS#11 module that talks to its token over a socket (p11-kit's client) writes to it
    // after the other end died: that must come back as the token's error, not end the station.
    std::signal(SIGPIPE, SIG_IGN);
    Options o;
    if (auto exit = parse(argc, argv, o)) return *exit;
    const std::string config = o.config.toStdString();
    if (o.checkConfig) return tte::cli::checkConfigResult(config, tte::station::checkConfigFiles(config));
    if (o.quitWhenDone) {  // a script gets the configuration's problem as a usage error, not a dialog
        if (auto c = tte::station::loadConfig(config); !c) return tte::cli::configFailed("tte-station", c.error());
    }
    int qtArgc = 1;  // the flags are ours; Qt takes its settings from the environment (QT_QPA_PLATFORM)
    QApplication app(qtArgc, argv);
    QApplication::setApplicationName("tte-station");
    tte::gui::StationWindow window([sim = o.sim.toStdString()](const tte::station::StationConfig& c)
                                       -> tte::Result<std::unique_ptr<tte::station::StationParts>> {
        return std::make_unique<tte::station::Wiring>(c, sim);
    });
    window.resize(1280, 900);
    window.show();
    if (!o.operatorName.isEmpty()) window.signIn(o.operatorName);
    if (!o.config.isEmpty()) {
        const bool opened = window.openConfig(o.config);
        if (!opened) {
            if (o.quitWhenDone) return tte::cli::usage("tte-station", window.errorDialog()->text().toStdString());
        } else if (o.start || o.quitWhenDone || !o.screenshot.isEmpty()) {
            script(window, o);
        }
    }
    // Who runs the line: asked at once when --operator did not say (not in a scripted run,
    // which has no one to answer; a fixture with seats then refuses to start).
    if (o.operatorName.isEmpty() && !o.quitWhenDone) window.askSignIn();
    return QApplication::exec();
}
