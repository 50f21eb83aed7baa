// The label step against the recording PrintQueue: what is submitted, which events the
// operator sees for each printer and job state, and what counts as not printed.
#include <gtest/gtest.h>

#include "label_fixtures.h"
#include "tte/base/clock.h"
#include "tte/labels/label_printer.h"
#include "tte/labels_fake/recording_print_queue.h"

namespace tte::labels {
namespace {

using Kind = PrintEvent::Kind;

JobStatus job(JobState s, std::vector<std::string> reasons = {}) { return JobStatus{s, std::move(reasons), {}}; }
PrinterStatus printer(PrinterState s, std::vector<std::string> reasons = {"none"}) {
    return PrinterStatus{s, true, std::move(reasons), {}};
}

class LabelPrinterTest : public ::testing::Test {
protected:
    LabelPrinter makePrinter(LabelPrinterOptions options = {}, Scanner* scanner = nullptr) {
        options.wait.timeout = std::chrono::seconds(10);
        options.wait.pollInterval = std::chrono::seconds(1);
        return LabelPrinter(testing::shippedTemplates(), queue, clock, options,
                            [this](const PrintEvent& e) { events.push_back(e); }, scanner);
    }
    std::vector<std::string> messages(Kind kind) const {
        std::vector<std::string> out;
        for (const auto& e : events) {
            if (e.kind == kind) out.push_back(e.message);
        }
        return out;
    }

    RecordingPrintQueue queue{"Q"};
    ManualClock clock;
    std::vector<PrintEvent> events;
};

TEST_F(LabelPrinterTest, PrintsPdfNamedForTheDevice) {
    queue.setJobScript({job(JobState::pending), job(JobState::processing), job(JobState::completed)});
    auto printer = makePrinter();
    auto printed = printer.printDevice(testing::sampleDevice());
    ASSERT_TRUE(printed) << printed.error().toString();
    EXPECT_EQ(printed->jobId, 1);
    EXPECT_EQ(printed->queue, "Q");
    EXPECT_EQ(printed->title, "TTE device 0000002a");
    auto jobs = queue.jobs();
    ASSERT_EQ(jobs.size(), 1U);
    EXPECT_EQ(jobs[0].format, DocumentFormat::pdf);
    EXPECT_EQ(std::string(jobs[0].document.begin(), jobs[0].document.begin() + 5), "%PDF-");
    EXPECT_EQ(jobs[0].mediaName, "tte-device");
    EXPECT_EQ(jobs[0].mediaWidthMm, 50.0);
    EXPECT_EQ(jobs[0].mediaHeightMm, 30.0);
    EXPECT_EQ(messages(Kind::submitted), std::vector<std::string>{"job 1 on Q: TTE device 0000002a"});
    EXPECT_EQ(messages(Kind::completed), std::vector<std::string>{"job 1 on Q completed"});
    EXPECT_EQ(queue.statusQueries(), 3);
}

TEST_F(LabelPrinterTest, ARealPrinterGivesNothingBackSoTheRenderingWasScanned) {
    auto printed = makePrinter().printDevice(testing::sampleDevice());
    ASSERT_TRUE(printed) << printed.error().toString();
    EXPECT_EQ(printed->scannedFrom, ScanSource::rendering);
    EXPECT_FALSE(printed->document);
}

TEST_F(LabelPrinterTest, ThePrintedDocumentIsDecodedWhereTheQueueGivesItBack) {
    queue.givesDocumentsBack(true);
    auto printed = makePrinter().printDevice(testing::sampleDevice());
    ASSERT_TRUE(printed) << printed.error().toString();
    EXPECT_EQ(printed->scannedFrom, ScanSource::printedDocument);
    ASSERT_TRUE(printed->document);
    EXPECT_EQ(printed->document->path, "fake:Q-1");
    EXPECT_EQ(printed->document->format, "application/pdf");
}

TEST_F(LabelPrinterTest, APrintedDocumentThatCarriesAnotherUrlIsNotALabel) {
    queue.givesDocumentsBack(true);
    auto printer = makePrinter();
    // The printer printed another device's label for job 2 (e.g. a mixed-up spool file).
    auto other = printer.printDevice(testing::sampleDevice(0x0000002b, 0x0badc0ffee0ddf00));
    ASSERT_TRUE(other);
    queue.setPrintedDocument(2, queue.jobs()[0].document);
    auto r = printer.printDevice(testing::sampleDevice());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::corrupt);
    EXPECT_EQ(r.error().message,
              "device 0000002a: the printed document fake:Q-2: scan-back: the code does not carry the intended URL "
              "(74 bytes decoded, 74 expected)");
}

TEST_F(LabelPrinterTest, APrintedDocumentThatIsNoPdfIsReported) {
    queue.givesDocumentsBack(true);
    queue.setPrintedDocument(1, {'n', 'o', 't', ' ', 'a', ' ', 'p', 'd', 'f'});
    auto r = makePrinter().printDevice(testing::sampleDevice());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::corrupt);
    EXPECT_EQ(r.error().message, "device 0000002a: the printed document fake:Q-1: not a readable PDF document (9 bytes)");
}

