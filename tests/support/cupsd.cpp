// A private cupsd for the tests that print (see the header).
#include "support/cupsd.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/process.h"

namespace tte::test {

namespace {

int freeLoopbackPort() {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
        port = ntohs(a.sin_port);
    }
    ::close(s);
    return port;
}

bool accepts(int port) {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    return ok;
}

std::string pt(double mm) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", mm * 72.0 / 25.4);
    return buf;
}


std::string ppd(const std::vector<std::pair<double, double>>& sizes) {
    std::string p =
        "*PPD-Adobe: \"4.3\"\n*FormatVersion: \"4.3\"\n*FileVersion: \"1.0\"\n*LanguageVersion: English\n"
        "*LanguageEncoding: ISOLatin1\n*PCFileName: \"TTELABEL.PPD\"\n*Manufacturer: \"TTE\"\n"
        "*Product: \"(TTE label PDF)\"\n*ModelName: \"TTE label PDF\"\n*ShortNickName: \"TTE label PDF\"\n"
        "*NickName: \"TTE label PDF pass-through\"\n*PSVersion: \"(3010.000) 0\"\n*LanguageLevel: \"3\"\n"
        "*ColorDevice: False\n*DefaultColorSpace: Gray\n*FileSystem: False\n*Throughput: \"1\"\n"
        "*cupsFilter2: \"application/vnd.cups-pdf application/pdf 0 -\"\n";
    std::string sizesUi, area, dims;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        const auto [w, h] = sizes[i];
        const std::string name = "Label" + std::to_string(i + 1);
        const std::string label = std::to_string(int(w)) + "x" + std::to_string(int(h)) + "mm";
        sizesUi += "*PageSize " + name + "/" + label + ": \"\"\n";
        area += "*ImageableArea " + name + "/" + label + ": \"0 0 " + pt(w) + " " + pt(h) + "\"\n";
        dims += "*PaperDimension " + name + "/" + label + ": \"" + pt(w) + " " + pt(h) + "\"\n";
    }
    const std::string def = "Label1";
    p += "*OpenUI *PageSize: PickOne\n*DefaultPageSize: " + def + "\n" + sizesUi + "*CloseUI: *PageSize\n";
    p += "*DefaultImageableArea: " + def + "\n" + area;
    p += "*DefaultPaperDimension: " + def + "\n" + dims;
    return p;
}

}  // namespace

/// A ServerBin of our own: the tte-file backend (mode 0700, so cupsd runs it as its own
/// user, which may write into the test's folders) and the system's filters, daemons and
/// drivers linked beside it.
std::string makeServerBin(const std::filesystem::path& serverBin) {
    const char* bin = std::getenv("TTE_BIN");
    if (bin == nullptr) return "TTE_BIN is not set: cannot find the tte-file backend";
    const std::filesystem::path backend = std::filesystem::path(bin) / ".." / "lib" / "cups" / "backend" / "tte-file";
    std::error_code ec;
    std::filesystem::create_directories(serverBin / "backend", ec);
    if (ec) return "cannot create " + (serverBin / "backend").string() + ": " + ec.message();
    std::filesystem::copy_file(backend, serverBin / "backend" / "tte-file", ec);
    if (ec) return "cannot copy the tte-file backend " + backend.string() + ": " + ec.message();
    std::filesystem::permissions(serverBin / "backend" / "tte-file", std::filesystem::perms::owner_all, ec);
    for (const char* sub : {"filter", "daemon", "cgi-bin", "notifier", "monitor", "driver"}) {
        const std::filesystem::path system = std::filesystem::path("/usr/lib/cups") / sub;
        if (!std::filesystem::is_directory(system)) {
            if (std::string_view(sub) == "filter" || std::string_view(sub) == "daemon") {
                return "CUPS: " + system.string() + " is missing (package cups-daemon / cups-filters)";
            }
            continue;
        }
        std::filesystem::create_directory_symlink(system, serverBin / sub, ec);
        if (ec) return "cannot link " + system.string() + ": " + ec.message();
    }
    return {};
}

PrivateCupsd::PrivateCupsd(const std::vector<std::pair<double, double>>& pageSizesMm) {
    m_error = start(pageSizesMm);
}

