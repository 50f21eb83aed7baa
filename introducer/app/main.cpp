// tte-introducer: the companion introducer CLI (draft 2 messages 3-8). Parses flags, runs the
// flows of the introducer library (enroll.h, box.h) and prints their results for a person.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <unistd.h>

#include "tte/cli/program.h"
#include "tte/introducer/box.h"
#include "tte/introducer/enroll.h"

namespace {

using namespace tte;
using namespace tte::introducer;

constexpr int kExitError = 1;
constexpr int kExitAlreadyUsed = 3;
constexpr int kExitIncomplete = 4;

struct Common {
    std::string cacert;
    std::vector<std::string> connectTo;
    std::string controller;
    std::string controllerFingerprint;
    std::string controllerWeb;
    std::string description;
    std::string notify;
    std::string queue;
    bool later = false;
    std::string state;
};

constexpr const char* kQueueHelp =
    "directory of introductions not yet delivered (default: $XDG_STATE_HOME/tte/introductions, "
    "or ~/.local/state/tte/introductions)";

int die(const std::string& message) {
    std::cerr << "tte-introducer: " << message << "\n";
    return kExitError;
}

client::HttpsOptions httpsOptions(const Common& c) { return client::HttpsOptions::verified(c.cacert, c.connectTo); }

void printStatus(const protocol::StatusResponse& st) {
    std::cout << "urn: " << st.urn.text << "\nfingerprint: " << st.fingerprint.hex()
              << "\nstate: " << protocol::enrollmentStateName(st.state) << "\n";
    if (st.preEnrolledTo) std::cout << "controller fingerprint: " << st.preEnrolledTo->hex() << "\n";
}

/// A device its station pre-enrolled: nothing to do, no warning (exit 0).
int printPreEnrolled(const protocol::StatusResponse& st) {
    std::cout << "pre-enrolled to Controller " << st.preEnrolledTo->hex() << "\n";
    printStatus(st);
    return 0;
}

/// The Enrollment URL from the source; a video of the LED shows its progress on a terminal
/// and says where the LED was found.
Result<protocol::EnrollmentUrl> enrollmentUrlOf(LabelSource s) {
    if (!s.ledVideo.empty() && isatty(2)) {
        s.ledVideoOptions.progress = [shown = -1](double share) mutable {
            if (const int percent = static_cast<int>(share * 100); percent != shown) {
                shown = percent;
                std::fprintf(stderr, "\rlooking for the LED in the video: %3d%%", percent);
            }
        };
    }
    LedVideoResult found;
    auto url = enrollmentUrlFrom(s, &found);
    if (s.ledVideoOptions.progress) std::fputs("\n", stderr);
    if (url && !s.ledVideo.empty())
        std::printf("LED found at x=%ld y=%ld in %.1f s of video (%zu frames, %.1f frames/s)\n",
                    static_cast<long>(std::floor(found.spot.x)), static_cast<long>(std::floor(found.spot.y)), found.seconds,
                    found.frames, found.fps);
    return url;
}

/// Where the device goes and how message 6 travels, from the command line.
struct Wiring {
    ControllerTarget target;
    IntroducePlan plan;
    std::unique_ptr<MotherShipApi> ms;
    std::unique_ptr<IntroductionSender> sender;
};

/// `queue` (queueOf()) must outlive the wiring.
Result<Wiring> wiringOf(const Common& c, IntroductionQueue& queue) {
    auto target = controllerTargetOf(c.controller, c.controllerFingerprint, c.description, c.controllerWeb);
    if (!target) return std::unexpected(target.error());
    auto plan = introducePlanOf(c.notify, &queue, c.later, target->fingerprint);
    if (!plan) return std::unexpected(plan.error());
    return Wiring{std::move(*target), std::move(*plan), makeHttpsMotherShip(httpsOptions(c)), makeHttpsIntroductions()};
}

/// Says what became of message 6; returns the exit code (4 when it waits in the queue).
int printIntroduction(const Common& c, const IntroduceOutcome& o) {
    if (o.sent) std::cout << "introduced to the controller at " << c.notify << "\n";
    if (o.sendError) std::cerr << "tte-introducer: introduction not sent: " << o.sendError->toString() << "\n";
    if (o.queueError) return die("cannot queue the introduction: " + o.queueError->toString());
    if (!o.queued) return 0;
    std::cout << "introduction queued in " << o.queuedFile.string() << " (send it with: tte-introducer flush"
              << (c.queue.empty() ? "" : " --queue " + c.queue) << ")\n";
    return c.later ? 0 : kExitIncomplete;
}

/// --queue DIR, or the default place (XDG state directory).
Result<std::filesystem::path> queueDir(const Common& c) {
    if (!c.queue.empty()) return std::filesystem::path(c.queue);
    return defaultQueueDir([](const char* name) { return std::getenv(name); });
}

/// The queue for message 6, checked before an OTP is spent: an introduction that is not
/// delivered goes there. None without --notify.
Result<IntroductionQueue> queueOf(const Common& c) {
    if (c.notify.empty()) return IntroductionQueue({});
    auto dir = queueDir(c);
    if (!dir) return std::unexpected(dir.error());
    IntroductionQueue queue(*dir);
    if (auto entries = queue.entries(); !entries) return std::unexpected(entries.error());
    return queue;
}

int runEnroll(const LabelSource& s, const Common& c) {
    auto url = enrollmentUrlOf(s);
    if (!url) return die(url.error().message);
    if (c.controller.empty() && c.controllerFingerprint.empty()) {
        // No Controller of one's own: only a pre-enrolled device can be "enrolled" so.
        auto st = checkPreEnrolled(*makeHttpsMotherShip(httpsOptions(c)), *url);
        if (!st) return die(st.error().message);
        return printPreEnrolled(*st);
    }
    if (c.controller.empty() || c.controllerFingerprint.empty())
        return tte::cli::usage("tte-introducer", "enroll: give both --controller and --controller-fingerprint");
    auto queue = queueOf(c);
    if (!queue) return die(queue.error().message);
    auto w = wiringOf(c, *queue);
    if (!w) return die(w.error().message);
    auto r = enroll(*url, w->target, w->plan, *w->ms, *w->sender);
    if (!r) return die(r.error().toString());
    if (r->preEnrolledTo) return printPreEnrolled(*r->status);
    if (r->alreadyUsed) {
        std::cerr << "tte-introducer: WARNING: the OTP was already used: the device may have been enrolled by someone else "
                     "(draft 4)\n";
        std::cerr << "tte-introducer: current enrollment status of Dev ID " << url->devId.hex() << ":\n";
        if (r->status) printStatus(*r->status);
        else std::cerr << "tte-introducer: status: " << r->statusError->toString() << "\n";
        return kExitAlreadyUsed;
    }
    std::cout << "mapped Dev ID " << url->devId.hex() << " to controller " << c.controller << "\nurn: " << r->mapped->urn.text
              << "\nfingerprint: " << r->mapped->fingerprint.hex() << "\n";
    return printIntroduction(c, r->introduction);
}

void drawProgress(std::size_t done, std::size_t total, const BoxDeviceResult& r) {
    constexpr int width = 30;
    int filled = static_cast<int>(done * width / total);
    std::fprintf(stderr, "\r[%s%s] %zu/%zu %s %-12s", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '.').c_str(), done, total, r.devid.c_str(),
                 (r.skipped ? "done before" : r.outcome.c_str()));
    if (done == total) std::fputc('\n', stderr);
    std::fflush(stderr);
}

