// The CUPS adapter against a real, private cupsd whose queues print through the tte-file
// backend: every job comes out as its own PDF that, rasterized at the printer's 203 dpi in
// black and white (pdftoppm and zbarimg, independent of the code under test), decodes to
// exactly the intended URL, and the label printer scans back that printed document; a paused
// printer and an empty label roll are reported and the job completes once resolved; a
// cancelled job is reported as not printed; a job file that exists already stops the queue,
// unless it is of the same job, started again by cupsd.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "label_fixtures.h"
#include "support/cupsd.h"
#include "tte/base/clock.h"
#include "tte/labels/cups_print_queue.h"
#include "tte/labels/label_printer.h"

namespace tte::labels {
namespace {

using test::PrivateCupsd;

std::string readAll(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class CupsIntegration : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto t = testing::shippedTemplates();
        s_cupsd = std::make_unique<PrivateCupsd>(std::vector<std::pair<double, double>>{
            {t.device.widthMm, t.device.heightMm}, {t.box.widthMm, t.box.heightMm}});
    }
    static void TearDownTestSuite() { s_cupsd.reset(); }  // runs whether the tests passed or not

    void SetUp() override {
        ASSERT_TRUE(s_cupsd->error().empty()) << s_cupsd->error();
        m_queueName = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        ASSERT_EQ(s_cupsd->addQueue(m_queueName), "");
    }

    std::unique_ptr<CupsPrintQueue> connect(const std::string& queue) {
        auto q = CupsPrintQueue::connect({"127.0.0.1", s_cupsd->port(), queue, "tte-test", std::chrono::seconds(5)});
        EXPECT_TRUE(q) << q.error().toString();
        return q ? std::move(*q) : nullptr;
    }

    LabelPrinter printer(PrintQueue& q, Clock& clock, PrintEventSink sink = {}) {
        LabelPrinterOptions o;
        o.wait.timeout = std::chrono::seconds(30);
        o.wait.pollInterval = std::chrono::milliseconds(50);
        return LabelPrinter(testing::shippedTemplates(), q, clock, o, std::move(sink));
    }

    int cups(std::vector<std::string> argv) {
        argv.insert(argv.begin() + 1, {"-h", s_cupsd->server()});
        return s_cupsd->run(argv);
    }

    // Rasterizes a job's printed document as a 203 dpi thermal printer would and decodes it.
    std::string scanOutput(int jobId, int* widthDots = nullptr, int* heightDots = nullptr) {
        const auto dir = s_cupsd->dir();
        const auto prefix = dir / ("scan-" + m_queueName);
        std::filesystem::remove(prefix.string() + ".pbm");
        EXPECT_EQ(s_cupsd->run({"pdftoppm", "-r", "203", "-mono", "-singlefile",
                                s_cupsd->output(m_queueName, jobId).string(), prefix.string()}),
                  0);
        const auto pbm = prefix.string() + ".pbm";
        std::ifstream in(pbm, std::ios::binary);
        std::string magic;
        int w = 0, h = 0;
        in >> magic >> w >> h;
        EXPECT_EQ(magic, "P4");
        if (widthDots) *widthDots = w;
        if (heightDots) *heightDots = h;
        const auto decoded = dir / ("decoded-" + m_queueName + ".txt");
        std::filesystem::remove(decoded);
        EXPECT_EQ(s_cupsd->run({"zbarimg", "--nodbus", "--raw", "-q", pbm}, decoded), 0);
        std::string text = readAll(decoded);
        if (!text.empty() && text.back() == '\n') text.pop_back();
        return text;
    }

