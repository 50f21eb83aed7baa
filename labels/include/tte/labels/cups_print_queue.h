// The CUPS adapter of PrintQueue: IPP through libcups on its own connection to a given
// server and port (never the machine's default server), so the station can name its label
// printer's server and tests can talk to a private cupsd.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "tte/base/clock.h"
#include "tte/labels/print_queue.h"

namespace tte::labels {

struct CupsEndpoint {
    std::string host = "127.0.0.1";
    int port = 631;
    std::string queue;                     ///< the printer's name on that server
    std::string user = "tte-station";      ///< requesting-user-name
    Clock::Duration connectTimeout = std::chrono::seconds(5);
};

/// One IPP connection to one queue. Not thread-safe: one printer worker owns it.
class CupsPrintQueue final : public PrintQueue {
public:
    /// Opens the connection. Errors: invalidArgument (empty queue name, port out of range),
    /// unavailable (cannot connect; the errno text in nativeName).
    static Result<std::unique_ptr<CupsPrintQueue>> connect(const CupsEndpoint& endpoint);
    ~CupsPrintQueue() override;
    CupsPrintQueue(const CupsPrintQueue&) = delete;
    CupsPrintQueue& operator=(const CupsPrintQueue&) = delete;

    [[nodiscard]] std::string name() const override { return m_endpoint.queue; }
    /// IPP Print-Job with job-name = title, document-format (application/pdf or
    /// application/vnd.cups-raw) and media = the PWG self-describing size
    /// `om_<name>_<w>x<h>mm` so the page is the label. Errors: those of PrintQueue::submit();
    /// the IPP status is kept (domain "IPP", nativeName e.g. "client-error-not-found").
    Result<int> submit(const PrintJob& job) override;
    /// IPP Get-Job-Attributes: job-state, job-state-reasons, job-state-message.
    Result<JobStatus> jobStatus(int jobId) override;
    /// IPP Get-Printer-Attributes: printer-state, printer-state-reasons, printer-state-message,
    /// printer-is-accepting-jobs.
    Result<PrinterStatus> printerStatus() override;
    /// IPP Cancel-Job.
    Status cancel(int jobId) override;
    /// For a queue whose device-uri is `tte-file:/folder` on a server of this machine
    /// (loopback or a local socket): the file `<folder>/<queue>-<job>.<ext>` that the tte-file
    /// backend wrote. std::nullopt for any other device (a real printer). The device-uri is
    /// asked once (IPP Get-Printer-Attributes). Errors: notFound "job N on Q completed but the
    /// printer's document <folder>/Q-N.* is not there", io, and the IPP errors.
    Result<std::optional<PrintedDocument>> printedDocument(int jobId) override;

private:
    struct Connection;
    CupsPrintQueue(CupsEndpoint endpoint, std::unique_ptr<Connection> connection);

    /// The tte-file folder of the queue, or "" for any other device; asked once.
    Result<std::string> documentFolder();

    CupsEndpoint m_endpoint;
    std::optional<std::string> m_documentFolder;
    std::string m_printerUri;
    std::string m_resource;
    std::unique_ptr<Connection> m_connection;
};

}  // namespace tte::labels
