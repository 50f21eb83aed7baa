// The subcommands of tte-provision (see commands.h).
#include "commands.h"

#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "tte/base/hex.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/freestanding/block.h"
#include "tte/protocol/box.h"
#include "tte/station/operations.h"
#include "tte/station/reports.h"

namespace tte::station::app {
namespace {

int failWith(const Error& e, int code = 1) {
    std::fprintf(stderr, "tte-provision: %s\n", e.toString().c_str());
    return code;
}

template <class T>
bool ok(const Result<T>& r, int& code) {
    if (r) return true;
    code = failWith(r.error());
    return false;
}

std::string seconds(Clock::Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 1000.0).substr(0, 5) + " s";
}

void printBacklog(Uploader& up) {
    auto b = up.backlog();
    if (!b) return;
    std::printf("upload backlog: %d pending, %d done, %d rejected", b->pending, b->done, b->rejected);
    if (!b->lastError.empty()) std::printf(" (last error: %s; next try in %s)", b->lastError.c_str(), seconds(b->retryIn).c_str());
    std::printf("\n");
}

}  // namespace

/// SIGINT and SIGTERM stop the run: the boards in flight are finished first. The signals are
/// blocked in every thread and taken by one that waits for them (no handler, no global).
class StopOnSignal {
public:
    explicit StopOnSignal(std::atomic<bool>& stop) : m_stop(stop) {
        sigemptyset(&m_set);
        sigaddset(&m_set, SIGINT);
        sigaddset(&m_set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &m_set, &m_old);
        m_thread = std::thread([this] {
            int sig = 0;
            sigwait(&m_set, &sig);
            if (!m_done.load()) {
                std::printf("%s: finishing the boards in flight, then stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
                std::fflush(stdout);
                m_stop.store(true);
            }
        });
    }
    ~StopOnSignal() {
        m_done.store(true);
        pthread_kill(m_thread.native_handle(), SIGTERM);  // wakes the waiting thread
        m_thread.join();
        pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
    }
    StopOnSignal(const StopOnSignal&) = delete;
    StopOnSignal& operator=(const StopOnSignal&) = delete;

private:
    std::atomic<bool>& m_stop;
    std::atomic<bool> m_done{false};
    sigset_t m_set{}, m_old{};
    std::thread m_thread;
};

int runCommand(Wiring& w, const RunOptions& o) {
    // Before any thread of the run exists, so that every thread inherits the blocked signals.
    std::atomic<bool> stop{false};
    StopOnSignal signals(stop);
    int code = 0;
    auto p = w.pipeline();
    if (!ok(p, code)) return code;
    auto up = w.uploader();
    if (!ok(up, code)) return code;
    Pipeline& pipeline = **p;
    Uploader& uploader = **up;
    std::string notice;
    if (auto s = openLotWithQuota(w.config(), pipeline, w.mothership(), notice); !s) return failWith(s.error());
    if (!notice.empty()) std::printf("%s\n", notice.c_str());
    if (auto warning = lockWarning(w.config().lot); !warning.empty()) std::printf("%s\n", warning.c_str());
    std::printf("lot %s: DTLS %s\n", w.config().lot.id.c_str(),
                w.config().lot.dtls == LotDtls::psk ? "psk (a PSK per device, no key pair; PROTOCOL.md §11)" : "cert");
    auto recovered = pipeline.recover();
    if (!ok(recovered, code)) return code;
    if (*recovered > 0) std::printf("%d interrupted device(s) marked failed (rework)\n", *recovered);

    auto hook = faultHookFromEnv();
    pipeline.setFaultHook([hook](std::string_view point, std::uint32_t) {
        if (hook) hook(point);
    });
    uploader.setFaultHook(hook);
    std::mutex out;
    pipeline.setObserver([&](const SlotEvent& e) {
        if (e.transient()) return;  // one line per journalled step
        std::lock_guard lock(out);
        std::printf("[%s] %s %s%s%s\n", e.seat.c_str(), toHex(e.devId, 8).c_str(), e.step.c_str(),
                    e.message.empty() ? "" : ": ", e.message.c_str());
        std::fflush(stdout);
    });
    // The line's hold in one line, printed again only when what it says changes.
    pipeline.lineHold().setObserver([&](const LineState& s) {
        std::lock_guard lock(out);
        if (s.held) std::printf("line held: %s\n", s.text().c_str());
        else std::printf("line resumed\n");
        std::fflush(stdout);
    });
    std::thread uploadThread([&] { uploader.serve(); });
    Result<RunSummary> summary;
    {
        const StationConfig& c = w.config();
        if (!c.seats.empty()) {
            std::printf("serving seats");
            for (const Seat& s : c.seats) std::printf(" %s (%s)", s.name.c_str(), s.port.c_str());
            std::printf(" until %s; operator %s\n", o.count > 0 ? (std::to_string(o.count) + " boards").c_str() : "stopped",
                        o.operatorName.c_str());
            std::fflush(stdout);
            summary = pipeline.serve(o.count, std::chrono::milliseconds(c.watchMs), &stop);
        } else {
            summary = pipeline.run(o.count, o.slots > 0 ? o.slots : c.slots, o.ports, &stop);
        }
    }
    uploader.poke();
    uploader.stop();
    uploadThread.join();
    if (!summary) return failWith(summary.error());
    (void)uploader.drain(std::chrono::milliseconds(static_cast<long>(o.drainSeconds * 1000)));
    std::printf("provisioned %d, failed %d", summary->committed, summary->failed);
    if (summary->refused > 0) std::printf(", refused %d (provisioned before)", summary->refused);
    std::printf("\n");
    if (summary->committed == 0 && summary->failed == 0)
        std::printf("no board to provision: no device in DFU mode (0483:df11) %s in a free slot\n",
                    w.simulated() ? "in the simulator directory" : "on USB");
    for (const auto& f : summary->failures) std::printf("  %s\n", f.c_str());
    printBacklog(uploader);
    return summary->failures.empty() ? 0 : 1;
}

int boxCommand(Wiring& w, std::uint32_t box) {
    const LotConfig& lot = w.config().lot;
    if (lot.boxSize == 0) return failWith(Error{Errc::invalidArgument, "lot " + lot.id + " is not a bulk lot (lot.box_size is 0)", {}, 0, {}}, 2);
    const std::uint64_t first = std::uint64_t{lot.firstDevId} + std::uint64_t{box} * lot.boxSize;
    if (first > lot.lastDevId)
        return failWith(Error{Errc::outOfRange, "box " + toHex(box, 8) + " lies outside the lot", {}, 0, {}}, 2);
    const auto last = static_cast<std::uint32_t>(std::min<std::uint64_t>(first + lot.boxSize - 1, lot.lastDevId));
    int code = 0;
    auto keys = w.keys();
    auto journal = w.journal();
    auto printer = w.printer();
    auto up = w.uploader();
    if (!ok(keys, code) || !ok(journal, code) || !ok(printer, code) || !ok(up, code)) return code;
    auto secret = (*keys)->boxSecret(box);
    if (!ok(secret, code)) return code;
    auto url = protocol::buildBoxUrl({protocol::MsId{lot.msId}, secret->clone(),
                                      protocol::DevId{static_cast<std::uint32_t>(first)}, protocol::DevId{last}});
    if (!ok(url, code)) return code;
    DeviceLabel label{box, "", lot.id, Secret(*url), std::pair{static_cast<std::uint32_t>(first), last}};
    secureZero(url->data(), url->size());
    auto printed = (*printer)->print(label);
    if (!ok(printed, code)) return code;
    auto scanned = (*printer)->scanBack(*printed);
    if (!ok(scanned, code)) return code;
    if (!constantTimeEqual(scanned->bytes(), label.url.bytes()))
        return failWith(Error{Errc::corrupt, "box label scan-back does not match", {}, 0, {}});
    nlohmann::json body = {{"box", box},
                           {"first", first},
                           {"last", last},
                           {"artefact", printed->artefact},
                           {"scanned_from", printed->scannedFrom}};
    auto e = (*journal)->commit("box", std::nullopt, [&](std::int64_t seq, const std::string&) -> Result<Commit> {
        QueueItem item;
        item.id = w.config().stationId + "-box-" + toHex(box, 8) + "-" + std::to_string(seq);
        item.kind = "box";
        item.body = body;
        return Commit{body, {item}};
    });
    if (!ok(e, code)) return code;
    std::printf("box %s: Dev IDs %s..%s, label %s (scanned back from the %s)\n", toHex(box, 8).c_str(),
                toHex(first, 8).c_str(), toHex(last, 8).c_str(), printed->artefact.c_str(), printed->scannedFrom.c_str());
    (void)(*up)->drain(std::chrono::seconds(5));
    printBacklog(**up);
    return 0;
}

int journalVerifyCommand(Wiring& w) {
    int code = 0;
    auto j = w.journal();
    if (!ok(j, code)) return code;
    auto r = (*j)->verify();
    if (!ok(r, code)) return code;
    for (const auto& p : r->problems) std::printf("%s\n", p.c_str());
    if (!r->ok()) {
        std::fprintf(stderr, "tte-provision: journal does NOT verify: %zu problem(s)\n", r->problems.size());
        return 1;
    }
    std::printf("journal verifies: %lld entries, head %s\n", static_cast<long long>(r->entries), r->head.c_str());
    return 0;
}

int journalExportCommand(Wiring& w, const std::string& out) {
    int code = 0;
    auto keys = w.keys();
    auto j = w.journal();
    if (!ok(keys, code) || !ok(j, code)) return code;
    auto text = exportJournal(w.config(), **j, **keys);
    if (!ok(text, code)) return code;
    if (out == "-") {
        std::fwrite(text->data(), 1, text->size(), stdout);
        return 0;
    }
    std::ofstream f(out, std::ios::trunc);
    f << *text;
    if (!f) return failWith(Error{Errc::io, "cannot write " + out, {}, 0, {}});
    return 0;
}

int syncCommand(Wiring& w, double secs) {
    int code = 0;
    auto up = w.uploader();
    if (!ok(up, code)) return code;
    auto s = (*up)->drain(std::chrono::milliseconds(static_cast<long>(secs * 1000)));
    printBacklog(**up);
    if (!s) return failWith(s.error());
    return 0;
}

int reconcileCommand(Wiring& w) {
    int code = 0;
    auto j = w.journal();
    if (!ok(j, code)) return code;
    auto r = reconcile(w.config(), **j, w.mothership());
    if (!ok(r, code)) return code;
    for (const auto& d : *r) std::printf("%s: %s\n", toHex(d.devId, 8).c_str(), d.problem.c_str());
    std::printf("%zu discrepanc%s\n", r->size(), r->size() == 1 ? "y" : "ies");
    return r->empty() ? 0 : 1;
}

int statusCommand(Wiring& w) {
    int code = 0;
    auto j = w.journal();
    auto up = w.uploader();
    if (!ok(j, code) || !ok(up, code)) return code;
    auto s = stationStatus(w.config(), **j, **up, w.clock().wallNow());
    if (!ok(s, code)) return code;
    std::fputs(formatStatus(w.config(), *s).c_str(), stdout);
    return 0;
}

}  // namespace tte::station::app
