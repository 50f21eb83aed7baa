// The introducer's flows as tte-introducer runs them – where the Enrollment URL comes from,
// enrolling one device (messages 4/5, the draft 4 warning with the status of messages 7/8) and
// its introduction (message 6, now or queued) – over two seams, the MotherShip and the
// Controller's introductions, so unit tests drive them with fakes (box.h enrolls a box on the
// same seams).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/client/https_client.h"
#include "tte/introducer/introduction.h"
#include "tte/introducer/led_video.h"
#include "tte/introducer/mothership.h"

namespace tte::introducer {

/// The MotherShip as the flows use it.
class MotherShipApi {
public:
    virtual ~MotherShipApi() = default;
    /// Message 4/5; errors as postMapping().
    virtual Result<protocol::MappingResponse> map(const protocol::EnrollmentUrl& url, const ControllerTarget& controller) = 0;
    /// Message 7/8; errors as getStatus().
    virtual Result<protocol::StatusResponse> status(const protocol::EnrollmentUrl& url) = 0;
};

/// Message 6 as the flows send it.
class IntroductionSender {
public:
    virtual ~IntroductionSender() = default;
    /// Errors as sendIntroduction().
    virtual Status send(const NotifyTarget& target, const protocol::Introduction& introduction) = 0;
};

/// A mapping answered 404 (`notFound`) is what a revoked device gets as well (PROTOCOL §6):
/// the status query with the same OTP tells them apart. Returns permissionDenied "the
/// MotherShip refused: the device is revoked" when the status says revoked, else `notFound`.
Error explainNotFound(MotherShipApi& ms, const protocol::EnrollmentUrl& url, const Error& notFound);

/// The real ones: postMapping()/getStatus() with `https`, sendIntroduction() pinned to the
/// Controller's fingerprint.
std::unique_ptr<MotherShipApi> makeHttpsMotherShip(client::HttpsOptions https);
std::unique_ptr<IntroductionSender> makeHttpsIntroductions(std::chrono::seconds timeout = std::chrono::seconds(20));

/// Where a label's text comes from: exactly one of these.
struct LabelSource {
    std::string qrImage;  ///< PNG, JPEG or PDF (page `page`)
    int page = 1;
    std::string url;      ///< the text itself
    std::string urlFile;  ///< a file holding it (one line)
    std::string ledVideo;    ///< a video of the device's LED (led_video.h): an Enrollment URL only
    std::string ledCapture;  ///< an LED recording (docs/PROTOCOL.md §8.1): an Enrollment URL only
    LedVideoOptions ledVideoOptions;  ///< how `ledVideo` is read (progress)
};

/// The label's text (Enrollment URL or box URL). Secret. Errors: invalidArgument "give
/// exactly one of --qr-image, --url, --url-file, --led-video, --led-capture" (an LED holds no
/// text), those of readQrImage() and readWholeFile().
Result<Secret> labelText(const LabelSource& source);

/// The Enrollment URL from a label's text, a video of the LED or an LED capture (operational
/// MS IDs only); with a video, `found` (when not null) says where the LED was seen. Errors:
/// those of labelText(), parseEnrollmentUrl(), readLedVideo(), readLedCapture(),
/// decodeLedCapture() and protocol::makeMsId().
Result<protocol::EnrollmentUrl> enrollmentUrlFrom(const LabelSource& source, LedVideoResult* found = nullptr);

/// Where message 6 goes: nowhere, to the Controller now, or into the queue (`later`, or
/// when the Controller cannot be reached now).
struct IntroducePlan {
    std::optional<NotifyTarget> notify;
    IntroductionQueue* queue = nullptr;
    bool later = false;
};

/// The Controller the device should go to, from the command line's words. Errors: those of
/// parseAddressPort(); "--controller-fingerprint: <parseFingerprint()'s message>";
/// "--controller-web: <protocol::checkControllerWebUrl()'s message>".
Result<ControllerTarget> controllerTargetOf(std::string_view addressPort, std::string_view fingerprintHex,
                                            std::string description, std::string web = {});

/// Where message 6 goes, from the command line's words (`queue` may be null: none). Errors:
/// invalidArgument "--later needs --notify URL", "--notify must be an https:// URL", "--later
/// needs a queue".
Result<IntroducePlan> introducePlanOf(std::string_view notifyUrl, IntroductionQueue* queue, bool later,
                                      const protocol::Fingerprint& controllerFingerprint);

/// What happened to message 6.
struct IntroduceOutcome {
    bool sent = false;
    std::optional<Error> sendError;  ///< sending now was tried and failed
    bool queued = false;
    std::filesystem::path queuedFile;  ///< where it was queued
    std::optional<Error> queueError;  ///< keeping it in the queue failed
};

/// Sends now unless `later`; once the OTP is spent no introduction is lost: one that was not
/// delivered – whatever the reason, a 409 or 400 too – goes to the queue, and `later` queues
/// at once. Never fails: the outcome says.
IntroduceOutcome introduce(const IntroducePlan& plan, const protocol::Introduction& introduction,
                           IntroductionSender& sender);

/// One device enrolled (or found enrolled already).
struct EnrollResult {
    bool alreadyUsed = false;  ///< 409: the OTP was used (draft 4); `status` says what the MotherShip knows
    /// 409 because its station pre-enrolled the device (the status carries the Controller's
    /// fingerprint): not a used OTP, nothing to do, no warning. `status` holds the answer.
    std::optional<protocol::Fingerprint> preEnrolledTo;
    std::optional<protocol::MappingResponse> mapped;
    std::optional<protocol::StatusResponse> status;
    std::optional<Error> statusError;  ///< when the status could not be read
    IntroduceOutcome introduction;
};

/// Message 4/5 for `url`, then message 6 as `plan` says. A 409 is no error: the result says
/// alreadyUsed and carries the status (message 7/8), or preEnrolledTo when the status says its
/// station pre-enrolled the device. Errors: those of MotherShipApi::map() but conflict.
Result<EnrollResult> enroll(const protocol::EnrollmentUrl& url, const ControllerTarget& controller,
                            const IntroducePlan& plan, MotherShipApi& ms, IntroductionSender& sender);

/// Without a Controller of one's own: whether the device is pre-enrolled (message 7/8). Returns
/// the status when it is (`preEnrolledTo` set). Errors: those of MotherShipApi::status();
/// invalidArgument "the device is not pre-enrolled (its state is S): give --controller and
/// --controller-fingerprint to enroll it".
Result<protocol::StatusResponse> checkPreEnrolled(MotherShipApi& ms, const protocol::EnrollmentUrl& url);

}  // namespace tte::introducer
