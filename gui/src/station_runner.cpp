// Worker threads of the operator's window (see station_runner.h).
#include "tte/gui/station_runner.h"

#include <QByteArray>
#include <QMetaObject>
#include <QPointer>
#include <QStringList>

#include <map>
#include <mutex>

#include "tte/base/hex.h"
#include "tte/station/operations.h"

namespace tte::gui {
namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }
QString hex8(std::uint32_t v) { return q(toHex(v, 8)); }

/// Parts are made on first use, and the runner's tasks ask for them from several threads:
/// one at a time. The parts themselves are thread-safe once made (DESIGN: "Threads and I/O").
class SerialParts final : public station::StationParts {
public:
    explicit SerialParts(std::unique_ptr<station::StationParts> inner) : m_inner(std::move(inner)) {}
    template <class F>
    decltype(auto) locked(F&& f) {
        std::lock_guard lock(m_mutex);
        return f();
    }
    const station::StationConfig& config() const override { return m_inner->config(); }
    Clock& clock() override { return m_inner->clock(); }
    Result<station::StationKeys*> keys() override { return locked([&] { return m_inner->keys(); }); }
    Result<station::Journal*> journal() override { return locked([&] { return m_inner->journal(); }); }
    Result<station::DeviceFlasher*> flasher() override { return locked([&] { return m_inner->flasher(); }); }
    Result<station::LabelPrinter*> printer() override { return locked([&] { return m_inner->printer(); }); }
    station::BlockEncoder& encoder() override { return locked([&]() -> auto& { return m_inner->encoder(); }); }
    station::MotherShipClient& mothership() override {
        return locked([&]() -> auto& { return m_inner->mothership(); });
    }
    Result<station::Pipeline*> pipeline() override { return locked([&] { return m_inner->pipeline(); }); }
    Result<station::Uploader*> uploader() override { return locked([&] { return m_inner->uploader(); }); }
    bool needsPin() override { return locked([&] { return m_inner->needsPin(); }); }
    Status signIn(const Secret& pin) override { return locked([&] { return m_inner->signIn(pin); }); }

private:
    std::unique_ptr<station::StationParts> m_inner;
    std::mutex m_mutex;
};

/// One pass over the journal: each port's latest device and its latest state.
QList<DeviceRow> deviceRows(const std::vector<station::JournalEntry>& all) {
    QList<DeviceRow> rows;
    std::map<std::uint32_t, qsizetype> rowOf;  // devid → index in rows
    std::map<QString, qsizetype> portRow;
    for (const auto& e : all) {
        if (!e.devId || e.kind == "delivered") continue;
        if (e.kind == "allocated") {
            const QString port = q(e.body.value("port", ""));
            auto it = portRow.find(port);
            const qsizetype i = it != portRow.end() ? it->second : rows.size();
            if (i == rows.size()) rows.append(DeviceRow{});
            rows[i] = DeviceRow{port, *e.devId, "allocated", {}};
            portRow[port] = i;
            rowOf[*e.devId] = i;
            continue;
        }
        auto it = rowOf.find(*e.devId);
        if (it == rowOf.end() || rows[it->second].devId != *e.devId) continue;  // the port has a newer device
        DeviceRow& r = rows[it->second];
        if (e.kind == "rejected" && e.body.value("kind", "") != "record") continue;
        r.state = q(e.kind);
        r.detail = e.kind == "failed" ? "rework: " + q(e.body.value("step", "")) + ": " + q(e.body.value("reason", "")) : QString();
    }
    return rows;
}

}  // namespace

StationRunner::StationRunner(std::unique_ptr<station::StationParts> parts, QObject* parent)
    : QObject(parent), m_parts(std::make_unique<SerialParts>(std::move(parts))) {
    m_pool.setMaxThreadCount(3);  // the run, one operation, one probe
}

StationRunner::~StationRunner() {
    m_stop = true;
    m_pool.waitForDone();  // a run finishes the devices in the slots; check() may start the upload loop
    if (m_uploading) {
        if (auto up = m_parts->uploader()) (*up)->stop();
    }
    if (m_uploadThread.joinable()) m_uploadThread.join();
}

