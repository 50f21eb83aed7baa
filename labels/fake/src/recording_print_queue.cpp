// The recording PrintQueue fake (see the header).
#include "tte/labels_fake/recording_print_queue.h"

namespace tte::labels {

Result<int> RecordingPrintQueue::submit(const PrintJob& job) {
    std::lock_guard lock(m_mutex);
    if (m_submitError) {
        Error e = std::move(*m_submitError);
        m_submitError.reset();
        return std::unexpected(std::move(e));
    }
    m_jobs.push_back(job);
    const int id = static_cast<int>(m_jobs.size());
    std::deque<JobStatus> steps(m_script.begin(), m_script.end());
    if (steps.empty()) steps.push_back(JobStatus{JobState::completed, {"job-completed-successfully"}, {}});
    m_pending[id] = std::move(steps);
    return id;
}

Result<JobStatus> RecordingPrintQueue::jobStatus(int jobId) {
    std::lock_guard lock(m_mutex);
    ++m_statusQueries;
    auto it = m_pending.find(jobId);
    if (it == m_pending.end()) return fail(Errc::notFound, "no job " + std::to_string(jobId) + " on " + m_name);
    if (!it->second.empty()) {
        m_last[jobId] = it->second.front();
        it->second.pop_front();
    }
    return m_last[jobId];
}

Result<PrinterStatus> RecordingPrintQueue::printerStatus() {
    std::lock_guard lock(m_mutex);
    PrinterStatus now = m_printer.front();
    if (m_printer.size() > 1) m_printer.pop_front();
    return now;
}

Status RecordingPrintQueue::cancel(int jobId) {
    std::lock_guard lock(m_mutex);
    auto it = m_pending.find(jobId);
    if (it == m_pending.end()) return fail(Errc::notFound, "no job " + std::to_string(jobId) + " on " + m_name);
    if (m_last.contains(jobId) && m_last[jobId].state == JobState::completed) {
        return fail(Errc::conflict, "job " + std::to_string(jobId) + " already completed");
    }
    it->second.clear();
    m_last[jobId] = JobStatus{JobState::cancelled, {"job-canceled-by-user"}, {}};
    m_cancelled.push_back(jobId);
    return {};
}

void RecordingPrintQueue::setJobScript(std::vector<JobStatus> script) {
    std::lock_guard lock(m_mutex);
    m_script = std::move(script);
}

void RecordingPrintQueue::setPrinterScript(std::vector<PrinterStatus> script) {
    std::lock_guard lock(m_mutex);
    m_printer.assign(script.begin(), script.end());
    if (m_printer.empty()) m_printer.push_back(PrinterStatus{});
}

void RecordingPrintQueue::failNextSubmit(Error error) {
    std::lock_guard lock(m_mutex);
    m_submitError = std::move(error);
}

std::vector<PrintJob> RecordingPrintQueue::jobs() const {
    std::lock_guard lock(m_mutex);
    return m_jobs;
}

std::vector<int> RecordingPrintQueue::cancelledJobs() const {
    std::lock_guard lock(m_mutex);
    return m_cancelled;
}

int RecordingPrintQueue::statusQueries() const {
    std::lock_guard lock(m_mutex);
    return m_statusQueries;
}

Result<std::optional<PrintedDocument>> RecordingPrintQueue::printedDocument(int jobId) {
    std::lock_guard lock(m_mutex);
    if (jobId < 1 || static_cast<std::size_t>(jobId) > m_jobs.size()) {
        return fail(Errc::notFound, "no job " + std::to_string(jobId) + " on " + m_name);
    }
    if (!m_givesDocumentsBack) return std::optional<PrintedDocument>();
    const PrintJob& job = m_jobs[static_cast<std::size_t>(jobId) - 1];
    auto instead = m_printedInstead.find(jobId);
    const auto& bytes = instead != m_printedInstead.end() ? instead->second : job.document;
    return std::optional<PrintedDocument>(PrintedDocument{
        "fake:" + m_name + "-" + std::to_string(jobId),
        job.format == DocumentFormat::pdf ? "application/pdf" : "application/vnd.cups-raw",
        Secret(std::span<const std::uint8_t>(bytes))});
}

void RecordingPrintQueue::givesDocumentsBack(bool on) {
    std::lock_guard lock(m_mutex);
    m_givesDocumentsBack = on;
}

void RecordingPrintQueue::setPrintedDocument(int jobId, std::vector<std::uint8_t> document) {
    std::lock_guard lock(m_mutex);
    m_printedInstead[jobId] = std::move(document);
}

}  // namespace tte::labels