    static std::unique_ptr<PrivateCupsd> s_cupsd;
    std::string m_queueName;
};

std::unique_ptr<PrivateCupsd> CupsIntegration::s_cupsd;

TEST_F(CupsIntegration, DeviceAndBoxLabelsPrintAndScanBack) {
    auto q = connect(m_queueName);
    ASSERT_TRUE(q);
    SystemClock clock;
    auto p = printer(*q, clock);

    auto device = testing::sampleDevice();
    auto printed = p.printDevice(device);
    ASSERT_TRUE(printed) << printed.error().toString();
    int w = 0, h = 0;
    EXPECT_EQ(scanOutput(printed->jobId, &w, &h), std::string(device.url.view()));
    EXPECT_NEAR(w, 400, 1);  // the page is the 50 x 30 mm label
    EXPECT_NEAR(h, 240, 1);
    // The label printer decoded the document the printer was given, not its own rendering.
    EXPECT_EQ(printed->scannedFrom, ScanSource::printedDocument);
    ASSERT_TRUE(printed->document);
    EXPECT_EQ(printed->document->path, s_cupsd->output(m_queueName, printed->jobId).string());
    EXPECT_EQ(printed->document->format, "application/pdf");
    EXPECT_EQ(std::string(printed->document->bytes.view()), readAll(s_cupsd->output(m_queueName, printed->jobId)));

    auto box = testing::sampleBox();
    auto boxPrinted = p.printBox(box);
    ASSERT_TRUE(boxPrinted) << boxPrinted.error().toString();
    EXPECT_EQ(scanOutput(boxPrinted->jobId, &w, &h), std::string(box.url.view()));
    EXPECT_NEAR(w, 799, 1);  // 100 x 70 mm
    EXPECT_NEAR(h, 559, 1);
    EXPECT_EQ(boxPrinted->scannedFrom, ScanSource::printedDocument);

    // The page log names each job by its title, which names the Dev ID or the box.
    const std::string pageLog = readAll(s_cupsd->dir() / "log" / "page_log");
    EXPECT_NE(pageLog.find("TTE device 0000002a"), std::string::npos) << pageLog;
    EXPECT_NE(pageLog.find("TTE box 00000003 0000002a-0000004f"), std::string::npos) << pageLog;
}

TEST_F(CupsIntegration, EveryJobIsItsOwnCompleteDocument) {
    auto q = connect(m_queueName);
    ASSERT_TRUE(q);
    SystemClock clock;
    auto p = printer(*q, clock);
    // A long URL first, then a short one: a reused output file would keep the first job's tail.
    std::vector<int> jobs;
    std::vector<std::string> urls;
    for (std::uint32_t devId : {0x00000031u, 0x00000032u, 0x00000033u}) {
        auto device = testing::sampleDevice(devId, 0x1122334455667700ull + devId);
        auto printed = p.printDevice(device);
        ASSERT_TRUE(printed) << printed.error().toString();
        jobs.push_back(printed->jobId);
        urls.emplace_back(device.url.view());
    }
    const auto files = s_cupsd->outputs(m_queueName);
    ASSERT_EQ(files.size(), 3u);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        EXPECT_EQ(files[i], s_cupsd->output(m_queueName, jobs[i]));
        EXPECT_EQ(scanOutput(jobs[i]), urls[i]);
        const std::string pdf = readAll(files[i]);
        EXPECT_TRUE(pdf.starts_with("%PDF-")) << files[i];
        EXPECT_NE(pdf.find("%%EOF", pdf.size() - 32), std::string::npos) << files[i] << " is not a whole PDF";
    }
    // Nothing half-written is left behind, and the documents are readable by their owner only.
    for (const auto& e : std::filesystem::directory_iterator(s_cupsd->outputDir(m_queueName))) {
        EXPECT_FALSE(e.path().filename().string().starts_with(".")) << e.path();
        EXPECT_EQ(e.status().permissions() & std::filesystem::perms::all, std::filesystem::perms::owner_read |
                                                                               std::filesystem::perms::owner_write);
    }
}

TEST_F(CupsIntegration, AnExistingJobFileStopsTheQueueInsteadOfBeingOverwritten) {
    auto q = connect(m_queueName);
    ASSERT_TRUE(q);
    SystemClock clock;
    // The next job id is one past the last job of this cupsd; put a file of that name first.
    auto first = printer(*q, clock).printDevice(testing::sampleDevice(0x00000041, 0x41));
    ASSERT_TRUE(first) << first.error().toString();
    const auto next = s_cupsd->output(m_queueName, first->jobId + 1);
    std::ofstream(next) << "an earlier document";
    std::vector<std::string> stopped;
    auto p = printer(*q, clock, [&](const PrintEvent& e) {
        if (e.kind == PrintEvent::Kind::printerStopped) {
            stopped.push_back(e.message);
            std::filesystem::rename(next, next.string() + ".kept");  // the operator moves it away
            EXPECT_EQ(cups({"cupsenable", m_queueName}), 0);
        }
    });
    auto printed = p.printDevice(testing::sampleDevice(0x00000042, 0x42));
    ASSERT_TRUE(printed) << printed.error().toString();
    EXPECT_EQ(printed->jobId, first->jobId + 1);
    ASSERT_EQ(stopped.size(), 1u);
    EXPECT_NE(stopped[0].find("exists already"), std::string::npos) << stopped[0];
    EXPECT_EQ(readAll(next.string() + ".kept"), "an earlier document");
    EXPECT_EQ(scanOutput(printed->jobId), std::string(testing::sampleDevice(0x00000042, 0x42).url.view()));
}