void StationRunner::submit(std::function<void()> work) { m_pool.start(std::move(work)); }

void StationRunner::post(std::function<void()> fn) {
    QMetaObject::invokeMethod(this, std::move(fn), Qt::QueuedConnection);
}

void StationRunner::signIn(const QString& pin) {
    QByteArray bytes = pin.toUtf8();
    auto secret = std::make_shared<Secret>(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.constData()), static_cast<std::size_t>(bytes.size())));
    secureZero(bytes.data(), static_cast<std::size_t>(bytes.size()));
    submit([this, secret] {
        auto s = m_parts->signIn(*secret);
        const QString text = s ? QString() : q(s.error().message);
        if (s) m_needsPin = false;
        post([this, ok = bool(s), text] { Q_EMIT signInResult(ok, text); });
        if (s) check();  // the token is open now: journal, flasher, firmware, printer
    });
}

void StationRunner::check() {
    submit([this] {
        if (m_parts->needsPin()) {
            // Nothing opens the token before the operator typed its PIN (sign-in).
            m_needsPin = true;
            post([this] {
                Q_EMIT pinNeeded();
                Q_EMIT checked(false, {});
            });
            return;
        }
        QStringList problems;  // every part that is not ready, in one dialog
        auto report = [&](const QString& part, const Error& e) { problems << part + ": " + q(e.toString()); };
        QString firmware;
        if (auto j = m_parts->journal(); !j) report("HSM token / journal", j.error());
        if (auto f = m_parts->flasher(); !f) {
            report("Flasher", f.error());
        } else if (auto fw = (*f)->loadFirmware(config().lot.firmware); !fw) {
            report("Firmware", fw.error());
        } else {
            firmware = q(fw->sha256);
        }
        if (auto p = m_parts->printer(); !p) report("Printer", p.error());
        const bool ready = problems.isEmpty();
        if (ready) {
            if (auto up = m_parts->uploader(); up && !m_uploading.exchange(true)) {
                // The MotherShip out of reach too long holds the pipeline's line (docs/STATION.md).
                if (auto p = m_parts->pipeline()) (*up)->setLineHold(&(*p)->lineHold());
                m_uploadThread = std::thread([u = *up] { u->serve(); });
            }
        }
        post([this, ready, firmware, problems] {
            if (!ready) Q_EMIT problem("Station not ready", problems.join("\n"));
            Q_EMIT checked(ready, firmware);
        });
    });
}

void StationRunner::start(int count) {
    if (m_running) return;
    m_running = true;
    m_stop = false;
    Q_EMIT runStarted();
    submit([this, count] { runTask(count); });
}

void StationRunner::stop() {
    if (!m_running) return;
    m_stop = true;
    Q_EMIT logEvent("stop", "the slots finish the devices they hold, then the run stops");
}

void StationRunner::resumeLine() {
    if (station::Pipeline* p = m_pipeline.load()) {
        p->lineHold().operatorResume();
        Q_EMIT logEvent("line", "the operator pressed Resume");
    }
}

