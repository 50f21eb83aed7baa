// Waiting for a print job: job and printer states become operator events and a final result.
#include "tte/labels/print_queue.h"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace tte::labels {

std::string_view jobStateName(JobState state) {
    switch (state) {
        case JobState::pending: return "pending";
        case JobState::held: return "held";
        case JobState::processing: return "processing";
        case JobState::stopped: return "stopped";
        case JobState::cancelled: return "cancelled";
        case JobState::aborted: return "aborted";
        case JobState::completed: return "completed";
    }
    return "?";
}

std::string_view printerStateName(PrinterState state) {
    switch (state) {
        case PrinterState::idle: return "idle";
        case PrinterState::processing: return "processing";
        case PrinterState::stopped: return "stopped";
    }
    return "?";
}

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        if (i == "none") continue;
        if (!out.empty()) out += ", ";
        out += i;
    }
    return out;
}

bool repeatsAReason(const PrinterStatus& status) {
    std::string lower = status.message;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return std::find(status.reasons.begin(), status.reasons.end(), lower) != status.reasons.end();
}

std::string describeJob(std::string_view queue, int jobId, const JobStatus& s) {
    std::string text = "job " + std::to_string(jobId) + " on " + std::string(queue) + " is " +
                       std::string(jobStateName(s.state));
    if (auto r = join(s.reasons); !r.empty()) text += " (" + r + ")";
    return text;
}

// Tracks what the operator was already told, so each change is reported once.
class Reporter {
public:
    Reporter(std::string queue, int jobId, const PrintEventSink& sink)
        : m_queue(std::move(queue)), m_jobId(jobId), m_sink(sink) {}

    void job(const JobStatus& s) {
        if (s.state == m_lastJob) return;
        m_lastJob = s.state;
        if (s.state == JobState::held) emit(PrintEvent::Kind::jobHeld, describeJob(m_queue, m_jobId, s));
        if (s.state == JobState::stopped) emit(PrintEvent::Kind::jobStopped, describeJob(m_queue, m_jobId, s));
    }

    void printer(const PrinterStatus& p) {
        const bool stopped = p.state == PrinterState::stopped;
        const std::string reasons = join(p.reasons);
        if (stopped && (!m_printerStopped || reasons != m_lastReasons)) {
            emit(PrintEvent::Kind::printerStopped, describePrinter(m_queue, p));
        } else if (!stopped && m_printerStopped) {
            emit(PrintEvent::Kind::printerResumed, describePrinter(m_queue, p));
        } else if (!stopped && reasons != m_lastReasons && !reasons.empty()) {
            emit(PrintEvent::Kind::printerReason, describePrinter(m_queue, p));
        }
        m_printerStopped = stopped;
        m_lastReasons = reasons;
        m_lastPrinter = describePrinter(m_queue, p);
    }

    void emit(PrintEvent::Kind kind, std::string message) {
        if (m_sink) m_sink(PrintEvent{kind, m_jobId, std::move(message)});
    }

    [[nodiscard]] const std::string& lastPrinter() const { return m_lastPrinter; }

private:
    std::string m_queue;
    int m_jobId;
    const PrintEventSink& m_sink;
    JobState m_lastJob = JobState::pending;
    bool m_printerStopped = false;
    std::string m_lastReasons;
    std::string m_lastPrinter;
};

}  // namespace

std::string describePrinter(std::string_view queue, const PrinterStatus& status) {
    std::string text = "printer " + std::string(queue) + " is " + std::string(printerStateName(status.state));
    if (auto r = join(status.reasons); !r.empty()) text += " (" + r + ")";
    if (!status.acceptingJobs) text += ", not accepting jobs";
    // The printer's (or its backend's) own words, e.g. why it stopped, unless they only
    // repeat a reason (cupsdisable sets "Paused").
    if (status.state == PrinterState::stopped && !status.message.empty() && !repeatsAReason(status)) {
        text += ": " + status.message;
    }
    return text;
}

std::optional<PrinterFault> printerFault(std::string_view queue, const PrinterStatus& status) {
    const std::string q(queue);
    const auto has = [&](std::initializer_list<std::string_view> names) {
        for (const auto& r : status.reasons) {
            for (std::string_view n : names) {
                if (r == n || r == std::string(n) + "-error") return true;
            }
        }
        return false;
    };
    // What the hands at the printer must do first: the physical faults, then the queue's state.
    if (has({"media-empty", "media-needed"})) return PrinterFault{"printer " + q + " is out of labels", "load a roll"};
    if (has({"media-jam"})) return PrinterFault{"printer " + q + " has a label jam", "clear the jam"};
    if (has({"cover-open", "door-open"})) return PrinterFault{"printer " + q + " is open", "close its cover"};
    if (has({"offline", "shutdown"}))
        return PrinterFault{"printer " + q + " is offline", "switch it on and connect it"};
    if (status.state == PrinterState::stopped) {
        // CUPS marks every stopped queue "paused"; its message tells an operator's pause
        // (cupsdisable: "Paused") from a stop by the backend or the scheduler, whose words name the fault.
        const bool ownWords = !status.message.empty() && !repeatsAReason(status);
        std::string problem = "printer " + q + (has({"paused"}) ? " is paused" : " is stopped");
        if (!ownWords) return PrinterFault{problem, "resume it (cupsenable " + q + ")"};
        return PrinterFault{problem + ": " + status.message, "fix what it names, then resume it (cupsenable " + q + ")"};
    }
    if (!status.acceptingJobs)
        return PrinterFault{"printer " + q + " does not accept jobs", "let it accept jobs (cupsaccept " + q + ")"};
    return std::nullopt;
}

Status waitForJob(PrintQueue& queue, int jobId, Clock& clock, const WaitOptions& options,
                  const PrintEventSink& events) {
    const std::string name = queue.name();
    const auto deadline = clock.now() + options.timeout;
    Reporter report(name, jobId, events);
    const std::string job = "job " + std::to_string(jobId) + " on " + name;
    for (;;) {
        auto s = queue.jobStatus(jobId);
        if (!s) return withContext(s.error(), job);
        report.job(*s);
        switch (s->state) {
            case JobState::completed:
                report.emit(PrintEvent::Kind::completed, job + " completed");
                return {};
            case JobState::cancelled:
                return fail(Errc::cancelled, job + " was cancelled: the label was not printed");
            case JobState::aborted:
                return fail(Errc::io, job + " was aborted: the label was not printed (" + join(s->reasons) + ")");
            default: break;
        }
        // The printer says why a job waits (paused, stopped by an error) or why a processing
        // job does not finish (out of labels): asked on every poll.
        auto p = queue.printerStatus();
        if (!p) return withContext(p.error(), job);
        report.printer(*p);
        if (clock.now() >= deadline) {
            const auto secs = std::chrono::duration_cast<std::chrono::seconds>(options.timeout).count();
            std::string why = describeJob(name, jobId, *s);
            if (!report.lastPrinter().empty()) why += "; " + report.lastPrinter();
            return fail(Errc::timeout, job + " did not complete within " + std::to_string(secs) + " s (" + why + ")");
        }
        clock.sleepFor(options.pollInterval);
    }
}

}  // namespace tte::labels