std::string PrivateCupsd::start(const std::vector<std::pair<double, double>>& pageSizesMm) {
    char tmpl[] = "/tmp/tte-cupsd-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return std::string("mkdtemp: ") + std::strerror(errno);
    m_dir = tmpl;
    for (const char* sub : {"spool", "cache", "state", "tmp", "log", "out"}) std::filesystem::create_directory(m_dir / sub);
    m_port = freeLoopbackPort();
    if (m_port == 0) return "no free loopback port";
    if (auto e = makeServerBin(m_dir / "bin"); !e.empty()) return e;
    const std::string d = m_dir.string();
    writeFile(m_dir / "cupsd.conf", "Listen 127.0.0.1:" + std::to_string(m_port) +
                                        "\nLogLevel warn\nWebInterface No\nDefaultPolicy open\n"
                                        "<Policy open>\n  <Limit All>\n    Order allow,deny\n    Allow all\n"
                                        "  </Limit>\n</Policy>\n<Location />\n  Order allow,deny\n  Allow all\n"
                                        "</Location>\n");
    writeFile(m_dir / "cups-files.conf", "ServerRoot " + d + "\nServerBin " + d + "/bin\nRequestRoot " + d + "/spool\nCacheDir " + d +
                                             "/cache\nStateDir " + d + "/state\nTempDir " + d + "/tmp\nAccessLog " +
                                             d + "/log/access_log\nErrorLog " + d + "/log/error_log\nPageLog " + d +
                                             "/log/page_log\nPrintcap " + d + "/printcap\n");
    writeFile(m_dir / "label.ppd", ppd(pageSizesMm));
    return launch();
}

std::string PrivateCupsd::launch() {
    const std::string d = m_dir.string();
    const std::string log = d + "/log/cupsd.out";
    const std::string conf = d + "/cupsd.conf";
    const std::string files = d + "/cups-files.conf";
    m_pid = ::fork();
    if (m_pid < 0) return std::string("fork: ") + std::strerror(errno);
    if (m_pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the test
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::execl("/usr/sbin/cupsd", "cupsd", "-f", "-c", conf.c_str(), "-s", files.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!accepts(m_port)) {
        int status = 0;
        if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = -1;
            return "cupsd exited at start (see " + log + ")";
        }
        if (std::chrono::steady_clock::now() > deadline) return "cupsd did not listen within 20 s";
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition with a deadline
    }
    return {};
}

void PrivateCupsd::stop() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(m_pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(m_pid, SIGKILL);
            ::waitpid(m_pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    m_pid = -1;
}

std::string PrivateCupsd::restart() {
    stop();
    return launch();
}

PrivateCupsd::~PrivateCupsd() {
    stop();
    if (!m_dir.empty() && std::getenv("TTE_KEEP_CUPSD") == nullptr) {
        std::error_code ec;
        std::filesystem::remove_all(m_dir, ec);
    }
}

std::string PrivateCupsd::addQueue(const std::string& name) {
    std::error_code ec;
    std::filesystem::create_directories(outputDir(name), ec);
    if (ec) return "cannot create " + outputDir(name).string() + ": " + ec.message();
    const std::string uri = "tte-file:" + outputDir(name).string();
    const auto out = m_dir / "log" / ("lpadmin-" + name + ".out");
    int rc = run({"lpadmin", "-h", server(), "-p", name, "-E", "-v", uri, "-P", (m_dir / "label.ppd").string()}, out);
    if (rc != 0) return "lpadmin exited " + std::to_string(rc) + ": " + readText(out);
    // cupsd accepts a device URI whose backend it cannot run; check that the queue has it.
    const auto shown = m_dir / "log" / ("lpstat-" + name + ".out");
    rc = run({"lpstat", "-h", server(), "-v", name}, shown);
    const std::string text = readText(shown);
    if (rc != 0 || text.find(uri) == std::string::npos) {
        return "CUPS did not take the device " + uri + " for queue " + name + " (lpstat -v: " + text + ")";
    }
    return {};
}

std::vector<std::filesystem::path> PrivateCupsd::outputs(const std::string& queue) const {
    std::vector<std::pair<int, std::filesystem::path>> found;
    std::error_code ec;
    const std::string prefix = queue + "-";
    for (const auto& e : std::filesystem::directory_iterator(outputDir(queue), ec)) {
        const std::string file = e.path().filename().string();
        if (!file.starts_with(prefix) || e.path().extension() != ".pdf") continue;
        found.emplace_back(std::atoi(file.c_str() + prefix.size()), e.path());
    }
    std::sort(found.begin(), found.end());
    std::vector<std::filesystem::path> out;
    for (auto& [id, p] : found) out.push_back(std::move(p));
    return out;
}

int PrivateCupsd::run(const std::vector<std::string>& argv, const std::filesystem::path& outFile) const {
    const std::string out = outFile.empty() ? (m_dir / "log" / "commands.out").string() : outFile.string();
    // CUPS admin tools live in /usr/sbin, which a test runner's PATH may lack.
    std::string program = argv.at(0);
    for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
        if (program.find('/') == std::string::npos && ::access((dir + argv[0]).c_str(), X_OK) == 0) {
            program = dir + argv[0];
        }
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::execvp(program.c_str(), args.data());
        ::_exit(127);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace tte::test