int runBox(const LabelSource& s, const Common& c) {
    if (c.state.empty()) return die("box needs --state FILE (progress is kept there so a rerun resumes)");
    auto text = labelText(s);
    if (!text) return die(text.error().message);
    auto box = protocol::parseBoxUrl(text->view());
    if (!box) return die(box.error().message);
    auto queue = queueOf(c);
    if (!queue) return die(queue.error().message);
    auto w = wiringOf(c, *queue);
    if (!w) return die(w.error().message);
    auto results = enrollBox(*box, BoxOptions{w->target, c.state, w->plan}, *w->ms, *w->sender,
                             isatty(2) ? BoxProgress(drawProgress) : BoxProgress());
    if (!results) return die(results.error().message);
    std::map<std::string, int> counts;
    std::size_t skipped = 0, pending = 0, lost = 0;
    std::printf("%-10s %-14s %s\n", "devid", "outcome", "detail");
    for (const auto& r : *results) {
        counts[r.outcome]++;
        skipped += r.skipped;
        pending += r.introductionQueued;
        lost += r.introductionLost;
        std::printf("%-10s %-14s %s%s\n", r.devid.c_str(), r.outcome.c_str(), r.skipped ? "(done before) " : "",
                    r.urn.empty() ? r.message.c_str() : (r.urn + (r.message.empty() ? "" : "; " + r.message)).c_str());
    }
    std::printf("summary: %zu devices, %d mapped, %d already-used, %d not-found, %d revoked, %d failed, %zu skipped as done\n",
                results->size(), counts["mapped"], counts["already-used"], counts["not-found"], counts["revoked"],
                counts["failed"], skipped);
    if (pending > 0)
        std::printf("%zu introductions queued in %s (send them with: tte-introducer flush%s)\n", pending, queue->dir().c_str(),
                    c.queue.empty() ? "" : (" --queue " + c.queue).c_str());
    const bool allMapped = counts["mapped"] == static_cast<int>(results->size());
    if (lost > 0) std::fprintf(stderr, "tte-introducer: %zu introductions could be neither sent nor queued\n", lost);
    return allMapped && lost == 0 && (pending == 0 || c.later) ? 0 : kExitIncomplete;
}