TEST_F(LabelPrinterTest, BoxLabelAsZpl) {
    LabelPrinterOptions o;
    o.format = DocumentFormat::zpl;
    auto printer = makePrinter(o);
    auto box = testing::sampleBox();
    auto printed = printer.printBox(box);
    ASSERT_TRUE(printed) << printed.error().toString();
    EXPECT_EQ(printed->title, "TTE box 00000003 0000002a-0000004f");
    const auto jobs = queue.jobs();
    ASSERT_EQ(jobs.size(), 1U);
    std::string zpl(jobs[0].document.begin(), jobs[0].document.end());
    EXPECT_TRUE(zpl.starts_with("^XA")) << zpl;
    EXPECT_NE(zpl.find("^FDHA," + std::string(box.url.view()) + "^FS"), std::string::npos);
}

TEST_F(LabelPrinterTest, PausedPrinterIsReportedOnceAndTheJobCompletesAfterResume) {
    queue.setJobScript({job(JobState::pending, {"printer-stopped"}), job(JobState::pending, {"printer-stopped"}),
                        job(JobState::pending), job(JobState::completed)});
    queue.setPrinterScript({printer(PrinterState::stopped, {"paused"}), printer(PrinterState::stopped, {"paused"}),
                            printer(PrinterState::idle)});
    auto p = makePrinter();
    auto printed = p.printDevice(testing::sampleDevice());
    ASSERT_TRUE(printed) << printed.error().toString();
    EXPECT_EQ(messages(Kind::printerStopped), std::vector<std::string>{"printer Q is stopped (paused)"});
    EXPECT_EQ(messages(Kind::printerResumed), std::vector<std::string>{"printer Q is idle"});
}

TEST_F(LabelPrinterTest, OutOfLabelsIsItsOwnEvent) {
    queue.setJobScript({job(JobState::pending), job(JobState::pending), job(JobState::completed)});
    queue.setPrinterScript({printer(PrinterState::stopped, {"media-empty-error"}),
                            printer(PrinterState::idle, {"media-low-report"})});
    auto p = makePrinter();
    ASSERT_TRUE(p.printDevice(testing::sampleDevice()));
    EXPECT_EQ(messages(Kind::printerStopped), std::vector<std::string>{"printer Q is stopped (media-empty-error)"});
    EXPECT_EQ(messages(Kind::printerResumed), std::vector<std::string>{"printer Q is idle (media-low-report)"});
}

TEST_F(LabelPrinterTest, HeldJobIsReported) {
    queue.setJobScript({job(JobState::held, {"job-hold-until-specified"}), job(JobState::completed)});
    auto p = makePrinter();
    ASSERT_TRUE(p.printDevice(testing::sampleDevice()));
    EXPECT_EQ(messages(Kind::jobHeld), std::vector<std::string>{"job 1 on Q is held (job-hold-until-specified)"});
}

