// A PrintQueue for unit tests: records every job and plays a script of job and printer
// states, so the station's pipeline can be tested without a printer. Thread-safe.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "tte/labels/print_queue.h"

namespace tte::labels {

class RecordingPrintQueue final : public PrintQueue {
public:
    explicit RecordingPrintQueue(std::string name = "fake") : m_name(std::move(name)) {}

    [[nodiscard]] std::string name() const override { return m_name; }
    /// Records the job, gives it the next id (from 1) and the current job script.
    /// Fails with the error set by failNextSubmit(), once.
    Result<int> submit(const PrintJob& job) override;
    /// Plays the job's script one step per call; the last step repeats. Without a script a
    /// job completes at once. Errors: notFound for an id never submitted.
    Result<JobStatus> jobStatus(int jobId) override;
    /// Plays the printer script one step per call; the last step repeats (idle by default).
    Result<PrinterStatus> printerStatus() override;
    /// Marks the job cancelled (its next status is `cancelled`). Errors: notFound, conflict
    /// when it already completed.
    Status cancel(int jobId) override;
    /// std::nullopt (a real printer) unless givesDocumentsBack(): then the job's document as
    /// submitted, or the one set by setPrintedDocument(), at path "fake:<queue>-<job>".
    /// Errors: notFound for an id never submitted.
    Result<std::optional<PrintedDocument>> printedDocument(int jobId) override;

    /// Makes the queue give printed documents back, as a tte-file queue does.
    void givesDocumentsBack(bool on);
    /// What the printer produced for job `jobId` instead of the submitted document (a printer
    /// that printed something else).
    void setPrintedDocument(int jobId, std::vector<std::uint8_t> document);

    /// The states the next submitted jobs go through, e.g. {pending, processing, completed}.
    void setJobScript(std::vector<JobStatus> script);
    void setPrinterStatus(PrinterStatus status) { setPrinterScript({std::move(status)}); }
    /// The printer states of the next printerStatus() calls, e.g. {stopped, stopped, idle}.
    void setPrinterScript(std::vector<PrinterStatus> script);
    void failNextSubmit(Error error);

    /// Every job submitted so far, in order.
    [[nodiscard]] std::vector<PrintJob> jobs() const;
    [[nodiscard]] std::vector<int> cancelledJobs() const;
    /// How often jobStatus() was called (to check the polling).
    [[nodiscard]] int statusQueries() const;

private:
    mutable std::mutex m_mutex;
    std::string m_name;
    std::vector<PrintJob> m_jobs;
    std::vector<JobStatus> m_script;
    std::map<int, std::deque<JobStatus>> m_pending;
    std::map<int, JobStatus> m_last;
    std::deque<PrinterStatus> m_printer{PrinterStatus{}};
    std::optional<Error> m_submitError;
    std::vector<int> m_cancelled;
    bool m_givesDocumentsBack = false;
    std::map<int, std::vector<std::uint8_t>> m_printedInstead;
    int m_statusQueries = 0;
};

}  // namespace tte::labels
