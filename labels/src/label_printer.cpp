// The label step of the station: render, verify by scan-back, print, wait, optionally scan.
#include "tte/labels/label_printer.h"

#include "tte/base/hex.h"
#include "tte/labels/render.h"
#include "tte/labels/zpl.h"

namespace tte::labels {

LabelPrinter::LabelPrinter(LabelTemplates templates, PrintQueue& queue, Clock& clock, LabelPrinterOptions options,
                           PrintEventSink events, Scanner* scanner)
    : m_templates(std::move(templates)),
      m_queue(queue),
      m_clock(clock),
      m_options(options),
      m_events(std::move(events)),
      m_scanner(scanner) {}

namespace {

std::string deviceName(const DeviceLabel& l) { return "device " + toHex(l.devId, 8); }

std::string boxName(const BoxLabel& l) {
    return "box " + toHex(l.box, 8) + " " + toHex(l.firstDevId, 8) + "-" + toHex(l.lastDevId, 8);
}

Result<std::vector<std::uint8_t>> verifiedPng(const Result<LabelLayout>& layout) {
    if (!layout) return std::unexpected(layout.error());
    auto raster = renderRaster(*layout);
    if (!raster) return std::unexpected(raster.error());
    if (auto st = verifyScan(*raster, layout->url); !st) return std::unexpected(st.error());
    return encodePng(*raster);
}

}  // namespace

Result<PrintJob> LabelPrinter::makeJob(const LabelLayout& layout, std::string title) const {
    // Scan-back first: a label whose code does not decode to its URL is never printed.
    auto raster = renderRaster(layout);
    if (!raster) return std::unexpected(raster.error());
    if (auto st = verifyScan(*raster, layout.url); !st) return std::unexpected(st.error());
    PrintJob job;
    job.title = std::move(title);
    job.format = m_options.format;
    job.mediaName = "tte-" + layout.name;
    job.mediaWidthMm = layout.widthMm;
    job.mediaHeightMm = layout.heightMm;
    if (m_options.format == DocumentFormat::pdf) {
        auto pdf = renderPdf(layout);
        if (!pdf) return std::unexpected(pdf.error());
        job.document = std::move(*pdf);
    } else {
        auto zpl = renderZpl(layout);
        if (!zpl) return std::unexpected(zpl.error());
        job.document.assign(zpl->begin(), zpl->end());
    }
    return job;
}

Status LabelPrinter::scanPrinted(PrintedLabel& printed, const Secret& url, int dpi) {
    auto document = m_queue.printedDocument(printed.jobId);
    if (!document) return withContext(document.error(), "reading back job " + std::to_string(printed.jobId));
    if (!*document) return {};  // a real printer: the rendering was scanned before sending
    const std::string what = "the printed document " + (*document)->path;
    if ((*document)->format != "application/pdf") {
        // A raw queue's document is the printer's own language (ZPL): nothing here renders it.
        return {};
    }
    auto raster = rasterizePdf((*document)->bytes.bytes(), dpi);
    if (!raster) return withContext(raster.error(), what);
    if (auto st = verifyScan(*raster, url); !st) return withContext(st.error(), what);
    printed.scannedFrom = ScanSource::printedDocument;
    printed.document = std::move(*document);
    return {};
}

Result<int> LabelPrinter::submitJob(const PrintJob& job) {
    auto id = m_queue.submit(job);
    if (!id) return std::unexpected(id.error());
    if (m_events) {
        m_events(PrintEvent{PrintEvent::Kind::submitted, *id,
                            "job " + std::to_string(*id) + " on " + m_queue.name() + ": " + job.title});
    }
    return id;
}

Result<PrintedLabel> LabelPrinter::finish(int jobId, const std::string& title, const Secret& url, int dpi) {
    PrintedLabel printed{jobId, m_queue.name(), title, ScanSource::rendering, std::nullopt};
    if (auto st = scanPrinted(printed, url, dpi); !st) return std::unexpected(st.error());
    if (m_scanner != nullptr) {
        if (auto st = verifyWithScanner(*m_scanner, url, m_options.scanTimeout); !st) {
            return std::unexpected(st.error());
        }
    }
    return printed;
}

Result<PrintedLabel> LabelPrinter::printLayout(const Result<LabelLayout>& layout, const std::string& name,
                                               const std::string& title, const Secret& url,
                                               const std::string& errorName) {
    if (!layout) return withContext(layout.error(), name);
    auto job = makeJob(*layout, title);
    if (!job) return withContext(job.error(), name);
    auto id = submitJob(*job);
    if (!id) return withContext(id.error(), errorName);
    if (auto st = waitForJob(m_queue, *id, m_clock, m_options.wait, m_events); !st) return withContext(st.error(), errorName);
    auto printed = finish(*id, title, url, layout->dpi);
    if (!printed) return withContext(printed.error(), errorName);
    return printed;
}

Result<PrintedLabel> LabelPrinter::printDevice(const DeviceLabel& label) {
    const std::string name = deviceName(label);
    return printLayout(layoutDeviceLabel(m_templates.device, label), name, "TTE " + name, label.url, name);
}

Result<int> LabelPrinter::submitDevice(const DeviceLabel& label) {
    const std::string name = deviceName(label);
    auto layout = layoutDeviceLabel(m_templates.device, label);
    if (!layout) return withContext(layout.error(), name);
    auto job = makeJob(*layout, "TTE " + name);
    if (!job) return withContext(job.error(), name);
    auto id = submitJob(*job);
    if (!id) return withContext(id.error(), name);
    return id;
}

Result<PrintedLabel> LabelPrinter::collectDevice(const DeviceLabel& label, int jobId) {
    const std::string name = deviceName(label);
    auto layout = layoutDeviceLabel(m_templates.device, label);
    if (!layout) return withContext(layout.error(), name);
    auto printed = finish(jobId, "TTE " + name, label.url, layout->dpi);
    if (!printed) return withContext(printed.error(), name);
    return printed;
}

Result<PrintedLabel> LabelPrinter::printBox(const BoxLabel& label) {
    const std::string name = boxName(label);
    return printLayout(layoutBoxLabel(m_templates.box, label), name, "TTE " + name, label.url, name);
}

Result<PrintedLabel> LabelPrinter::reprintDevice(const DeviceLabel& label, std::string_view reason) {
    const std::string name = deviceName(label);
    if (reason.empty()) return fail(Errc::invalidArgument, name + ": reprint needs a reason");
    auto printed = printLayout(layoutDeviceLabel(m_templates.device, label), name, "TTE " + name + " reprint",
                               label.url, name + " reprint");
    if (!printed) return printed;
    if (m_events) {
        m_events(PrintEvent{PrintEvent::Kind::reprint, printed->jobId,
                            "reprinted the label of " + name + " (" + std::string(reason) + "): job " +
                                std::to_string(printed->jobId) + " on " + printed->queue});
    }
    return printed;
}

Result<std::vector<std::uint8_t>> LabelPrinter::previewDevice(const DeviceLabel& label) const {
    auto png = verifiedPng(layoutDeviceLabel(m_templates.device, label));
    if (!png) return withContext(png.error(), deviceName(label));
    return png;
}

Result<std::vector<std::uint8_t>> LabelPrinter::previewBox(const BoxLabel& label) const {
    auto png = verifiedPng(layoutBoxLabel(m_templates.box, label));
    if (!png) return withContext(png.error(), boxName(label));
    return png;
}

}  // namespace tte::labels
