// tte-introducer: the companion introducer CLI (draft 2 messages 3-8). Composition root:
// flags, where the Enrollment URL comes from, and printing results for a person.
#include <CLI/CLI.hpp>
#include <curl/curl.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "tte/introducer/atomic_file.h"
#include "tte/introducer/box.h"
#include "tte/introducer/capture.h"
#include "tte/introducer/introduction.h"
#include "tte/introducer/led_video.h"
#include "tte/introducer/mothership.h"

namespace {

using namespace tte;
using namespace tte::introducer;

constexpr int kExitError = 1;
constexpr int kExitAlreadyUsed = 3;
constexpr int kExitIncomplete = 4;

struct Source {
    std::string qrImage;
    int page = 1;
    std::string url;
    std::string urlFile;
    std::string ledCapture;
    std::string ledVideo;
};

struct Common {
    std::string cacert;
    std::vector<std::string> connectTo;
    std::string controller;
    std::string controllerFingerprint;
    std::string description;
    std::string notify;
    std::string queue;
    bool later = false;
    std::string state;
};

constexpr const char* kOneSource = "give exactly one of --qr-image, --url, --url-file, --led-video, --led-capture";

int die(const std::string& message) {
    std::cerr << "tte-introducer: " << message << "\n";
    return kExitError;
}

/// The label's text (Enrollment URL or box URL) from whichever source was given.
Result<Secret> labelText(const Source& s) {
    int given = !s.qrImage.empty() + !s.url.empty() + !s.urlFile.empty() + !s.ledCapture.empty() + !s.ledVideo.empty();
    if (given != 1) return fail(Errc::invalidArgument, kOneSource);
    if (!s.qrImage.empty()) return readQrImage(s.qrImage, s.page);
    if (!s.url.empty()) return Secret(s.url);
    if (!s.urlFile.empty()) {
        auto text = readWholeFile(s.urlFile);
        if (!text) return std::unexpected(text.error());
        while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
        Secret out(*text);
        secureZero(text->data(), text->size());
        return out;
    }
    return fail(Errc::internal, "LED capture has no label text");
}

/// The LED frame from a video of the LED (progress on a terminal) or a capture file.
Result<protocol::LedFrameData> ledFrame(const Source& s) {
    if (!s.ledCapture.empty()) {
        auto capture = readLedCapture(s.ledCapture);
        if (!capture) return std::unexpected(capture.error());
        return decodeLedCapture(*capture);
    }
    LedVideoOptions options;
    if (isatty(2)) {
        options.progress = [shown = -1](double share) mutable {
            if (const int percent = static_cast<int>(share * 100); percent != shown) {
                shown = percent;
                std::fprintf(stderr, "\rlooking for the LED in the video: %3d%%", percent);
            }
        };
    }
    auto found = readLedVideo(s.ledVideo, options);
    if (options.progress) std::fputs("\n", stderr);
    if (!found) return std::unexpected(found.error());
    std::printf("LED found at x=%ld y=%ld in %.1f s of video (%zu frames, %.1f frames/s)\n",
                static_cast<long>(std::floor(found->spot.x)), static_cast<long>(std::floor(found->spot.y)), found->seconds,
                found->frames, found->fps);
    return found->frame;
}

Result<protocol::EnrollmentUrl> enrollmentUrl(const Source& s) {
    if (!s.ledCapture.empty() || !s.ledVideo.empty()) {
        if (!s.qrImage.empty() || !s.url.empty() || !s.urlFile.empty() || (!s.ledCapture.empty() && !s.ledVideo.empty()))
            return fail(Errc::invalidArgument, kOneSource);
        auto frame = ledFrame(s);
        if (!frame) return std::unexpected(frame.error());
        auto ms = protocol::makeMsId(frame->msId, protocol::MsIdUse::operational);
        if (!ms) return std::unexpected(ms.error());
        return protocol::EnrollmentUrl{*ms, protocol::Otp(frame->otp), protocol::DevId{frame->devId}};
    }
    auto text = labelText(s);
    if (!text) return std::unexpected(text.error());
    return protocol::parseEnrollmentUrl(text->view());
}

HttpsOptions httpsOptions(const Common& c) { return {c.cacert, c.connectTo, {}, std::chrono::seconds(20)}; }

Result<ControllerTarget> controllerTarget(const Common& c) {
    auto addr = parseAddressPort(c.controller);
    if (!addr) return std::unexpected(addr.error());
    auto fp = protocol::parseFingerprint(c.controllerFingerprint);
    if (!fp) return withContext(fp.error(), "--controller-fingerprint");
    return ControllerTarget{addr->first, addr->second, *fp, c.description};
}

Result<std::optional<NotifyTarget>> notifyTarget(const Common& c, const ControllerTarget& t) {
    if (c.notify.empty()) {
        if (c.later) return fail(Errc::invalidArgument, "--later needs --notify URL and --queue FILE");
        return std::optional<NotifyTarget>();
    }
    if (c.notify.rfind("https://", 0) != 0) return fail(Errc::invalidArgument, "--notify must be an https:// URL");
    if (c.later && c.queue.empty()) return fail(Errc::invalidArgument, "--later needs --queue FILE");
    return std::optional<NotifyTarget>(NotifyTarget{c.notify, t.fingerprint});
}

void printStatus(const HttpsOptions& https, const protocol::EnrollmentUrl& url) {
    auto st = getStatus(https, url);
    if (!st) {
        std::cerr << "tte-introducer: status: " << st.error().toString() << "\n";
        return;
    }
    std::cout << "urn: " << st->urn.text << "\nfingerprint: " << st->fingerprint.hex()
              << "\nstate: " << protocol::enrollmentStateName(st->state) << "\n";
}

/// Message 6 now, or into the queue (--later, or when the Controller cannot be reached).
void introduce(const Common& c, const std::optional<NotifyTarget>& notify, const protocol::Introduction& intro) {
    if (!notify) return;
    IntroductionQueue queue(c.queue);
    if (!c.later) {
        auto sent = sendIntroduction(*notify, intro);
        if (sent) {
            std::cout << "introduced to the controller at " << notify->url << "\n";
            return;
        }
        std::cerr << "tte-introducer: introduction not sent: " << sent.error().toString() << "\n";
        if (c.queue.empty() || sent.error().code == Errc::conflict || sent.error().code == Errc::invalidArgument) return;
    }
    if (auto st = queue.add(*notify, intro); !st) {
        std::cerr << "tte-introducer: cannot queue the introduction: " << st.error().toString() << "\n";
        return;
    }
    std::cout << "introduction queued in " << c.queue << " (send it with: tte-introducer flush --queue " << c.queue << ")\n";
}

int runEnroll(const Source& s, const Common& c) {
    auto url = enrollmentUrl(s);
    if (!url) return die(url.error().message);
    auto target = controllerTarget(c);
    if (!target) return die(target.error().message);
    auto notify = notifyTarget(c, *target);
    if (!notify) return die(notify.error().message);
    auto https = httpsOptions(c);
    auto mapped = postMapping(https, *url, *target);
    if (!mapped) {
        if (mapped.error().code == Errc::conflict) {
            std::cerr << "tte-introducer: WARNING: " << mapped.error().message << "\n";
            std::cerr << "tte-introducer: current enrollment status of Dev ID " << url->devId.hex() << ":\n";
            printStatus(https, *url);
            return kExitAlreadyUsed;
        }
        return die(mapped.error().toString());
    }
    std::cout << "mapped Dev ID " << url->devId.hex() << " to controller " << c.controller << "\nurn: " << mapped->urn.text
              << "\nfingerprint: " << mapped->fingerprint.hex() << "\n";
    introduce(c, *notify, {mapped->urn, mapped->fingerprint, url->otp, url->devId, url->ms, c.description});
    return 0;
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

int runBox(const Source& s, const Common& c) {
    if (c.state.empty()) return die("box needs --state FILE (progress is kept there so a rerun resumes)");
    auto text = labelText(s);
    if (!text) return die(text.error().message);
    auto box = protocol::parseBoxUrl(text->view());
    if (!box) return die(box.error().message);
    auto target = controllerTarget(c);
    if (!target) return die(target.error().message);
    auto notify = notifyTarget(c, *target);
    if (!notify) return die(notify.error().message);
    IntroductionQueue queue(c.queue);
    BoxOptions options{httpsOptions(c), *target, c.state, *notify, c.queue.empty() ? nullptr : &queue};
    auto results = enrollBox(*box, options, isatty(2) ? BoxProgress(drawProgress) : BoxProgress());
    if (!results) return die(results.error().message);
    std::map<std::string, int> counts;
    std::size_t skipped = 0;
    std::printf("%-10s %-14s %s\n", "devid", "outcome", "detail");
    for (const auto& r : *results) {
        counts[r.outcome]++;
        skipped += r.skipped;
        std::printf("%-10s %-14s %s%s\n", r.devid.c_str(), r.outcome.c_str(), r.skipped ? "(done before) " : "",
                    r.urn.empty() ? r.message.c_str() : (r.urn + (r.message.empty() ? "" : "; " + r.message)).c_str());
    }
    std::printf("summary: %zu devices, %d mapped, %d already-used, %d not-found, %d revoked, %d failed, %zu skipped as done\n",
                results->size(), counts["mapped"], counts["already-used"], counts["not-found"], counts["revoked"],
                counts["failed"], skipped);
    return counts["mapped"] == static_cast<int>(results->size()) ? 0 : kExitIncomplete;
}

int runFlush(const Common& c) {
    if (c.queue.empty()) return die("flush needs --queue FILE");
    IntroductionQueue queue(c.queue);
    auto report = queue.flush();
    if (!report) return die(report.error().message);
    for (const auto& p : report->problems) std::cerr << "tte-introducer: " << p << "\n";
    std::cout << "sent " << report->sent << ", kept " << report->kept << ", dropped " << report->dropped << "\n";
    return report->kept == 0 && report->dropped == 0 ? 0 : kExitIncomplete;
}

int runStatus(const Source& s, const Common& c) {
    auto url = enrollmentUrl(s);
    if (!url) return die(url.error().message);
    auto st = getStatus(httpsOptions(c), *url);
    if (!st) return die(st.error().toString());
    std::cout << "urn: " << st->urn.text << "\nfingerprint: " << st->fingerprint.hex()
              << "\nstate: " << protocol::enrollmentStateName(st->state) << "\n";
    return 0;
}

void addSource(CLI::App* cmd, Source& s, bool led) {
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

void addController(CLI::App* cmd, Common& c) {
    cmd->add_option("--controller", c.controller, "the Controller's CoAP/DTLS ADDR:PORT for the device")->required();
    cmd->add_option("--controller-fingerprint", c.controllerFingerprint, "the Controller's key fingerprint (64 hex)")->required();
    cmd->add_option("--description", c.description, "a local label for the device (Dev Descp)");
    cmd->add_option("--notify", c.notify, "the Controller's introductions URL, https://ADDR:PORT/tte/v1/introductions");
    cmd->add_option("--queue", c.queue, "queue file for introductions to send later (tte-introducer flush)");
    cmd->add_flag("--later", c.later, "queue the introduction instead of sending it now");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tte-introducer – enroll TTE devices: map them to a Controller at their MotherShip and introduce them"};
    app.require_subcommand(1);
    Source s;
    Common c;
    auto* enroll = app.add_subcommand("enroll", "enroll one device from its label, URL or LED");
    addSource(enroll, s, true);
    addMotherShip(enroll, c);
    addController(enroll, c);
    auto* box = app.add_subcommand("box", "enroll every device of a box from the box label");
    addSource(box, s, false);
    addMotherShip(box, c);
    addController(box, c);
    box->add_option("--state", c.state, "progress file; a rerun skips what is done")->required();
    auto* flush = app.add_subcommand("flush", "send queued introductions to their Controllers");
    flush->add_option("--queue", c.queue, "the queue file")->required();
    auto* status = app.add_subcommand("status", "show a device's enrollment state at its MotherShip");
    addSource(status, s, true);
    addMotherShip(status, c);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = *enroll ? runEnroll(s, c) : *box ? runBox(s, c) : *flush ? runFlush(c) : runStatus(s, c);
    curl_global_cleanup();
    return rc;
}