int runFlush(const Common& c) {
    auto dir = queueDir(c);
    if (!dir) return die(dir.error().message);
    IntroductionQueue queue(*dir);
    auto report = queue.flush();
    if (!report) return die(report.error().toString());
    for (const auto& f : report->entries) {
        std::cout << std::left << std::setw(10) << flushOutcomeName(f.outcome) << f.file;
        if (!f.urn.empty()) std::cout << " " << f.urn << (f.outcome == IntroductionQueue::Flushed::Outcome::sent ? " to " : " for ") << f.url;
        if (!f.message.empty()) std::cout << ": " << f.message;
        std::cout << "\n";
    }
    std::cout << "sent " << report->sent() << ", still queued " << report->remaining() << " in " << dir->string() << "\n";
    return report->remaining() == 0 ? 0 : kExitIncomplete;
}

int runStatus(const LabelSource& s, const Common& c) {
    auto url = enrollmentUrlOf(s);
    if (!url) return die(url.error().message);
    auto st = makeHttpsMotherShip(httpsOptions(c))->status(*url);
    if (!st) return die(st.error().toString());
    printStatus(*st);
    return 0;
}

void addSource(CLI::App* cmd, LabelSource& s, bool led) {
    cmd->add_option("--qr-image", s.qrImage, "label image with the QR code: PNG, JPEG or PDF");
    cmd->add_option("--page", s.page, "page of a PDF label (1-based)")->capture_default_str();
    cmd->add_option("--url", s.url, "the label's URL (visible in the process list: prefer --url-file)");
    cmd->add_option("--url-file", s.urlFile, "file holding the label's URL");
    if (led) {
        cmd->add_option("--led-video", s.ledVideo, "video of the device's blinking LED (26 s or more, 24 frames/s or more)");
        cmd->add_option("--led-capture", s.ledCapture, "LED brightness as text: line 1 'fps N', then one value per line");
    }
}

void addMotherShip(CLI::App* cmd, Common& c) {
    cmd->add_option("--cacert", c.cacert, "CA bundle for the MotherShip's certificate (default: system CAs)");
    cmd->add_option("--connect-to", c.connectTo, "HOST:PORT:ADDR:PORT, as curl --connect-to");
}

/// `required`: false for enroll, where a pre-enrolled device needs no Controller of one's own.
void addController(CLI::App* cmd, Common& c, bool required) {
    cmd->add_option("--controller", c.controller, "the Controller's CoAP/DTLS ADDR:PORT for the device")->required(required);
    cmd->add_option("--controller-fingerprint", c.controllerFingerprint, "the Controller's key fingerprint (64 hex)")
        ->required(required);
    cmd->add_option("--controller-web", c.controllerWeb,
                    "the Controller's web address (http:// or https://) that the MotherShip's page links to");
    cmd->add_option("--description", c.description, "a local label for the device (Dev Descp)");
    cmd->add_option("--notify", c.notify, "the Controller's introductions URL, https://ADDR:PORT/tte/v1/introductions");
    cmd->add_option("--queue", c.queue, kQueueHelp);
    cmd->add_flag("--later", c.later, "queue the introduction instead of sending it now (send it with: tte-introducer flush)");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tte-introducer – enroll TTE devices: map them to a Controller at their MotherShip and introduce them"};
    tte::cli::setUp(app, "tte-introducer");
    app.require_subcommand(1);
    app.footer("Exit codes: 0 done; 1 bad input or a failure (one line on stderr); 3 the OTP was already used "
               "(the device may have been enrolled by someone else); 4 incomplete: an introduction was queued, not "
               "delivered (tte-introducer flush sends it), or devices of a box are not done, or flush left some queued.");
    LabelSource s;
    Common c;
    auto* enroll = app.add_subcommand("enroll", "enroll one device from its label, URL or LED");
    addSource(enroll, s, true);
    addMotherShip(enroll, c);
    addController(enroll, c, false);
    auto* box = app.add_subcommand("box", "enroll every device of a box from the box label");
    addSource(box, s, false);
    addMotherShip(box, c);
    addController(box, c, true);
    box->add_option("--state", c.state, "progress file; a rerun skips what is done")->required();
    auto* flush = app.add_subcommand("flush", "send queued introductions to their Controllers");
    flush->add_option("--queue", c.queue, kQueueHelp);
    auto* status = app.add_subcommand("status", "show a device's enrollment state at its MotherShip");
    addSource(status, s, true);
    addMotherShip(status, c);
    if (auto exit = tte::cli::parse(app, argc, argv)) return *exit;
    // Where the label comes from is a usage error too: exactly one source, named before anything runs.
    if (CLI::App* sub = *enroll ? enroll : *box ? box : *status ? status : nullptr) {
        const bool led = sub != box;
        const int given = !s.qrImage.empty() + !s.url.empty() + !s.urlFile.empty() + !s.ledVideo.empty() + !s.ledCapture.empty();
        if (given != 1)
            return tte::cli::usage("tte-introducer", sub->get_name() + ": give exactly one of --qr-image, --url, --url-file" +
                                                         (led ? ", --led-video, --led-capture" : "") + " (see tte-introducer " +
                                                         sub->get_name() + " --help)");
    }
    client::CurlGlobal curl;
    return *enroll ? runEnroll(s, c) : *box ? runBox(s, c) : *flush ? runFlush(c) : runStatus(s, c);
}
