// tte-file: a CUPS backend that writes every job's document into a folder as its own file,
// `<queue>-<job-id>.<ext>`, complete or not at all. The label queues of the demo site and of
// the integration tests print through it, so what the printer was given can be read back
// (docs/LABELS.md, "The tte-file backend").
//
// Device URI: `tte-file:/absolute/folder`. CUPS runs backends by their URI scheme from
// ServerBin/backend/ (backend(7)): with no argument it lists devices; otherwise
//   tte-file job-id user title copies options [file]
// with the document in `file` or on standard input. The file is written under a temporary
// name, marked with the job's job-uuid (extended attribute user.tte.job-uuid), synced, and
// linked to its final name, which is never overwritten. CUPS runs a job again from its start
// when it was interrupted after the backend wrote it (the printer paused, cupsd stopped): that
// job finds its own document there and completes. A file of another job under that name (a
// cupsd whose job numbers restarted) stops the queue with a message instead of mixing two
// documents.
//
// The folder doubles as the printer's label-stock sensor: while a file `media-empty` is in
// it, the printer reports `media-empty-error` and the job waits, as a thermal printer with
// an empty roll does; removing the file (loading labels) lets the job print.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

namespace {

// backend(7) exit codes.
constexpr int kBackendOk = 0;
constexpr int kBackendFailed = 1;  // the job fails, the queue keeps running (ErrorPolicy)
constexpr int kBackendStop = 4;    // the queue is stopped: an operator must act

/// The extended attribute on each document that names the job it is of (its job-uuid).
constexpr const char* kUuidAttr = "user.tte.job-uuid";

volatile std::sig_atomic_t g_cancelled = 0;

void onTerm(int) { g_cancelled = 1; }

/// One line to cupsd's log and, for ERROR/STATE/INFO, to the printer's state.
void say(const char* prefix, const std::string& text) { std::fprintf(stderr, "%s: %s\n", prefix, text.c_str()); }

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string extensionFor(const char* contentType) {
    const std::string_view t = contentType != nullptr ? contentType : "";
    if (t == "application/pdf") return "pdf";
    if (t == "application/postscript") return "ps";
    if (t == "image/pwg-raster") return "pwg";
    if (t == "application/vnd.cups-raster") return "ras";
    return "prn";  // raw printer language (ZPL on a raw queue, ...)
}

/// The folder of `tte-file:/folder`, or "" when the URI is not of that form.
std::string folderOf(const char* uri) {
    const std::string_view u = uri != nullptr ? uri : "";
    constexpr std::string_view kScheme = "tte-file:";
    if (!u.starts_with(kScheme)) return {};
    std::string_view path = u.substr(kScheme.size());
    while (path.starts_with("//")) path.remove_prefix(1);  // tte-file:///dir is tte-file:/dir
    if (!path.starts_with("/")) return {};
    return std::string(path);
}

bool exists(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

/// Waits while the label stock is out (a `media-empty` file in the folder), reporting the
/// printer state as a real printer's backend does. False if the job was cancelled meanwhile.
bool waitForMedia(const std::string& folder) {
    const std::string sensor = folder + "/media-empty";
    if (!exists(sensor)) return true;
    say("STATE", "+media-empty-error");
    say("INFO", "out of labels: load label stock");
    while (exists(sensor) && g_cancelled == 0) {
        const timespec tick{0, 100'000'000};  // the sensor is polled as the printer's firmware polls it
        ::nanosleep(&tick, nullptr);
    }
    say("STATE", "-media-empty-error");
    return g_cancelled == 0;
}

/// The job's `job-uuid` from the backend's options argument (cupsd passes it there, e.g.
/// "job-uuid=urn:uuid:… job-originating-host-name=…"), or "".
std::string jobUuid(const char* options) {
    const std::string_view o = options != nullptr ? options : "";
    constexpr std::string_view kKey = "job-uuid=";
    for (std::size_t at = o.find(kKey); at != std::string_view::npos; at = o.find(kKey, at + 1)) {
        if (at != 0 && o[at - 1] != ' ') continue;
        const std::string_view value = o.substr(at + kKey.size());
        return std::string(value.substr(0, value.find(' ')));
    }
    return {};
}

/// The job-uuid kept on a printed document (extended attribute kUuidAttr), or "".
std::string uuidOf(const std::string& path) {
    char buf[256];
    const ssize_t n = ::getxattr(path.c_str(), kUuidAttr, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

int copyAll(int in, int out) {
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(in, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR && g_cancelled == 0) continue;
            return -1;
        }
        for (ssize_t done = 0; done < n;) {
            const ssize_t w = ::write(out, buf + done, static_cast<std::size_t>(n - done));
            if (w < 0) {
                if (errno == EINTR && g_cancelled == 0) continue;
                return -1;
            }
            done += w;
        }
    }
}

int printJob(const std::string& folder, const std::string& jobId, const std::string& uuid, const char* documentPath) {
    const char* printer = std::getenv("PRINTER");
    if (printer == nullptr || *printer == '\0') {
        say("ERROR", "tte-file: PRINTER is not set (not started by cupsd?)");
        return kBackendFailed;
    }
    struct stat st{};
    if (::stat(folder.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        say("ERROR", errnoText("tte-file: output folder " + folder));
        return kBackendStop;
    }
    if (!waitForMedia(folder)) return kBackendFailed;

    const std::string name = std::string(printer) + "-" + jobId + "." + extensionFor(std::getenv("FINAL_CONTENT_TYPE"));
    const std::string final = folder + "/" + name;
    const std::string partial = folder + "/." + name + ".partial";
    int in = 0;
    if (documentPath != nullptr) {
        in = ::open(documentPath, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            say("ERROR", errnoText("tte-file: cannot read the job's document " + std::string(documentPath)));
            return kBackendFailed;
        }
    }
    ::unlink(partial.c_str());  // left by a backend killed mid-job
    const int out = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        say("ERROR", errnoText("tte-file: cannot create " + partial));
        return kBackendStop;
    }
    if (!uuid.empty() && ::fsetxattr(out, kUuidAttr, uuid.data(), uuid.size(), 0) != 0) {
        // A folder without extended attributes: a restarted job then stops the queue below.
        say("WARNING", errnoText("tte-file: cannot mark " + partial + " with its job-uuid"));
    }
    const bool written = copyAll(in, out) == 0 && ::fsync(out) == 0;
    const std::string writeError = written ? "" : errnoText("tte-file: cannot write " + partial);
    ::close(out);
    if (in != 0) ::close(in);
    if (g_cancelled != 0) {
        ::unlink(partial.c_str());
        return kBackendFailed;  // cupsd cancelled the job: nothing is left behind
    }
    if (!written) {
        ::unlink(partial.c_str());
        say("ERROR", writeError);  // a full or broken disk is a printer fault: stop the queue
        return kBackendStop;
    }
    // link() never replaces an existing file, unlike rename(): an earlier job's document stays.
    if (::link(partial.c_str(), final.c_str()) != 0) {
        const int linkErrno = errno;
        if (linkErrno == EEXIST && !uuid.empty() && uuidOf(final) == uuid) {
            // This job ran before up to its file and was started again (the printer paused or
            // cupsd stopped before the job was reported complete): its document is there.
            ::unlink(partial.c_str());
            say("INFO", "printed to " + final + " (the job was started again; its document was there already)");
            return kBackendOk;
        }
        errno = linkErrno;
        const std::string why = errno == EEXIST ? "tte-file: " + final + " exists already (an earlier job " + jobId +
                                                      "?): move it away, then restart the queue"
                                                : errnoText("tte-file: cannot create " + final);
        ::unlink(partial.c_str());
        say("ERROR", why);
        return kBackendStop;
    }
    ::unlink(partial.c_str());
    if (const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        ::fsync(dir);  // the new name is durable before the job is reported complete
        ::close(dir);
    }
    say("INFO", "printed to " + final);
    return kBackendOk;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 1) {
        // Device discovery (lpinfo -v): the scheme only; the folder is part of the URI.
        std::printf("direct tte-file \"Unknown\" \"TTE label file (one file per job)\"\n");
        return kBackendOk;
    }
    if (argc < 6 || argc > 7) {
        std::fprintf(stderr, "Usage: tte-file job-id user title copies options [file]\n");
        return kBackendFailed;
    }
    struct sigaction sa{};
    sa.sa_handler = onTerm;  // cupsd sends SIGTERM when the job is cancelled
    ::sigaction(SIGTERM, &sa, nullptr);
    const std::string folder = folderOf(std::getenv("DEVICE_URI"));
    if (folder.empty()) {
        const char* uri = std::getenv("DEVICE_URI");
        say("ERROR", std::string("tte-file: the device URI must be tte-file:/absolute/folder, found '") +
                         (uri != nullptr ? uri : "") + "'");
        return kBackendStop;
    }
    const std::string jobId = argv[1];
    if (jobId.empty() || jobId.find_first_not_of("0123456789") != std::string::npos) {
        say("ERROR", "tte-file: the job id '" + jobId + "' is not a number");
        return kBackendFailed;
    }
    return printJob(folder, jobId, jobUuid(argv[5]), argc == 7 ? argv[6] : nullptr);
}