TEST_F(LabelPrinterTest, CancelledAndAbortedJobsAreNotPrinted) {
    queue.setJobScript({job(JobState::pending), job(JobState::cancelled, {"job-canceled-by-user"})});
    auto p = makePrinter();
    auto cancelled = p.printDevice(testing::sampleDevice());
    ASSERT_FALSE(cancelled);
    EXPECT_EQ(cancelled.error().code, Errc::cancelled);
    EXPECT_EQ(cancelled.error().message, "device 0000002a: job 1 on Q was cancelled: the label was not printed");
    queue.setJobScript({job(JobState::processing), job(JobState::aborted, {"aborted-by-system"})});
    auto aborted = p.printDevice(testing::sampleDevice());
    ASSERT_FALSE(aborted);
    EXPECT_EQ(aborted.error().code, Errc::io);
    EXPECT_EQ(aborted.error().message,
              "device 0000002a: job 2 on Q was aborted: the label was not printed (aborted-by-system)");
    EXPECT_TRUE(messages(Kind::completed).empty());
}

TEST_F(LabelPrinterTest, DeadlineIsOnTheInjectedClock) {
    queue.setJobScript({job(JobState::pending, {"printer-stopped"})});
    queue.setPrinterStatus(printer(PrinterState::stopped, {"paused"}));
    auto p = makePrinter();
    const auto start = clock.now();
    auto r = p.printDevice(testing::sampleDevice());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::timeout);
    EXPECT_EQ(r.error().message, "device 0000002a: job 1 on Q did not complete within 10 s (job 1 on Q is pending "
                                 "(printer-stopped); printer Q is stopped (paused))");
    EXPECT_EQ(clock.now() - start, std::chrono::seconds(10));
    EXPECT_EQ(queue.statusQueries(), 11);
}

TEST_F(LabelPrinterTest, QueueErrorsKeepTheirCode) {
    queue.failNextSubmit(Error{Errc::unavailable, "queue Q is not accepting jobs", "IPP", 0x0506,
                               "server-error-not-accepting-jobs"});
    auto p = makePrinter();
    auto r = p.printDevice(testing::sampleDevice());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_EQ(r.error().message, "device 0000002a: queue Q is not accepting jobs");
    EXPECT_EQ(r.error().nativeName, "server-error-not-accepting-jobs");
}

TEST_F(LabelPrinterTest, ReprintGivesTheSameLabelAndIsLogged) {
    LabelPrinterOptions o;
    o.format = DocumentFormat::zpl;
    auto p = makePrinter(o);
    ASSERT_TRUE(p.printDevice(testing::sampleDevice()));
    auto again = p.reprintDevice(testing::sampleDevice(), "label torn at packing");
    ASSERT_TRUE(again) << again.error().toString();
    EXPECT_EQ(again->title, "TTE device 0000002a reprint");
    auto jobs = queue.jobs();
    ASSERT_EQ(jobs.size(), 2U);
    EXPECT_EQ(jobs[0].document, jobs[1].document);  // same URL, so the same OTP
    EXPECT_EQ(messages(Kind::reprint),
              std::vector<std::string>{"reprinted the label of device 0000002a (label torn at packing): job 2 on Q"});
    auto noReason = p.reprintDevice(testing::sampleDevice(), "");
    ASSERT_FALSE(noReason);
    EXPECT_EQ(noReason.error().message, "device 0000002a: reprint needs a reason");
    EXPECT_EQ(queue.jobs().size(), 2U);
}

TEST_F(LabelPrinterTest, BadLabelIsNeverSubmitted) {
    auto p = makePrinter();
    auto d = testing::sampleDevice();
    d.devId = 0x99;
    auto r = p.printDevice(d);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "device 00000099: device label: the URL is for Dev ID 0000002a, the label shows 00000099");
    EXPECT_TRUE(queue.jobs().empty());
}

