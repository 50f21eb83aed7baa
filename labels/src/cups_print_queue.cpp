// PrintQueue over IPP with libcups. Every request goes over this object's own http_t to the
// configured server; printer-uri is built from that server, so nothing depends on the
// machine's CUPS client configuration.
#include "tte/labels/cups_print_queue.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <cups/cups.h>
#include <cups/ipp.h>

namespace tte::labels {

struct CupsPrintQueue::Connection {
    http_t* http = nullptr;
    ~Connection() {
        if (http != nullptr) httpClose(http);
    }
};

namespace {

struct IppDeleter {
    void operator()(ipp_t* ipp) const { ippDelete(ipp); }
};
using IppPtr = std::unique_ptr<ipp_t, IppDeleter>;

Errc errcForIpp(ipp_status_t status) {
    switch (status) {
        case IPP_STATUS_ERROR_NOT_FOUND: return Errc::notFound;
        case IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS:
        case IPP_STATUS_ERROR_SERVICE_UNAVAILABLE:
        case IPP_STATUS_ERROR_BUSY:
        case IPP_STATUS_ERROR_INTERNAL: return Errc::unavailable;
        case IPP_STATUS_ERROR_NOT_POSSIBLE: return Errc::conflict;
        case IPP_STATUS_ERROR_FORBIDDEN:
        case IPP_STATUS_ERROR_NOT_AUTHORIZED: return Errc::permissionDenied;
        case IPP_STATUS_ERROR_NOT_AUTHENTICATED: return Errc::unauthenticated;
        case IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED:
        case IPP_STATUS_ERROR_BAD_REQUEST:
        case IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES: return Errc::invalidArgument;
        default: return status >= IPP_STATUS_ERROR_INTERNAL ? Errc::unavailable : Errc::io;
    }
}

// The outcome of a request: the response, or an Error that keeps the IPP status.
Result<IppPtr> checked(IppPtr response, std::string_view what) {
    const ipp_status_t status = response ? ippGetStatusCode(response.get()) : cupsLastError();
    if (response && status <= IPP_STATUS_OK_EVENTS_COMPLETE) return response;
    std::string text = std::string(what) + " failed: " + cupsLastErrorString();
    return failNative(errcForIpp(status), text, "IPP", static_cast<int>(status), ippErrorString(status));
}

std::vector<std::string> keywords(ipp_t* response, const char* name) {
    std::vector<std::string> out;
    if (ipp_attribute_t* a = ippFindAttribute(response, name, IPP_TAG_KEYWORD)) {
        for (int i = 0; i < ippGetCount(a); ++i) out.emplace_back(ippGetString(a, i, nullptr));
    }
    return out;
}

std::string text(ipp_t* response, const char* name) {
    ipp_attribute_t* a = ippFindAttribute(response, name, IPP_TAG_TEXT);
    const char* s = a != nullptr ? ippGetString(a, 0, nullptr) : nullptr;
    return s != nullptr ? s : "";
}

/// The folder of a `tte-file:/folder` device URI (as the backend reads it), or "".
std::string tteFileFolder(std::string_view uri) {
    constexpr std::string_view kScheme = "tte-file:";
    if (!uri.starts_with(kScheme)) return {};
    std::string_view path = uri.substr(kScheme.size());
    while (path.starts_with("//")) path.remove_prefix(1);
    return path.starts_with("/") ? std::string(path) : std::string();
}

/// A server on this machine, whose files this process can read.
bool localServer(const std::string& host) {
    return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.starts_with("/");
}

std::string mm(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

}  // namespace

Result<std::unique_ptr<CupsPrintQueue>> CupsPrintQueue::connect(const CupsEndpoint& e) {
    if (e.queue.empty()) return fail(Errc::invalidArgument, "CUPS: the queue name is empty");
    if (e.port <= 0 || e.port > 65535) {
        return fail(Errc::invalidArgument, "CUPS: port " + std::to_string(e.port) + " is out of range");
    }
    auto ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(e.connectTimeout).count());
    auto c = std::make_unique<Connection>();
    c->http = httpConnect2(e.host.c_str(), e.port, nullptr, AF_UNSPEC, HTTP_ENCRYPTION_IF_REQUESTED, 1, ms, nullptr);
    if (c->http == nullptr) {
        return failNative(Errc::unavailable, "CUPS: cannot connect to " + e.host + ":" + std::to_string(e.port),
                          "errno", errno, std::strerror(errno));
    }
    return std::unique_ptr<CupsPrintQueue>(new CupsPrintQueue(e, std::move(c)));
}

CupsPrintQueue::CupsPrintQueue(CupsEndpoint endpoint, std::unique_ptr<Connection> connection)
    : m_endpoint(std::move(endpoint)), m_connection(std::move(connection)) {
    char uri[HTTP_MAX_URI];
    httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof uri, "ipp", nullptr, m_endpoint.host.c_str(), m_endpoint.port,
                     "/printers/%s", m_endpoint.queue.c_str());
    m_printerUri = uri;
    m_resource = "/printers/" + m_endpoint.queue;
}

