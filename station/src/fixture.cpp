// The fixture served continuously (Pipeline::serve): one worker per seat watches its port,
// provisions each new blank board put into it, shows a done board until it is taken out.
// The bus is watched with the flasher's hotplug events where it has them (libusb): a seat is
// looked at (its board asked who it is) only when the bus changed; otherwise every watch_ms.
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "tte/base/hex.h"
#include "tte/station/pipeline.h"

namespace tte::station {
namespace {

/// A look at the seat: no board (not listed, or gone while being asked), or who it is; its
/// USB serial changes when a board is swapped for another.
std::optional<BoardIdentity> look(DeviceFlasher& flasher, const std::string& port, const std::set<std::string>& listed) {
    if (!listed.contains(port)) return std::nullopt;
    auto id = flasher.identify(port);
    if (!id) return std::nullopt;
    return *id;
}

}  // namespace

Result<std::optional<std::string>> Pipeline::knownBoard(const BoardIdentity& board) {
    auto all = m_journal.entries();
    if (!all) return std::unexpected(all.error());
    const bool serialTells = !board.usbSerial.empty() && board.usbSerial != "FFFFFFFEFFFF";
    std::optional<std::uint32_t> devId;
    std::map<std::uint32_t, std::string> kind;
    for (const auto& e : *all) {
        if (!e.devId) continue;
        if (e.kind == "allocated" &&
            (board.mcuUid ? e.body.value("mcu_uid", "") == *board.mcuUid
                          : serialTells && e.body.value("usb_serial", "") == board.usbSerial))
            devId = *e.devId;
        if (e.kind != "delivered") kind[*e.devId] = e.kind;
    }
    if (!devId) return std::optional<std::string>();
    return std::optional<std::string>(kind[*devId]);
}

Result<RunSummary> Pipeline::serve(int count, std::chrono::milliseconds watch, const std::atomic<bool>* stop) {
    if (m_config.seats.empty()) return fail(Errc::invalidArgument, "no [[seat]] is configured: nothing to serve");
    RunSummary summary;
    m_stop = stop;
    std::mutex mutex;
    std::set<std::string> listed;  // ports with a board in DFU mode, refreshed every `watch`
    int taken = 0;
    bool finished = false;  // count reached and nothing left to take, or stopped, or fatal
    std::optional<Error> fatal;
    const auto stopping = [&] { return stop != nullptr && stop->load(); };

    // The bus watch: which ports hold a board, and one warning per port without a seat.
    std::set<std::string> warned;
    const auto refresh = [&]() -> Status {
        auto present = m_ports.flasher.slots();
        if (!present) return std::unexpected(present.error());
        std::set<std::string> now(present->begin(), present->end());
        for (const auto& p : now) {
            if (m_config.seatAt(p) != nullptr || warned.contains(p)) continue;
            warned.insert(p);
            emit(p, 0, "ignored", "a board on port " + p + " is ignored: no [[seat]] is configured there");
        }
        std::lock_guard lock(mutex);
        listed = std::move(now);
        return {};
    };
    if (auto s = refresh(); !s) return std::unexpected(s.error());

    // Hotplug: each event bumps busEvents; the bus watcher re-lists and bumps listings, which
    // the seats wait for. Without it (the simulator, libusb without hotplug) both poll.
    std::condition_variable busChanged;
    std::uint64_t busEvents = 0;  // guarded by mutex
    std::uint64_t listings = 0;   // guarded by mutex
    auto hotplug = m_ports.flasher.watchBus([&] {
        std::lock_guard lock(mutex);
        ++busEvents;
        busChanged.notify_all();
    });
    const bool events = hotplug.has_value();
    // With events, a stop is looked at this often; a missed event is made up for this often.
    const auto tick = std::min(watch, std::chrono::milliseconds(100));
    const auto safety = std::max(watch * 50, std::chrono::milliseconds(5000));

    auto worker = [&](const Seat& seat) {
        std::optional<std::string> last;  // the serial of the board the seat held when last looked at
        bool shownEmpty = false;
        std::uint64_t seen = 0;  // the listing this seat last looked at (hotplug)
        for (;;) {
            std::set<std::string> ports;
            {
                std::lock_guard lock(mutex);
                if (finished) return;
                ports = listed;
                seen = listings;
            }
            const auto now = look(m_ports.flasher, seat.port, ports);
            if (!now) {
                if (!shownEmpty) emit(seat.port, 0, "empty");
                shownEmpty = true;
                last.reset();
            } else if (!last || now->usbSerial != *last) {
                // A new board in the seat (bootloaders that all report FFFFFFFEFFFF are told
                // apart only by the seat being empty in between).
                shownEmpty = false;
                last = now->usbSerial;
                // A board the journal already knows is shown as it is, not provisioned again.
                std::optional<std::string> known;
                if (auto k = knownBoard(*now)) known = *k;
                if (known && (*known == "committed" || *known == "live" || *known == "rejected")) {
                    emit(seat.port, 0, "done", "this board was provisioned before; take it out");
                } else if (known && *known == "failed") {
                    emit(seat.port, 0, "failed", "this board needs rework (tte-provision rework --port " + seat.port + ")");
                } else {
                    // A held line starts no new board: the seat says its board waits.
                    if (const LineState line = m_hold.state(); line.held)
                        emitWaiting(seat.port, 0, line.reason, "the line holds: " + line.problem);
                    m_hold.waitWhileHeld(stop);
                    {
                        std::lock_guard lock(mutex);
                        if (finished || stopping() || (count > 0 && taken >= count)) return;
                        ++taken;
                    }
                    auto r = provision(seat.port);
                    std::lock_guard lock(mutex);
                    if (r) {
                        ++summary.committed;
                    } else if (r.error().domain == "refused") {
                        ++summary.refused;
                        summary.failures.push_back(seat.name + ": " + r.error().message);
                    } else if (r.error().code == Errc::cancelled) {
                        summary.failures.push_back(seat.name + ": " + r.error().message);
                    } else if (r.error().code == Errc::resourceExhausted || r.error().domain == "SQLite") {
                        finished = true;
                        if (!fatal) fatal = r.error();
                    } else {
                        ++summary.failed;
                        summary.failures.push_back(seat.name + ": " + r.error().toString());
                    }
                    continue;  // look at the seat again at once: the board is shown as it ended
                }
            }
            if (events) {
                // Until the bus changed (the seat's board is asked nothing meanwhile).
                std::unique_lock lock(mutex);
                while (listings == seen && !finished && !stopping() && !(count > 0 && taken >= count))
                    busChanged.wait_for(lock, tick);
            } else {
                std::this_thread::sleep_for(watch);  // the seat's watch interval (docs/STATION.md)
            }
            if (stopping()) return;
            std::lock_guard lock(mutex);
            if (count > 0 && taken >= count) return;
        }
    };
    std::vector<std::thread> threads;
    for (const Seat& seat : m_config.seats) threads.emplace_back(worker, std::cref(seat));
    // The main thread watches the bus until every worker is done.
    std::thread watcher([&] {
        std::uint64_t handled = 0;  // hotplug events already listed
        for (;;) {
            if (events) {
                std::unique_lock lock(mutex);
                const auto until = std::chrono::steady_clock::now() + safety;
                while (busEvents == handled && !finished && std::chrono::steady_clock::now() < until)
                    busChanged.wait_for(lock, tick);
                handled = busEvents;
                if (finished) return;
            } else {
                std::this_thread::sleep_for(watch);
                std::lock_guard lock(mutex);
                if (finished) return;
            }
            if (auto s = refresh(); !s) {
                std::lock_guard lock(mutex);
                if (!fatal) fatal = s.error();
                finished = true;
                busChanged.notify_all();
                return;
            }
            std::lock_guard lock(mutex);
            ++listings;
            busChanged.notify_all();
        }
    });
    for (auto& t : threads) t.join();
    {
        std::lock_guard lock(mutex);
        finished = true;
        busChanged.notify_all();
    }
    watcher.join();
    hotplug = fail(Errc::cancelled, "the run ended");  // no more events into this frame
    m_stop = nullptr;
    if (fatal && summary.committed == 0 && summary.failed == 0) return std::unexpected(*fatal);
    if (fatal) summary.failures.push_back("stopped: " + fatal->toString());
    return summary;
}

}  // namespace tte::station
