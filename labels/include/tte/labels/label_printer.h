// The station's label step: lay out, render, scan back, print, wait for the printer, and
// optionally read the printed label with a scanner. Nothing is reported as printed unless
// the code was decoded back to the intended URL and the print job completed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/clock.h"
#include "tte/base/error.h"
#include "tte/labels/label_content.h"
#include "tte/labels/label_template.h"
#include "tte/labels/layout.h"
#include "tte/labels/print_queue.h"
#include "tte/labels/scan.h"

namespace tte::labels {

struct LabelPrinterOptions {
    DocumentFormat format = DocumentFormat::pdf;  ///< pdf for CUPS drivers, zpl for raw Zebra queues
    WaitOptions wait;
    Clock::Duration scanTimeout = std::chrono::seconds(20);  ///< for the station's scanner, if any
};

/// Which document the scan-back of a printed label decoded.
enum class ScanSource {
    printedDocument,  ///< what the printer was given, as the queue gave it back (tte-file)
    rendering,        ///< the station's own rendering: the queue gives nothing back (a real printer)
};

struct PrintedLabel {
    int jobId = 0;
    std::string queue;
    std::string title;  ///< the job title, naming the Dev ID or box
    ScanSource scannedFrom = ScanSource::rendering;
    std::optional<PrintedDocument> document;  ///< the printed document, where the queue gave it back
};

class LabelPrinter {
public:
    /// `queue`, `clock` and `scanner` (may be null) must outlive this object.
    LabelPrinter(LabelTemplates templates, PrintQueue& queue, Clock& clock, LabelPrinterOptions options = {},
                 PrintEventSink events = {}, Scanner* scanner = nullptr);

    /// Prints a device label; job title "TTE device <devid>". The rendering is scanned back
    /// before it is sent; once the job completed, the document the printer was given is
    /// decoded again where the queue gives it back (PrintQueue::printedDocument), otherwise the
    /// result says the rendering was the one scanned. Errors: the layout's (invalidArgument,
    /// outOfRange), corrupt (scan-back, printed document or scanner mismatch), the queue's and
    /// waitForJob()'s (cancelled, io, timeout, unavailable, ...), each prefixed "device <devid>: ".
    Result<PrintedLabel> printDevice(const DeviceLabel& label);

    /// The first half of printDevice(), for a caller that waits for the job itself (the
    /// station's line, which holds while the printer is down): lay out, render, scan back the
    /// rendering, submit. Returns the job id. Errors: as printDevice() up to the submission.
    Result<int> submitDevice(const DeviceLabel& label);

    /// The second half, once job `jobId` (of submitDevice() for the same label) completed:
    /// the printed document decoded where the queue gives it back, the scanner read.
    /// Errors: as printDevice() after the wait.
    Result<PrintedLabel> collectDevice(const DeviceLabel& label, int jobId);

    /// Prints a box label; job title "TTE box <box> <first>-<last>". Errors as printDevice().
    Result<PrintedLabel> printBox(const BoxLabel& label);

    /// Prints a device's label again from its record (same URL, so the same OTP), with job
    /// title "TTE device <devid> reprint", and reports a PrintEvent::reprint naming the
    /// reason and the job. Errors: invalidArgument "reprint needs a reason", and those of
    /// printDevice().
    Result<PrintedLabel> reprintDevice(const DeviceLabel& label, std::string_view reason);

    /// The label as PNG for a screen (scan-back verified). Errors: as printDevice() before printing.
    Result<std::vector<std::uint8_t>> previewDevice(const DeviceLabel& label) const;
    Result<std::vector<std::uint8_t>> previewBox(const BoxLabel& label) const;

private:
    Result<PrintJob> makeJob(const LabelLayout& layout, std::string title) const;
    Result<int> submitJob(const PrintJob& job);
    /// After job `jobId` completed: scanPrinted() and the station's scanner.
    Result<PrintedLabel> finish(int jobId, const std::string& title, const Secret& url, int dpi);
    /// Decodes the printed document of a completed job, where the queue gives it back.
    Status scanPrinted(PrintedLabel& printed, const Secret& url, int dpi);
    /// Job from the layout, submit, wait; errors prefixed with `name` (`errorName` after submit).
    Result<PrintedLabel> printLayout(const Result<LabelLayout>& layout, const std::string& name,
                                     const std::string& title, const Secret& url, const std::string& errorName);

    LabelTemplates m_templates;
    PrintQueue& m_queue;
    Clock& m_clock;
    LabelPrinterOptions m_options;
    PrintEventSink m_events;
    Scanner* m_scanner;
};

}  // namespace tte::labels
