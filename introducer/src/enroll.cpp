// Enrolling one device, and where its Enrollment URL comes from (enroll.h).
#include "tte/introducer/enroll.h"

#include "tte/base/atomic_file.h"
#include "tte/introducer/capture.h"

namespace tte::introducer {
namespace {

class HttpsMotherShip final : public MotherShipApi {
public:
    explicit HttpsMotherShip(client::HttpsOptions https) : m_https(std::move(https)) {}
    Result<protocol::MappingResponse> map(const protocol::EnrollmentUrl& url, const ControllerTarget& controller) override {
        return postMapping(m_https, url, controller);
    }
    Result<protocol::StatusResponse> status(const protocol::EnrollmentUrl& url) override { return getStatus(m_https, url); }

private:
    client::HttpsOptions m_https;
};

class HttpsIntroductions final : public IntroductionSender {
public:
    explicit HttpsIntroductions(std::chrono::seconds timeout) : m_timeout(timeout) {}
    Status send(const NotifyTarget& target, const protocol::Introduction& introduction) override {
        return sendIntroduction(target, introduction, m_timeout);
    }

private:
    std::chrono::seconds m_timeout;
};

constexpr const char* kOneSource = "give exactly one of --qr-image, --url, --url-file, --led-video, --led-capture";

/// The LED frame from a video of the LED or a capture file.
Result<protocol::LedFrameData> ledFrame(const LabelSource& s, LedVideoResult* found) {
    if (!s.ledCapture.empty()) {
        auto capture = readLedCapture(s.ledCapture);
        if (!capture) return std::unexpected(capture.error());
        return decodeLedCapture(*capture);
    }
    auto video = readLedVideo(s.ledVideo, s.ledVideoOptions);
    if (!video) return std::unexpected(video.error());
    if (found != nullptr) *found = *video;
    return video->frame;
}

}  // namespace

std::unique_ptr<MotherShipApi> makeHttpsMotherShip(client::HttpsOptions https) {
    return std::make_unique<HttpsMotherShip>(std::move(https));
}

std::unique_ptr<IntroductionSender> makeHttpsIntroductions(std::chrono::seconds timeout) {
    return std::make_unique<HttpsIntroductions>(timeout);
}

Result<Secret> labelText(const LabelSource& s) {
    const int given = !s.qrImage.empty() + !s.url.empty() + !s.urlFile.empty() + !s.ledVideo.empty() + !s.ledCapture.empty();
    if (given != 1 || !s.ledVideo.empty() || !s.ledCapture.empty()) return fail(Errc::invalidArgument, kOneSource);
    if (!s.qrImage.empty()) return readQrImage(s.qrImage, s.page);
    if (!s.url.empty()) return Secret(s.url);
    auto text = readWholeFile(s.urlFile);
    if (!text) return std::unexpected(text.error());
    while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
    Secret out(*text);
    secureZero(text->data(), text->size());
    return out;
}

Result<protocol::EnrollmentUrl> enrollmentUrlFrom(const LabelSource& s, LedVideoResult* found) {
    if (s.ledCapture.empty() && s.ledVideo.empty()) {
        auto text = labelText(s);
        if (!text) return std::unexpected(text.error());
        return protocol::parseEnrollmentUrl(text->view());
    }
    if (!s.qrImage.empty() || !s.url.empty() || !s.urlFile.empty() || (!s.ledCapture.empty() && !s.ledVideo.empty()))
        return fail(Errc::invalidArgument, kOneSource);
    auto frame = ledFrame(s, found);
    if (!frame) return std::unexpected(frame.error());
    auto ms = protocol::makeMsId(frame->msId, protocol::MsIdUse::operational);
    if (!ms) return std::unexpected(ms.error());
    return protocol::EnrollmentUrl{*ms, protocol::Otp(frame->otp), protocol::DevId{frame->devId}};
}

Result<ControllerTarget> controllerTargetOf(std::string_view addressPort, std::string_view fingerprintHex,
                                            std::string description, std::string web) {
    auto addr = parseAddressPort(addressPort);
    if (!addr) return std::unexpected(addr.error());
    auto fp = protocol::parseFingerprint(fingerprintHex);
    if (!fp) return withContext(fp.error(), "--controller-fingerprint");
    if (!web.empty()) {
        if (auto ok = protocol::checkControllerWebUrl(web); !ok) return withContext(ok.error(), "--controller-web");
    }
    return ControllerTarget{addr->first, addr->second, *fp, std::move(description), std::move(web)};
}

Result<IntroducePlan> introducePlanOf(std::string_view notifyUrl, IntroductionQueue* queue, bool later,
                                      const protocol::Fingerprint& controllerFingerprint) {
    if (notifyUrl.empty()) {
        if (later) return fail(Errc::invalidArgument, "--later needs --notify URL");
        return IntroducePlan{std::nullopt, queue, false};
    }
    if (!notifyUrl.starts_with("https://")) return fail(Errc::invalidArgument, "--notify must be an https:// URL");
    if (later && queue == nullptr) return fail(Errc::invalidArgument, "--later needs a queue");
    return IntroducePlan{NotifyTarget{std::string(notifyUrl), controllerFingerprint}, queue, later};
}

IntroduceOutcome introduce(const IntroducePlan& plan, const protocol::Introduction& introduction,
                           IntroductionSender& sender) {
    IntroduceOutcome out;
    if (!plan.notify) return out;
    if (!plan.later) {
        auto sent = sender.send(*plan.notify, introduction);
        if (sent) {
            out.sent = true;
            return out;
        }
        out.sendError = sent.error();
    }
    if (plan.queue == nullptr) return out;
    if (auto file = plan.queue->add(*plan.notify, introduction); !file) {
        out.queueError = file.error();
    } else {
        out.queued = true;
        out.queuedFile = std::move(*file);
    }
    return out;
}

Error explainNotFound(MotherShipApi& ms, const protocol::EnrollmentUrl& url, const Error& notFound) {
    auto status = ms.status(url);
    if (status && status->state == protocol::EnrollmentState::revoked)
        return Error{Errc::permissionDenied, "the MotherShip refused: the device is revoked", notFound.domain,
                     notFound.nativeCode, notFound.nativeName};
    return notFound;
}

Result<EnrollResult> enroll(const protocol::EnrollmentUrl& url, const ControllerTarget& controller,
                            const IntroducePlan& plan, MotherShipApi& ms, IntroductionSender& sender) {
    EnrollResult r;
    // §11 (draft 5.3): the introducer provides the MotherShip with the device–Controller PSK.
    // It cannot know beforehand whether the device uses DTLS-PSK, so every mapping carries a
    // fresh one; the MotherShip keeps it only for a PSK device and says so in its answer.
    ControllerTarget target = controller;
    auto psk = freshPsk();
    if (!psk) return std::unexpected(psk.error());
    target.psk = *psk;
    auto mapped = ms.map(url, target);
    if (!mapped) {
        if (mapped.error().code == Errc::notFound) return std::unexpected(explainNotFound(ms, url, mapped.error()));
        if (mapped.error().code != Errc::conflict) return std::unexpected(mapped.error());
        auto status = ms.status(url);
        if (status) r.status = std::move(*status);
        else r.statusError = status.error();
        // Its station mapped it for the customer: the OTP is unspent, nothing to warn about.
        if (r.status && r.status->preEnrolledTo) r.preEnrolledTo = r.status->preEnrolledTo;
        else r.alreadyUsed = true;
        return r;
    }
    r.introduction = introduce(plan,
                               {mapped->urn, mapped->fingerprint, url.otp, url.devId, url.ms, controller.description,
                                mapped->psk ? target.psk : std::nullopt},
                               sender);
    r.mapped = std::move(*mapped);
    return r;
}

Result<protocol::StatusResponse> checkPreEnrolled(MotherShipApi& ms, const protocol::EnrollmentUrl& url) {
    auto status = ms.status(url);
    if (!status) return std::unexpected(status.error());
    if (!status->preEnrolledTo)
        return fail(Errc::invalidArgument, "the device is not pre-enrolled (its state is " +
                                               std::string(protocol::enrollmentStateName(status->state)) +
                                               "): give --controller and --controller-fingerprint to enroll it");
    return status;
}

}  // namespace tte::introducer