TEST_F(CupsIntegration, AJobStartedAgainKeepsItsDocumentAJobOfAnotherUuidStopsTheQueue) {
    // cupsd runs a job again from its start when the printer was paused or cupsd stopped
    // after the backend wrote the document but before the job was reported complete; the
    // filters then give a document that differs in its PDF /ID. The backend is run here as
    // cupsd runs it (backend(7): environment, argv, the job-uuid among the options).
    const auto folder = s_cupsd->dir() / "restarted";
    std::filesystem::create_directories(folder);
    const auto backend = std::filesystem::path(std::getenv("TTE_BIN")) / ".." / "lib" / "cups" / "backend" / "tte-file";
    const auto first = folder / "first.pdf";
    const auto again = folder / "again.pdf";
    std::ofstream(first) << "%PDF-1.5 the label /ID [<aa>]";
    std::ofstream(again) << "%PDF-1.5 the label /ID [<bb>]";
    const auto runJob = [&](const std::string& options, const std::filesystem::path& doc, const std::string& log) {
        return s_cupsd->run({"env", "DEVICE_URI=tte-file:" + folder.string(), "PRINTER=Q",
                             "FINAL_CONTENT_TYPE=application/pdf", backend.string(), "7", "tte-test", "TTE 00000007", "1",
                             options, doc.string()},
                            folder / log);
    };
    const std::string uuid = "job-uuid=urn:uuid:0b3c5a7e-0000-3000-8000-000000000007";
    ASSERT_EQ(runJob("media=om_label_50x30mm " + uuid + " job-originating-host-name=localhost", first, "1.log"), 0);
    const auto printed = folder / "Q-7.pdf";
    ASSERT_EQ(readAll(printed), readAll(first));
    // The same job again: it completes, with its first document.
    EXPECT_EQ(runJob(uuid + " media=om_label_50x30mm", again, "2.log"), 0) << readAll(folder / "2.log");
    EXPECT_EQ(readAll(printed), readAll(first));
    // Another job under that number (job numbers restarted), or one without a uuid: the queue stops.
    EXPECT_EQ(runJob("job-uuid=urn:uuid:0b3c5a7e-0000-3000-8000-000000000008", again, "3.log"), 4);
    EXPECT_NE(readAll(folder / "3.log").find("ERROR: tte-file: " + printed.string() + " exists already"), std::string::npos)
        << readAll(folder / "3.log");
    EXPECT_EQ(runJob("media=om_label_50x30mm", again, "4.log"), 4);
    EXPECT_EQ(readAll(printed), readAll(first));
    for (const auto& e : std::filesystem::directory_iterator(folder)) {
        EXPECT_FALSE(e.path().filename().string().starts_with(".")) << "left behind: " << e.path();
    }
}

TEST_F(CupsIntegration, EmptyLabelRollIsReportedAndTheJobPrintsOnceLoaded) {
    const auto sensor = s_cupsd->outputDir(m_queueName) / "media-empty";
    std::ofstream(sensor) << "";
    auto q = connect(m_queueName);
    ASSERT_TRUE(q);
    SystemClock clock;
    std::vector<std::string> reasons;
    auto p = printer(*q, clock, [&](const PrintEvent& e) {
        if (e.kind != PrintEvent::Kind::printerReason && e.kind != PrintEvent::Kind::printerStopped) return;
        reasons.push_back(e.message);
        if (e.message.find("media-empty") != std::string::npos) std::filesystem::remove(sensor);  // labels loaded
    });
    auto device = testing::sampleDevice(0x0000002c, 0x2c);
    auto printed = p.printDevice(device);
    ASSERT_TRUE(printed) << printed.error().toString();
    ASSERT_FALSE(reasons.empty());
    EXPECT_NE(reasons[0].find("media-empty-error"), std::string::npos) << reasons[0];
    EXPECT_EQ(scanOutput(printed->jobId), std::string(device.url.view()));
}

