// The station's labels through tte::labels (see labels_printer.h).
#include "tte/station/adapters/labels_printer.h"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tte/base/hex.h"
#include "tte/labels/label_printer.h"
#include "tte/labels/layout.h"
#include "tte/labels/render.h"
#include "tte/labels/scan.h"

namespace tte::station {
namespace {

std::string isoDate(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

Status writeFile(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) return fail(Errc::io, "cannot write " + path);
    return {};
}

}  // namespace

LabelsPrinter::LabelsPrinter(const labels::LabelTemplates& templates, labels::PrintQueue& queue, Clock& clock,
                             std::string msHost, std::string labelsDir)
    : m_templates(templates), m_printer(std::make_unique<labels::LabelPrinter>(templates, queue, clock)), m_clock(clock),
      m_msHost(std::move(msHost)), m_dir(std::move(labelsDir)), m_queue(queue) {
    std::error_code ec;
    std::filesystem::create_directories(m_dir, ec);
}

LabelsPrinter::~LabelsPrinter() = default;

namespace {

labels::DeviceLabel deviceLabel(const DeviceLabel& label, const std::string& msHost, const std::string& date) {
    return labels::DeviceLabel{label.url.clone(), label.devId, msHost, label.lot, date};
}

}  // namespace

Result<PrintedLabel> LabelsPrinter::print(const DeviceLabel& label) {
    std::lock_guard lock(m_mutex);
    const std::string date = isoDate(m_clock.wallNow());
    if (label.boxRange) {
        labels::BoxLabel box{label.url.clone(), label.devId, label.boxRange->first, label.boxRange->second,
                             m_msHost, label.lot, date};
        auto printed = m_printer->printBox(box);
        if (!printed) return std::unexpected(printed.error());
        return keep(label, *printed);
    }
    auto printed = m_printer->printDevice(deviceLabel(label, m_msHost, date));
    if (!printed) return std::unexpected(printed.error());
    return keep(label, *printed);
}

Result<int> LabelsPrinter::submit(const DeviceLabel& label) {
    std::lock_guard lock(m_mutex);
    return m_printer->submitDevice(deviceLabel(label, m_msHost, isoDate(m_clock.wallNow())));
}

Result<LabelJobState> LabelsPrinter::jobState(int job) {
    std::lock_guard lock(m_mutex);
    auto s = m_queue.jobStatus(job);
    const std::string name = "job " + std::to_string(job) + " on " + m_queue.name();
    if (!s && s.error().code == Errc::notFound) {
        // A print server that lost its spool (restarted afresh) no longer knows the job.
        return LabelJobState{LabelJobState::Kind::lost, name + " is gone from the queue: the label was not printed", {}};
    }
    if (!s) return std::unexpected(s.error());
    std::string text = name + " is " + std::string(labels::jobStateName(s->state));
    std::string reasons;
    for (const auto& r : s->reasons)
        if (r != "none") reasons += (reasons.empty() ? "" : ", ") + r;
    if (!reasons.empty()) text += " (" + reasons + ")";
    switch (s->state) {
        case labels::JobState::completed: return LabelJobState{LabelJobState::Kind::printed, text, {}};
        case labels::JobState::cancelled:
        case labels::JobState::aborted: return LabelJobState{LabelJobState::Kind::lost, text + ": the label was not printed", {}};
        case labels::JobState::held:
            // Held in the queue (job-hold-until, ...): the same job goes on once released.
            return LabelJobState{LabelJobState::Kind::waiting, text,
                                 "release job " + std::to_string(job) + " (lp -i " + std::to_string(job) + " -H resume)"};
        default: return LabelJobState{LabelJobState::Kind::waiting, text, {}};
    }
}

PrinterCondition LabelsPrinter::printerCondition() {
    std::lock_guard lock(m_mutex);
    auto p = m_queue.printerStatus();
    if (!p && p.error().code == Errc::notFound)
        return PrinterCondition{false, false, "printer " + m_queue.name() + " does not exist on " + m_server,
                                "add the queue " + m_queue.name() + " to " + m_server};
    if (!p)
        return PrinterCondition{false, false, "printer " + m_queue.name() + " cannot be reached (" + p.error().message + ")",
                                "start " + m_server};
    if (auto fault = labels::printerFault(m_queue.name(), *p))
        return PrinterCondition{false, p->acceptingJobs, fault->problem, fault->action};
    return PrinterCondition{};
}

Result<PrintedLabel> LabelsPrinter::collect(const DeviceLabel& label, int job) {
    std::lock_guard lock(m_mutex);
    auto printed = m_printer->collectDevice(deviceLabel(label, m_msHost, isoDate(m_clock.wallNow())), job);
    if (!printed) return std::unexpected(printed.error());
    return keep(label, *printed);
}

Status LabelsPrinter::cancel(int job) {
    std::lock_guard lock(m_mutex);
    return m_queue.cancel(job);
}

Result<PrintedLabel> LabelsPrinter::keep(const DeviceLabel& label, const labels::PrintedLabel& printed) {
    const std::string date = isoDate(m_clock.wallNow());
    Result<labels::LabelLayout> layout = fail(Errc::internal, "not laid out");
    std::string path;
    if (label.boxRange) {
        labels::BoxLabel box{label.url.clone(), label.devId, label.boxRange->first, label.boxRange->second,
                             m_msHost, label.lot, date};
        layout = labels::layoutBoxLabel(m_templates.box, box);
        path = m_dir + "/box-" + toHex(label.devId, 8);
    } else {
        layout = labels::layoutDeviceLabel(m_templates.device, deviceLabel(label, m_msHost, date));
        path = m_dir + "/" + toHex(label.devId, 8);
    }
    if (!layout) return std::unexpected(layout.error());
    // The label kept is what was printed: the printer's document and its raster where the
    // queue gives it back, else the station's rendering (PDF as sent, PNG as a thermal head
    // prints it). scanBack() decodes that PNG.
    const std::string job = printed.queue + "-" + std::to_string(printed.jobId);
    std::string scannedFrom = "rendering";
    Result<std::vector<std::uint8_t>> pdf = fail(Errc::internal, "no PDF");
    Result<labels::Raster> raster = fail(Errc::internal, "no raster");
    if (printed.scannedFrom == labels::ScanSource::printedDocument && printed.document) {
        const auto bytes = printed.document->bytes.bytes();
        pdf = std::vector<std::uint8_t>(bytes.begin(), bytes.end());
        raster = labels::rasterizePdf(bytes, layout->dpi);
        scannedFrom = "printed document " + printed.document->path;
    } else {
        pdf = labels::renderPdf(*layout);
        raster = labels::renderRaster(*layout);
    }
    if (!pdf) return std::unexpected(pdf.error());
    if (!raster) return std::unexpected(raster.error());
    auto png = labels::encodePng(*raster);
    if (!png) return std::unexpected(png.error());
    auto written = writeFile(path + ".pdf", *pdf);
    secureZero(pdf->data(), pdf->size());
    if (!written) return std::unexpected(written.error());
    if (auto s = writeFile(path + ".png", *png); !s) return std::unexpected(s.error());
    return PrintedLabel{job, path + ".png", scannedFrom};
}

Result<Secret> LabelsPrinter::scanBack(const PrintedLabel& printed) {
    std::ifstream in(printed.artefact, std::ios::binary);
    if (!in) return fail(Errc::io, "scan-back: cannot read " + printed.artefact);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto raster = labels::decodePng(bytes, 203);
    if (!raster) return std::unexpected(raster.error());
    auto codes = labels::decodeQrCodes(*raster);
    if (!codes) return std::unexpected(codes.error());
    if (codes->empty()) return fail(Errc::corrupt, "scan-back: no QR code found");
    if (codes->size() != 1) return fail(Errc::corrupt, "scan-back: " + std::to_string(codes->size()) + " QR codes found");
    return std::move((*codes)[0]);
}

Result<std::unique_ptr<labels::LabelTemplates>> loadTemplates(const std::string& path) {
    auto t = labels::loadLabelTemplates(path);
    if (!t) return std::unexpected(t.error());
    return std::make_unique<labels::LabelTemplates>(std::move(*t));
}

}  // namespace tte::station
