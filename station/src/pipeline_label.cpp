// The label step of the line (Pipeline::printLabel): one job per label, waited for on the
// clock; a printer that cannot print holds the line instead of failing the board.
//
// What holds the line, by cause:
//   "printer"        the printer is not ready (stopped, paused, out of labels, unreachable, ...):
//                    released by the first worker that sees it ready again;
//   "label <devid>"  this board's job is overdue (released when it completes or is lost), or
//                    two of its jobs were lost (released once the printer was seen not ready
//                    and ready again, or the operator resumes).
// A board never gets a second job while its first may still print: a new job is submitted
// only when there is none, or the last one is lost (cancelled, aborted, gone).
#include "tte/base/hex.h"
#include "tte/station/pipeline.h"

namespace tte::station {
namespace {

constexpr const char* kPrinterCause = "printer";

/// Releases this board's cause of a hold however the label step ends.
class OwnCause {
public:
    OwnCause(LineHold& hold, std::string name) : m_hold(hold), m_name(std::move(name)) {}
    ~OwnCause() { (void)m_hold.release(m_name); }
    OwnCause(const OwnCause&) = delete;
    OwnCause& operator=(const OwnCause&) = delete;
    [[nodiscard]] const std::string& name() const { return m_name; }

private:
    LineHold& m_hold;
    std::string m_name;
};

}  // namespace

Result<PrintedLabel> Pipeline::printLabel(std::uint32_t devId, const std::string& port, const DeviceLabel& label) {
    LabelPrinter& printer = m_ports.printer;
    Clock& clock = m_ports.clock;
    const std::string devHex = toHex(devId, 8);
    OwnCause own(m_hold, "label " + devHex);
    const auto poll = std::chrono::milliseconds(m_config.printerPollMs);
    const auto timeout = std::chrono::seconds(m_config.labelJobTimeoutS);

    std::optional<int> job;
    Clock::TimePoint deadline{};
    int lost = 0;
    // After a second lost job: wait until the printer went down and came back, or the operator resumes.
    bool lostTwice = false;
    bool sawNotReady = false;
    std::uint64_t resumesAtLoss = 0;
    std::string waitingFor;  // what the slot was last told it waits for

    const auto holdLine = [&](const std::string& cause, std::string problem, std::string action, bool byItself) -> Status {
        const bool was = m_hold.held();
        if (auto s = m_hold.hold(cause, HoldReason::printer, problem, std::move(action), byItself); !s) return s;
        if (waitingFor != problem) {
            waitingFor = problem;
            emitWaiting(port, devId, HoldReason::printer, problem);
        }
        if (!was) fault("held", devId);
        return {};
    };

    for (;;) {
        if (m_stop != nullptr && m_stop->load() && m_hold.held()) {
            // Stopped while the line holds: the board stays where it is, for the next start.
            return fail(Errc::cancelled, "the station stopped while the line held: device " + devHex +
                                             " waits for its label (rework at the next start)");
        }
        const PrinterCondition printerNow = printer.printerCondition();
        // A queue that takes jobs while it cannot print (paused, out of labels) keeps the
        // label waiting in it, as a printer does; one that cannot be reached gets it later.
        if (!job && !lostTwice && (printerNow.ready || printerNow.acceptsJobs)) {
            auto id = printer.submit(label);
            if (!id && printerNow.ready && printer.printerCondition().ready) {
                return std::unexpected(id.error());  // the printer is fine: the label itself is at fault
            }
            if (id) {
                job = *id;
                deadline = clock.now() + timeout;
                if (auto s = step("printing", devId, port, {{"job", *job}}); !s) return std::unexpected(s.error());
            }
        }
        if (!printerNow.ready) {
            if (auto s = holdLine(kPrinterCause, printerNow.problem, printerNow.action, true); !s) return std::unexpected(s.error());
        } else if (auto s = m_hold.release(kPrinterCause); !s) {
            return std::unexpected(s.error());
        }
        sawNotReady = sawNotReady || !printerNow.ready;
        if (lostTwice && ((sawNotReady && printerNow.ready) || m_hold.operatorResumes() != resumesAtLoss)) {
            lostTwice = false;
            lost = 1;  // one more try; a further loss holds again
            if (auto s = m_hold.release(own.name()); !s) return std::unexpected(s.error());
        }

        if (job) {
            auto state = printer.jobState(*job);
            if (state && state->kind == LabelJobState::Kind::printed) {
                if (auto s = m_hold.release(own.name()); !s) return std::unexpected(s.error());
                // The queue is looked at once more: this round's look may be older than the job's
                // end (CUPS answers the two apart). While it still cannot print, this board keeps
                // watching it for the held line (no board in flight might be left to do so) and
                // goes on with its printed label once it can, or when the station stops.
                for (;;) {
                    const PrinterCondition after = printer.printerCondition();
                    if (after.ready) {
                        if (auto s = m_hold.release(kPrinterCause); !s) return std::unexpected(s.error());
                        break;
                    }
                    if (m_stop != nullptr && m_stop->load()) break;
                    if (auto s = holdLine(kPrinterCause, after.problem, after.action, true); !s) return std::unexpected(s.error());
                    clock.sleepFor(poll);
                }
                return printer.collect(label, *job);
            }
            if (state && state->kind == LabelJobState::Kind::lost) {
                job.reset();
                if (++lost < 2) {
                    emit(port, devId, "reprint", state->message);
                    if (auto s = m_hold.release(own.name()); !s) return std::unexpected(s.error());
                    continue;  // printed again at once
                }
                lostTwice = true;
                sawNotReady = false;
                resumesAtLoss = m_hold.operatorResumes();
                if (auto s = holdLine(own.name(), "two label jobs of device " + devHex + " were lost (" + state->message + ")",
                                      "check the printer, then pause and resume it or press Resume", false);
                    !s)
                    return std::unexpected(s.error());
            } else if (state && !printerNow.ready) {
                deadline = clock.now() + timeout;  // waiting for the printer is not being late
            } else if (state && clock.now() >= deadline) {
                const auto secs = std::to_string(m_config.labelJobTimeoutS);
                if (auto s = holdLine(own.name(), "the label of device " + devHex + " did not print within " + secs + " s (" +
                                                      state->message + ")",
                                      state->action.empty() ? "check the printer; the label prints when it is back" : state->action,
                                      true);
                    !s)
                    return std::unexpected(s.error());
            }
            // A queue that cannot be asked (no state) shows in the next round's printer condition.
        }
        clock.sleepFor(poll);
    }
}

}  // namespace tte::station