void StationRunner::runTask(int count) {
    auto finish = [this](int ok, int failed, const QString& summary) {
        post([this, ok, failed, summary] {
            m_running = false;
            Q_EMIT runFinished(ok, failed, summary);
            refresh();
        });
    };
    auto p = m_parts->pipeline();
    if (!p) {
        post([this, text = q(p.error().toString())] { Q_EMIT problem("Station", text); });
        return finish(0, 0, "not started");
    }
    station::Pipeline& pipeline = **p;
    if (!config().seats.empty() && m_operator.empty()) {
        post([this] { Q_EMIT problem("Sign in", "a fixture with seats needs the operator's name (tte-station --operator NAME)"); });
        return finish(0, 0, "not started: nobody signed in");
    }
    if (auto j = m_parts->journal(); j && !m_operator.empty()) (*j)->setOperator(m_operator);
    if (auto warning = station::lockWarning(config().lot); !warning.empty())
        post([this, w = q(warning)] { Q_EMIT logEvent("lot", w); });
    std::string notice;
    if (auto s = station::openLotWithQuota(config(), pipeline, m_parts->mothership(), notice); !s) {
        post([this, text = q(s.error().toString())] { Q_EMIT problem("Lot", text); });
        return finish(0, 0, "lot not opened");
    }
    if (!notice.empty()) post([this, n = q(notice)] { Q_EMIT logEvent("mothership", n); });
    ++m_changes;  // openLot and recover() journal
    if (auto r = pipeline.recover(); r && *r > 0)
        post([this, n = *r] { Q_EMIT logEvent("recover", QString("%1 interrupted device(s) marked failed (rework)").arg(n)); });
    pipeline.setObserver([this](const station::SlotEvent& e) {
        if (!e.transient()) ++m_changes;
        SeatEvent seat{q(e.port), q(e.seat), e.devId, q(e.step), q(e.message), e.bytesDone, e.bytesTotal, q(e.label), e.transient(), q(e.hold)};
        post([this, seat] { Q_EMIT seatEvent(seat); });
        if (e.step == "committed") {
            if (auto up = m_parts->uploader()) (*up)->poke();
        }
    });
    pipeline.lineHold().setObserver([this](const station::LineState& l) {
        LineView view{l.held, q(std::string(station::holdReasonName(l.reason))), q(l.problem), q(l.action), q(l.text()),
                      l.byItself};
        post([this, view] { Q_EMIT lineChanged(view); });
    });
    m_pipeline = &pipeline;
    auto summary = config().seats.empty() ? pipeline.run(count, config().slots, {}, &m_stop)
                                          : pipeline.serve(count, std::chrono::milliseconds(config().watchMs), &m_stop);
    m_pipeline = nullptr;
    pipeline.setObserver({});
    pipeline.lineHold().setObserver({});
    if (!summary) {
        post([this, text = q(summary.error().toString())] { Q_EMIT problem("Run", text); });
        return finish(0, 0, "stopped: " + q(summary.error().toString()));
    }
    QString text = QString("provisioned %1, failed %2").arg(summary->committed).arg(summary->failed);
    for (const auto& f : summary->failures) text += "\n  " + q(f);
    finish(summary->committed, summary->failed, text);
}

void StationRunner::rework(const QString& port) {
    submit([this, port] {
        auto j = m_parts->journal();
        auto f = j ? m_parts->flasher() : Result<station::DeviceFlasher*>(std::unexpected(j.error()));
        if (j && !m_operator.empty()) (*j)->setOperator(m_operator);
        auto r = f ? station::reworkDevice(**j, **f, m_parts->encoder(), port.toStdString(),
                                           config().seatName(port.toStdString()))
                   : Result<station::ReworkResult>(std::unexpected(f.error()));
        ++m_changes;
        if (!r) return post([this, text = q(r.error().toString())] { Q_EMIT problem("Rework", text); });
        const QString id = hex8(r->devId);
        QString text = r->alreadyReworked
                           ? QString("device %1 at %2 is already reworked").arg(id, port)
                           : QString("device %1 at %2 erased; Dev ID %1 stays burned, the next run gives it a new one")
                                 .arg(id, port);
        post([this, port, devId = r->devId, text] {
            Q_EMIT reworked(port, devId, text);
            refresh();
        });
    });
}

