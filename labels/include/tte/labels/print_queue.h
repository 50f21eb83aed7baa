// The printer seam: a queue that takes label documents and reports the state of each job and
// of the printer. The real adapter is CUPS (cups_print_queue.h); unit tests use the
// recording fake (tte::labels_fake). waitForJob() turns job and printer states into events
// for the operator and into a result: printed, or why not.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/clock.h"
#include "tte/base/error.h"
#include "tte/base/secret.h"

namespace tte::labels {

enum class DocumentFormat {
    pdf,  ///< application/pdf, for CUPS queues with a driver
    zpl,  ///< ZPL II on a raw queue (application/vnd.cups-raw)
};

/// One label to print. The document carries the label's URL (a secret): adapters never log it.
struct PrintJob {
    std::string title;      ///< names the Dev ID or box, e.g. "TTE device 0000002a"
    DocumentFormat format = DocumentFormat::pdf;
    std::vector<std::uint8_t> document;
    std::string mediaName;  ///< short name of the label stock, e.g. "tte-device"
    double mediaWidthMm = 0;
    double mediaHeightMm = 0;
};

/// IPP job states (RFC 8011 5.3.7).
enum class JobState { pending, held, processing, stopped, cancelled, aborted, completed };
std::string_view jobStateName(JobState state);

struct JobStatus {
    JobState state = JobState::pending;
    std::vector<std::string> reasons;  ///< IPP job-state-reasons, e.g. "job-hold-until-specified"
    std::string message;               ///< job-state-message, if any
};

/// IPP printer states (RFC 8011 5.4.11).
enum class PrinterState { idle, processing, stopped };
std::string_view printerStateName(PrinterState state);

struct PrinterStatus {
    PrinterState state = PrinterState::idle;
    bool acceptingJobs = true;
    std::vector<std::string> reasons;  ///< IPP printer-state-reasons, e.g. "paused", "media-empty-error"
    std::string message;               ///< printer-state-message, if any
};

/// What a printer was given for one job, where the queue gives it back (docs/LABELS.md, "The
/// tte-file backend"): the document after the queue's filters, as it reached the device.
struct PrintedDocument {
    std::string path;    ///< where the queue keeps it
    std::string format;  ///< MIME type: "application/pdf", or "application/vnd.cups-raw" (ZPL)
    Secret bytes;        ///< it shows the label's URL, so it is a secret like the URL
};

class PrintQueue {
public:
    virtual ~PrintQueue() = default;
    /// The queue's name, for messages.
    [[nodiscard]] virtual std::string name() const = 0;
    /// Submits one job; returns its job id. Errors: unavailable (server unreachable, queue not
    /// accepting jobs), notFound (no such queue), invalidArgument (document refused), io.
    virtual Result<int> submit(const PrintJob& job) = 0;
    /// The job's state. Errors: notFound (unknown job), unavailable, io.
    virtual Result<JobStatus> jobStatus(int jobId) = 0;
    /// The printer's state. Errors: notFound, unavailable, io.
    virtual Result<PrinterStatus> printerStatus() = 0;
    /// Cancels a job. Errors: notFound, conflict (already finished), unavailable, io.
    virtual Status cancel(int jobId) = 0;
    /// The document of a completed job as the printer received it, where the queue gives it
    /// back; std::nullopt where it does not (a real printer). Errors: notFound (the queue
    /// gives documents back, but this job's is not there), io, unavailable.
    virtual Result<std::optional<PrintedDocument>> printedDocument(int jobId) = 0;
};

/// Something the operator should see while a label prints.
struct PrintEvent {
    enum class Kind {
        submitted,       ///< the job was accepted by the queue
        printerStopped,  ///< the printer is stopped (paused, or stopped by an error); the job waits
        printerResumed,  ///< the printer runs again
        printerReason,   ///< a new printer-state-reason, e.g. media-empty-error, while not stopped
        jobHeld,         ///< the job is held (job-hold-until, authentication, ...)
        jobStopped,      ///< the job is stopped
        completed,       ///< the job completed
        reprint,         ///< a label was printed again for an existing record
    };
    Kind kind = Kind::submitted;
    int jobId = 0;
    std::string message;  ///< one line for a person, e.g. "printer Q is stopped (paused)"
};
using PrintEventSink = std::function<void(const PrintEvent&)>;

struct WaitOptions {
    Clock::Duration timeout = std::chrono::seconds(60);
    Clock::Duration pollInterval = std::chrono::milliseconds(200);
};

/// Polls the job (and, while it waits, the printer) on `clock` until it completes. Events go
/// to `events` once per change. Errors: cancelled "job N on Q was cancelled: the label was not
/// printed"; io "job N on Q was aborted: the label was not printed (<reasons>)"; timeout "job N
/// on Q did not complete within S s (<state>; <printer state>)"; and the queue's errors.
Status waitForJob(PrintQueue& queue, int jobId, Clock& clock, const WaitOptions& options,
                  const PrintEventSink& events);

/// "printer Q is stopped (paused)", "printer Q is idle (media-low-report)": a printer state
/// in one line.
std::string describePrinter(std::string_view queue, const PrinterStatus& status);

/// Why a printer cannot print labels now, in the operator's words.
struct PrinterFault {
    std::string problem;  ///< e.g. "printer Q is out of labels"
    std::string action;   ///< the one thing to do, e.g. "load a roll"
};

/// The fault that keeps a printer in `status` from printing, if any: out of labels
/// (media-empty, media-needed), a label jam, an open cover, offline, paused or stopped (with
/// the printer's message where it says more than the reason: "printer Q is paused: tte-file:
/// … exists already …"), not accepting jobs. A reason counts when it has no suffix or "-error" (RFC 8011 5.4.12);
/// "-warning" and "-report" (e.g. media-low-report) do not stop the line.
std::optional<PrinterFault> printerFault(std::string_view queue, const PrinterStatus& status);

}  // namespace tte::labels