class FixedScanner final : public Scanner {
public:
    explicit FixedScanner(std::string code) : m_code(std::move(code)) {}
    Result<Secret> scan(Clock::Duration) override { return Secret(m_code); }

private:
    std::string m_code;
};

TEST_F(LabelPrinterTest, StationScannerMustReadThePrintedCode) {
    FixedScanner good(testing::enrollmentUrl(0x123456789abcdef0, 0x2a));
    auto p = makePrinter({}, &good);
    EXPECT_TRUE(p.printDevice(testing::sampleDevice()));
    FixedScanner other(testing::enrollmentUrl(0x123456789abcdef0, 0x2b));
    auto q = makePrinter({}, &other);
    auto r = q.printDevice(testing::sampleDevice());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::corrupt);
    EXPECT_EQ(r.error().message, "device 0000002a: scanner read a different code (74 bytes, 74 expected)");
}

TEST_F(LabelPrinterTest, PreviewIsAVerifiedPng) {
    auto p = makePrinter();
    auto png = p.previewBox(testing::sampleBox());
    ASSERT_TRUE(png) << png.error().toString();
    auto raster = decodePng(*png, 203);
    ASSERT_TRUE(raster);
    EXPECT_TRUE(verifyScan(*raster, testing::sampleBox().url));
    EXPECT_TRUE(queue.jobs().empty());
}

TEST(PrinterFault, NamesWhatStopsThePrinterInTheOperatorsWords) {
    const auto fault = [](PrinterState state, std::vector<std::string> reasons, std::string message = {},
                          bool accepting = true) {
        auto f = printerFault("Q", PrinterStatus{state, accepting, std::move(reasons), std::move(message)});
        return f ? f->problem + " | " + f->action : std::string("none");
    };
    EXPECT_EQ(fault(PrinterState::idle, {"none"}), "none");
    EXPECT_EQ(fault(PrinterState::processing, {"media-low-report"}), "none");
    EXPECT_EQ(fault(PrinterState::processing, {"media-empty-error"}), "printer Q is out of labels | load a roll");
    EXPECT_EQ(fault(PrinterState::stopped, {"paused", "media-jam"}), "printer Q has a label jam | clear the jam");
    // cupsdisable: CUPS's own word for the pause says nothing more.
    EXPECT_EQ(fault(PrinterState::stopped, {"paused"}, "Paused"), "printer Q is paused | resume it (cupsenable Q)");
    EXPECT_EQ(fault(PrinterState::stopped, {"paused"}), "printer Q is paused | resume it (cupsenable Q)");
    // The backend stopped the queue: its words are the fault, not a pause to undo blindly.
    EXPECT_EQ(fault(PrinterState::stopped, {"paused"}, "tte-file: /out/Q-1.pdf exists already"),
              "printer Q is paused: tte-file: /out/Q-1.pdf exists already | fix what it names, then resume it (cupsenable Q)");
    EXPECT_EQ(fault(PrinterState::stopped, {"none"}, "Unable to open device"),
              "printer Q is stopped: Unable to open device | fix what it names, then resume it (cupsenable Q)");
    EXPECT_EQ(fault(PrinterState::idle, {"none"}, {}, false), "printer Q does not accept jobs | let it accept jobs (cupsaccept Q)");
}

TEST(RecordingPrintQueue, CancelAndUnknownJobs) {
    RecordingPrintQueue q("Q");
    q.setJobScript({job(JobState::pending)});
    auto id = q.submit(PrintJob{});
    ASSERT_TRUE(id);
    ASSERT_TRUE(q.cancel(*id));
    EXPECT_EQ(q.jobStatus(*id)->state, JobState::cancelled);
    EXPECT_EQ(q.cancelledJobs(), std::vector<int>{1});
    EXPECT_EQ(q.jobStatus(7).error().code, Errc::notFound);
}

}  // namespace
}  // namespace tte::labels
