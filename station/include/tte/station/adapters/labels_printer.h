// LabelPrinter over tte::labels: lay out with the lot's template, print through a
// PrintQueue (CUPS) and wait for the job, keep the rendered label as PNG in the labels
// folder with the PDF the printer was sent, and scan back that PNG with zbar.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "tte/base/clock.h"
#include "tte/station/ports.h"

namespace tte::labels {
class PrintQueue;
class LabelPrinter;
struct PrintedLabel;
struct LabelTemplates;
}

namespace tte::station {

class LabelsPrinter final : public LabelPrinter {
public:
    /// `queue` and `clock` must outlive this object. Labels are saved as
    /// `<labelsDir>/<devid>.png` (box labels `box-<box>.png`).
    LabelsPrinter(const labels::LabelTemplates& templates, labels::PrintQueue& queue, Clock& clock,
                  std::string msHost, std::string labelsDir);
    ~LabelsPrinter() override;

    /// Errors: those of tte::labels (layout, scan-back of the rendered label, the queue and
    /// the job), io when the PNG cannot be written.
    Result<PrintedLabel> print(const DeviceLabel& label) override;
    /// Errors: io (PNG unreadable), corrupt "scan-back: no QR code found" / "N QR codes found".
    Result<Secret> scanBack(const PrintedLabel& printed) override;

    Result<int> submit(const DeviceLabel& label) override;
    /// cancelled, aborted and a job the queue no longer knows are `lost`.
    Result<LabelJobState> jobState(int job) override;
    /// labels::printerFault() of the queue's state; unreachable: "printer Q cannot be reached
    /// (<the error>)", "start CUPS at <host:port>" (the server named by `serverName`).
    PrinterCondition printerCondition() override;
    Result<PrintedLabel> collect(const DeviceLabel& label, int job) override;
    Status cancel(int job) override;

    /// The print server, for the operator's message when it cannot be reached (e.g. "CUPS at 127.0.0.1:631").
    void setServerName(std::string name) { m_server = std::move(name); }

private:
    /// Keeps what was printed as `<dir>/<devid>.pdf|png` (box-<box>.…) and says what scanBack() reads.
    Result<PrintedLabel> keep(const DeviceLabel& label, const labels::PrintedLabel& printed);

    std::mutex m_mutex;  // the queue has one IPP connection: one label at a time
    const labels::LabelTemplates& m_templates;
    std::unique_ptr<labels::LabelPrinter> m_printer;
    Clock& m_clock;
    std::string m_msHost;
    std::string m_dir;
    labels::PrintQueue& m_queue;
    std::string m_server = "CUPS";
};

/// Reads a label template file (config/labels.toml form). Errors: those of tte::labels.
Result<std::unique_ptr<labels::LabelTemplates>> loadTemplates(const std::string& path);

}  // namespace tte::station