CupsPrintQueue::~CupsPrintQueue() = default;

Result<int> CupsPrintQueue::submit(const PrintJob& job) {
    const std::string what = "CUPS " + m_endpoint.host + ":" + std::to_string(m_endpoint.port) + " queue " +
                             m_endpoint.queue + ": Print-Job";
    ipp_t* request = ippNewRequest(IPP_OP_PRINT_JOB);
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, m_printerUri.c_str());
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, m_endpoint.user.c_str());
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, job.title.c_str());
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
                 job.format == DocumentFormat::pdf ? "application/pdf" : "application/vnd.cups-raw");
    if (job.mediaWidthMm > 0 && job.mediaHeightMm > 0) {
        // PWG 5101.1 self-describing media name; CUPS maps it to the queue's page size of that size.
        const std::string media = "om_" + (job.mediaName.empty() ? std::string("label") : job.mediaName) + "_" +
                                  mm(job.mediaWidthMm) + "x" + mm(job.mediaHeightMm) + "mm";
        ippAddString(request, IPP_TAG_JOB, IPP_TAG_KEYWORD, "media", nullptr, media.c_str());
    }
    http_t* http = m_connection->http;
    // The HTTP body is the IPP message followed by the document: its length counts both.
    const std::size_t length = ippLength(request) + job.document.size();
    http_status_t st = cupsSendRequest(http, request, m_resource.c_str(), length);
    ippDelete(request);
    if (st == HTTP_STATUS_CONTINUE) {
        st = cupsWriteRequestData(http, reinterpret_cast<const char*>(job.document.data()), job.document.size());
    }
    IppPtr response;
    if (st == HTTP_STATUS_CONTINUE) response.reset(cupsGetResponse(http, m_resource.c_str()));
    if (!response && st != HTTP_STATUS_CONTINUE) {
        return failNative(Errc::unavailable, what + " failed: " + cupsLastErrorString(), "HTTP", st,
                          httpStatus(st));
    }
    auto ok = checked(std::move(response), what);
    if (!ok) return std::unexpected(ok.error());
    ipp_attribute_t* id = ippFindAttribute(ok->get(), "job-id", IPP_TAG_INTEGER);
    if (id == nullptr) return fail(Errc::io, what + ": the answer has no job-id");
    return ippGetInteger(id, 0);
}

Result<JobStatus> CupsPrintQueue::jobStatus(int jobId) {
    ipp_t* request = ippNewRequest(IPP_OP_GET_JOB_ATTRIBUTES);
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, m_printerUri.c_str());
    ippAddInteger(request, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", jobId);
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, m_endpoint.user.c_str());
    static const char* const kAttrs[] = {"job-state", "job-state-reasons", "job-state-message"};
    ippAddStrings(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 3, nullptr, kAttrs);
    auto response = checked(IppPtr(cupsDoRequest(m_connection->http, request, "/jobs/")),
                            "CUPS queue " + m_endpoint.queue + ": Get-Job-Attributes for job " + std::to_string(jobId));
    if (!response) return std::unexpected(response.error());
    ipp_attribute_t* state = ippFindAttribute(response->get(), "job-state", IPP_TAG_ENUM);
    if (state == nullptr) return fail(Errc::io, "CUPS: job " + std::to_string(jobId) + " has no job-state");
    JobStatus s;
    switch (static_cast<ipp_jstate_t>(ippGetInteger(state, 0))) {
        case IPP_JSTATE_PENDING: s.state = JobState::pending; break;
        case IPP_JSTATE_HELD: s.state = JobState::held; break;
        case IPP_JSTATE_PROCESSING: s.state = JobState::processing; break;
        case IPP_JSTATE_STOPPED: s.state = JobState::stopped; break;
        case IPP_JSTATE_CANCELED: s.state = JobState::cancelled; break;
        case IPP_JSTATE_ABORTED: s.state = JobState::aborted; break;
        case IPP_JSTATE_COMPLETED: s.state = JobState::completed; break;
        default: return fail(Errc::io, "CUPS: job " + std::to_string(jobId) + " has an unknown job-state");
    }
    s.reasons = keywords(response->get(), "job-state-reasons");
    s.message = text(response->get(), "job-state-message");
    return s;
}