void StationRunner::reworkLive(quint32 devId) {
    submit([this, devId] {
        auto j = m_parts->journal();
        auto f = j ? m_parts->flasher() : Result<station::DeviceFlasher*>(std::unexpected(j.error()));
        auto p = f ? m_parts->pipeline() : Result<station::Pipeline*>(std::unexpected(f.error()));
        auto u = p ? m_parts->uploader() : Result<station::Uploader*>(std::unexpected(p.error()));
        if (!u) return post([this, text = q(u.error().toString())] { Q_EMIT problem("Rework", text); });
        if (!m_operator.empty()) (*j)->setOperator(m_operator);
        // As `tte-provision rework --devid D`: the new identity goes into the station's open lot.
        std::string notice;
        if (auto s = station::openLotWithQuota(config(), **p, m_parts->mothership(), notice); !s)
            return post([this, text = q(s.error().toString())] { Q_EMIT problem("Rework", text); });
        if (!notice.empty()) post([this, n = q(notice)] { Q_EMIT logEvent("mothership", n); });
        const std::string reason = "reworked at station " + config().stationId +
                                   (m_operator.empty() ? std::string() : " by " + m_operator);
        const station::ReworkParts parts{**j, **f, m_parts->encoder(), m_parts->mothership(), **u, **p};
        auto r = station::reworkById(parts, devId, reason);
        ++m_changes;
        if (!r) {
            post([this, text = q(r.error().toString())] { Q_EMIT problem("Rework", text); });
            return post([this] { refresh(); });
        }
        const QString old = hex8(r->devId);
        const QString port = q(r->port);
        QString text;
        if (r->alreadyReworked) text = QString("device %1 at %2 is already reworked").arg(old, port);
        else if (r->erased) text = QString("device %1 at %2 erased; Dev ID %1 stays burned, the next run gives it a new one").arg(old, port);
        else text = QString("device %1 at %2 revoked at the MotherShip (%3); provisioned as %4, reworked from %1")
                        .arg(old, port, q(reason), hex8(r->newDevId.value_or(0)));
        if (!r->uploadNotice.empty()) text += "\n" + q(r->uploadNotice);
        post([this, port, oldId = r->devId, newId = r->newDevId.value_or(0), text] {
            Q_EMIT replaced(port, oldId, newId, text);
            refresh();
        });
    });
}

void StationRunner::reprint(const QString& port, const QString& reason) {
    submit([this, port, reason] {
        auto j = m_parts->journal();
        auto p = j ? m_parts->printer() : Result<station::LabelPrinter*>(std::unexpected(j.error()));
        auto r = p ? station::reprintLabel(**j, **p, port.toStdString(), reason.toStdString())
                   : Result<station::PrintedLabel>(std::unexpected(p.error()));
        ++m_changes;
        if (!r) return post([this, text = q(r.error().toString())] { Q_EMIT problem("Reprint", text); });
        post([this, port, text = QString("label of the device at %1 reprinted (%2): job %3, %4")
                                     .arg(port, reason, q(r->job), q(r->artefact))] { Q_EMIT reprinted(port, text); });
    });
}

void StationRunner::verifyJournal() {
    submit([this] {
        auto j = m_parts->journal();
        auto r = j ? (*j)->verify() : Result<station::VerifyReport>(std::unexpected(j.error()));
        if (!r) return post([this, text = q(r.error().toString())] { Q_EMIT problem("Journal", text); });
        QString text = r->ok() ? QString("journal verifies: %1 entries, head %2").arg(r->entries).arg(q(r->head))
                               : QString("journal does NOT verify: %1 problem(s)").arg(r->problems.size());
        for (const auto& p : r->problems) text += "\n" + q(p);
        post([this, ok = r->ok(), text] { Q_EMIT journalVerified(ok, text); });
    });
}

void StationRunner::refresh() {
    if (m_refreshing.exchange(true)) return;  // one probe at a time
    submit([this] { refreshTask(); });
}

void StationRunner::refreshTask() {
    auto j = m_parts->journal();
    auto up = j ? m_parts->uploader() : Result<station::Uploader*>(std::unexpected(j.error()));
    if (up) {
        if (auto s = station::stationStatus(config(), **j, **up, m_parts->clock().wallNow()))
            post([this, s = *s] { Q_EMIT statusChanged(s); });
        const std::uint64_t seen = m_changes;
        if (auto all = (*j)->entries(); all && m_changes == seen) {
            post([this, seen, rows = deviceRows(*all)] {
                if (m_changes == seen) Q_EMIT devicesChanged(rows);
            });
        }
    }
    auto quota = m_parts->mothership().lotQuota(config().lot.id);
    const QString text = quota ? QString("reachable; lot %1 quota %2..%3, %4 used")
                                     .arg(q(quota->lot), hex8(quota->first.value), hex8(quota->last.value))
                                     .arg(quota->used)
                               : "unreachable: " + q(quota.error().toString());
    post([this, ok = quota.has_value(), text] { Q_EMIT motherShipChanged(ok, text); });
    m_refreshing = false;
}

}  // namespace tte::gui