TEST_F(CupsIntegration, PausedPrinterIsReportedAndTheJobCompletesAfterEnable) {
    ASSERT_EQ(cups({"cupsdisable", m_queueName}), 0);
    auto q = connect(m_queueName);
    ASSERT_TRUE(q);
    SystemClock clock;
    std::vector<std::string> stopped;
    auto p = printer(*q, clock, [&](const PrintEvent& e) {
        if (e.kind != PrintEvent::Kind::printerStopped) return;
        stopped.push_back(e.message);
        EXPECT_EQ(cups({"cupsenable", m_queueName}), 0);  // the operator resumes the printer
    });
    auto device = testing::sampleDevice(0x0000002b, 0x0badc0ffee0ddf00);
    auto printed = p.printDevice(device);
    ASSERT_TRUE(printed) << printed.error().toString();
    EXPECT_EQ(stopped, std::vector<std::string>{"printer " + m_queueName + " is stopped (paused)"});
    EXPECT_EQ(scanOutput(printed->jobId), std::string(device.url.view()));
}

TEST_F(CupsIntegration, CancelledJobIsReportedAsNotPrinted) {
    ASSERT_EQ(cups({"cupsdisable", m_queueName}), 0);
    auto q = connect(m_queueName);
    ASSERT_TRUE(q);
    SystemClock clock;
    auto p = printer(*q, clock, [&](const PrintEvent& e) {
        if (e.kind == PrintEvent::Kind::submitted) {
            EXPECT_EQ(cups({"cancel", std::to_string(e.jobId)}), 0);  // the operator cancels it
        }
    });
    auto r = p.printDevice(testing::sampleDevice());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::cancelled);
    EXPECT_TRUE(r.error().message.starts_with("device 0000002a: job "));
    EXPECT_TRUE(r.error().message.ends_with(" on " + m_queueName + " was cancelled: the label was not printed"))
        << r.error().message;
    ASSERT_EQ(cups({"cupsenable", m_queueName}), 0);
    EXPECT_TRUE(s_cupsd->outputs(m_queueName).empty());
}

TEST_F(CupsIntegration, WaitingEndsAtTheDeadlineOfTheInjectedClock) {
    ASSERT_EQ(cups({"cupsdisable", m_queueName}), 0);
    auto q = connect(m_queueName);
    ASSERT_TRUE(q);
    ManualClock clock;
    LabelPrinterOptions o;
    o.wait.timeout = std::chrono::seconds(5);
    o.wait.pollInterval = std::chrono::seconds(1);
    LabelPrinter p(testing::shippedTemplates(), *q, clock, o);
    auto r = p.printDevice(testing::sampleDevice());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::timeout);
    EXPECT_TRUE(r.error().message.ends_with("printer " + m_queueName + " is stopped (paused))")) << r.error().message;
}

TEST_F(CupsIntegration, UnknownQueueAndClosedPortAreDistinctErrors) {
    auto q = connect("no-such-queue");
    ASSERT_TRUE(q);
    auto r = q->submit(PrintJob{"TTE device 00000001", DocumentFormat::pdf, {'%', 'P', 'D', 'F'}, "tte-device", 50, 30});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::notFound);
    EXPECT_EQ(r.error().domain, "IPP");
    EXPECT_EQ(r.error().nativeName, "client-error-not-found");

    auto status = q->printerStatus();
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().code, Errc::notFound);

    // Port 1 on loopback: nothing listens there, the connection is refused.
    auto refused = CupsPrintQueue::connect({"127.0.0.1", 1, "Q", "tte-test", std::chrono::seconds(2)});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::unavailable);
    EXPECT_EQ(refused.error().message, "CUPS: cannot connect to 127.0.0.1:1");
}

}  // namespace
}  // namespace tte::labels