Result<PrinterStatus> CupsPrintQueue::printerStatus() {
    ipp_t* request = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, m_printerUri.c_str());
    static const char* const kAttrs[] = {"printer-state", "printer-state-reasons", "printer-state-message",
                                         "printer-is-accepting-jobs"};
    ippAddStrings(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 4, nullptr, kAttrs);
    auto response = checked(IppPtr(cupsDoRequest(m_connection->http, request, m_resource.c_str())),
                            "CUPS queue " + m_endpoint.queue + ": Get-Printer-Attributes");
    if (!response) return std::unexpected(response.error());
    PrinterStatus p;
    ipp_attribute_t* state = ippFindAttribute(response->get(), "printer-state", IPP_TAG_ENUM);
    int v = state != nullptr ? ippGetInteger(state, 0) : IPP_PSTATE_IDLE;
    p.state = v == IPP_PSTATE_STOPPED ? PrinterState::stopped
              : v == IPP_PSTATE_PROCESSING ? PrinterState::processing
                                           : PrinterState::idle;
    ipp_attribute_t* accepting = ippFindAttribute(response->get(), "printer-is-accepting-jobs", IPP_TAG_BOOLEAN);
    p.acceptingJobs = accepting == nullptr || ippGetBoolean(accepting, 0) != 0;
    p.reasons = keywords(response->get(), "printer-state-reasons");
    p.message = text(response->get(), "printer-state-message");
    return p;
}

Status CupsPrintQueue::cancel(int jobId) {
    ipp_t* request = ippNewRequest(IPP_OP_CANCEL_JOB);
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, m_printerUri.c_str());
    ippAddInteger(request, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", jobId);
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, m_endpoint.user.c_str());
    auto response = checked(IppPtr(cupsDoRequest(m_connection->http, request, m_resource.c_str())),
                            "CUPS queue " + m_endpoint.queue + ": Cancel-Job " + std::to_string(jobId));
    if (!response) return std::unexpected(response.error());
    return {};
}

}  // namespace tte::labels

namespace tte::labels {

Result<std::string> CupsPrintQueue::documentFolder() {
    if (m_documentFolder) return *m_documentFolder;
    ipp_t* request = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, m_printerUri.c_str());
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", nullptr, "device-uri");
    auto response = checked(IppPtr(cupsDoRequest(m_connection->http, request, m_resource.c_str())),
                            "CUPS queue " + m_endpoint.queue + ": Get-Printer-Attributes device-uri");
    if (!response) return std::unexpected(response.error());
    ipp_attribute_t* uri = ippFindAttribute(response->get(), "device-uri", IPP_TAG_URI);
    const char* value = uri != nullptr ? ippGetString(uri, 0, nullptr) : nullptr;
    // A queue on another machine may name a folder, but not one this process can read.
    m_documentFolder = value != nullptr && localServer(m_endpoint.host) ? tteFileFolder(value) : std::string();
    return *m_documentFolder;
}

Result<std::optional<PrintedDocument>> CupsPrintQueue::printedDocument(int jobId) {
    auto folder = documentFolder();
    if (!folder) return std::unexpected(folder.error());
    if (folder->empty()) return std::optional<PrintedDocument>();
    const std::string stem = m_endpoint.queue + "-" + std::to_string(jobId) + ".";
    const std::string where = *folder + "/" + stem + "*";
    std::error_code ec;
    std::filesystem::path found;
    for (const auto& entry : std::filesystem::directory_iterator(*folder, ec)) {
        if (entry.path().filename().string().starts_with(stem)) found = entry.path();
    }
    if (ec) return failNative(Errc::io, "cannot list the printer's folder " + *folder, "errno", ec.value(), ec.message());
    if (found.empty()) {
        return fail(Errc::notFound, "job " + std::to_string(jobId) + " on " + m_endpoint.queue +
                                        " completed but the printer's document " + where + " is not there");
    }
    std::ifstream in(found, std::ios::binary);
    if (!in) return fail(Errc::io, "cannot read the printer's document " + found.string());
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    PrintedDocument doc{found.string(),
                        found.extension() == ".pdf" ? "application/pdf" : "application/vnd.cups-raw",
                        Secret(std::span<const std::uint8_t>(bytes))};
    secureZero(bytes.data(), bytes.size());
    return std::optional<PrintedDocument>(std::move(doc));
}

}  // namespace tte::labels
