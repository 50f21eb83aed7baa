// The device's enrollment state machine (draft 2 messages 9-12; docs/PROTOCOL.md §7-§9).
#include "tte/device/enrollment.h"

#include <cstring>

#include "tte/device/backoff.h"
#include "tte/protocol/freestanding/coap_messages.h"
#include "tte/device/controller_log.h"

namespace tte::device {
namespace {

constexpr const char* kNotIntroducedYet = "not-introduced-yet";
constexpr std::size_t kMaxQuery = 4 + protocol::kMaxDevUrnLength + 1;  // "urn=" + URN + NUL

bool isClientError(std::uint8_t code) { return (code >> 5) == 4; }

// §7: 4.04 (not mapped yet), 5.xx and no answer are worth another try; a DTLS peer that is
// not the pinned one may be a transient man in the middle, so it is retried as well.
bool worthRetry(const TransportResult& r) {
    return r.status != TransportStatus::answered || r.code == kCoapNotFound || (r.code >> 5) == 5;
}

}  // namespace

const char* outcomeName(Outcome outcome) {
    switch (outcome) {
    case Outcome::checkedIn: return "checked-in";
    case Outcome::blockInvalid: return "block-invalid";
    case Outcome::motherShipForbidden: return "mothership-forbidden";
    case Outcome::motherShipRejected: return "mothership-rejected";
    case Outcome::controllerForbidden: return "controller-forbidden";
    case Outcome::controllerRejected: return "controller-rejected";
    case Outcome::gaveUp: return "gave-up";
    case Outcome::nvmFull: return "nvm-full";
    case Outcome::nvmFailed: return "nvm-failed";
    }
    return "unknown";
}

Enrollment::Enrollment(const Seams& seams, const EnrollmentConfig& config) : m_seams(seams), m_config(config) {}

Enrollment::~Enrollment() { protocol::wipeBlock(m_block); }

void Enrollment::report(const Progress& progress) {
    if (m_seams.observer != nullptr) {
        m_seams.observer->onProgress(progress);
    }
}

Credentials Enrollment::credentials() const {
    Credentials c{std::span<const std::uint8_t, 32>(m_block.privateKey),
                  std::span<const std::uint8_t>(m_block.cert, m_block.certLength)};
    if (protocol::isPskBlock(m_block)) {  // §11: the device–MotherShip PSK, identity = Dev URN
        c.psk = std::span<const std::uint8_t>(m_block.psk);
        c.pskIdentity = m_block.devUrn;
    }
    return c;
}

Credentials Enrollment::controllerCredentials(const protocol::ControllerRecord& controller) const {
    Credentials c = credentials();
    if (protocol::isPskBlock(m_block)) {  // §11: the device–Controller PSK the introducer chose
        c.psk = std::span<const std::uint8_t>(controller.psk);
    }
    return c;
}

void Enrollment::wait(const RetryPolicy& policy, std::uint32_t failures, std::uint32_t attempt) {
    const std::uint64_t delay = backoffDelayMs(policy, failures - 1, m_seams.random.next());
    report({Step::retryWait, attempt, TransportStatus::answered, 0, delay, ""});
    m_seams.clock.sleepUntilMs(m_seams.clock.nowMs() + delay);
}

bool Enrollment::loadBlock(std::span<const std::uint8_t> block, EnrollmentResult& result) {
    protocol::BlockFault fault;
    result.blockError = protocol::decodeBlock(block, m_block, fault);
    if (result.blockError != protocol::BlockError::ok) {
        result.outcome = Outcome::blockInvalid;
        result.detail = result.blockError == protocol::BlockError::field ? fault.field : "";
        return false;
    }
    report({Step::blockVerified, 0, TransportStatus::answered, 0, 0, m_block.devUrn});
    return true;
}

bool Enrollment::askMotherShip(EnrollmentResult& result) {
    // decodeBlock() checked the URN: at most 127 bytes, NUL-terminated.
    char query[kMaxQuery] = "urn=";
    std::memcpy(query + 4, m_block.devUrn, std::strlen(m_block.devUrn) + 1);
    const Endpoint server{m_block.msAddress, m_block.msPort};
    Fingerprint pinned;
    std::memcpy(pinned.data(), m_block.msFingerprint, pinned.size());
    const RetryPolicy& policy = m_config.motherShip;
    for (std::uint32_t attempt = 1;; ++attempt) {
        report({Step::queryMotherShip, attempt, TransportStatus::answered, 0, 0, ""});
        Buffer response{m_response, 0};
        const TransportResult r =
            m_seams.transport.get(credentials(), server, pinned, kMotherShipPath, query, kContentFormatCbor, response);
        result.motherShipQueries = attempt;
        result.lastCode = r.status == TransportStatus::answered ? r.code : result.lastCode;
        report({Step::motherShipAnswer, attempt, r.status, r.code, 0, ""});
        if (r.status == TransportStatus::answered && r.code == kCoapContent) {
            const std::size_t size = response.size <= m_response.size() ? response.size : 0;
            const protocol::ControllerAnswerError error =
                r.contentFormat == kContentFormatCbor || r.contentFormat == kNoContentFormat
                    ? protocol::parseControllerAnswer({m_response.data(), size}, result.controller)
                    : protocol::ControllerAnswerError::notMap;
            if (error == protocol::ControllerAnswerError::ok &&
                protocol::isPskBlock(m_block) != ((result.controller.flags & protocol::kControllerFlagPsk) != 0)) {
                // §11: a PSK device must get the Controller's PSK, a certificate device none.
                result.outcome = Outcome::motherShipRejected;
                result.detail = "psk-mode-mismatch";
                return false;
            }
            if (error == protocol::ControllerAnswerError::ok) {
                return true;
            }
            result.detail = protocol::controllerAnswerErrorName(error);
            report({Step::badAnswer, attempt, r.status, r.code, 0, result.detail});
        } else if (r.status == TransportStatus::answered && r.code == kCoapForbidden) {
            result.outcome = Outcome::motherShipForbidden;  // §7: stop and show the failure
            return false;
        } else if (r.status == TransportStatus::answered && isClientError(r.code) && !worthRetry(r)) {
            result.outcome = Outcome::motherShipRejected;
            return false;
        }
        if (policy.maxAttempts != 0 && attempt >= policy.maxAttempts) {
            result.outcome = Outcome::gaveUp;
            return false;
        }
        wait(policy, attempt, attempt);
    }
}

bool Enrollment::storeController(EnrollmentResult& result) {
    switch (appendController(m_seams.nvm, result.controller)) {
    case StoreStatus::ok:
        report({Step::controllerStored, result.controller.sequence, TransportStatus::answered, 0, 0, ""});
        return true;
    case StoreStatus::full:
        result.outcome = Outcome::nvmFull;
        return false;
    case StoreStatus::invalid:
        result.outcome = Outcome::motherShipRejected;
        result.detail = "invalid-controller";
        return false;
    case StoreStatus::failed:
        break;
    }
    result.outcome = Outcome::nvmFailed;
    return false;
}

void Enrollment::checkIn(EnrollmentResult& result) {
    const std::size_t size = protocol::encodeCheckin(m_block.devUrn, m_request);
    const Endpoint server{result.controller.address, result.controller.port};
    Fingerprint pinned;
    std::memcpy(pinned.data(), result.controller.fingerprint, pinned.size());
    const RetryPolicy& policy = m_config.controller;
    for (std::uint32_t attempt = 1;; ++attempt) {
        report({Step::checkin, attempt, TransportStatus::answered, 0, 0, ""});
        Buffer response{m_response, 0};
        const TransportResult r = m_seams.transport.post(controllerCredentials(result.controller), server, pinned, kCheckinPath,
                                                         kContentFormatCbor, {m_request.data(), size}, response);
        result.checkinAttempts = attempt;
        result.lastCode = r.status == TransportStatus::answered ? r.code : result.lastCode;
        // §8: 4.04 is "not introduced yet" – message 6 may come far later (draft 2), so wait
        // for it within this boot with the backoff of message 9.
        const bool notIntroduced = r.status == TransportStatus::answered && r.code == kCoapNotFound;
        result.detail = notIntroduced ? kNotIntroducedYet : "";
        report({Step::checkinAnswer, attempt, r.status, r.code, 0, result.detail});
        if (r.status == TransportStatus::answered && r.code == kCoapChanged) {
            result.outcome = Outcome::checkedIn;  // draft message 12
            return;
        }
        if (r.status == TransportStatus::answered && r.code == kCoapForbidden) {
            result.outcome = Outcome::controllerForbidden;  // §8: a wrong key (or expired): stop
            return;
        }
        if (r.status == TransportStatus::answered && (r.code >> 5) != 5 && !notIntroduced) {
            result.outcome = Outcome::controllerRejected;  // 4.xx or an unexpected 2.xx
            return;
        }
        if (policy.maxAttempts != 0 && attempt >= policy.maxAttempts) {
            result.outcome = Outcome::gaveUp;
            return;
        }
        wait(policy, attempt, attempt);
    }
}

EnrollmentResult Enrollment::run(std::span<const std::uint8_t> block) {
    EnrollmentResult result;
    if (!loadBlock(block, result)) {
        protocol::wipeBlock(m_block);
        return result;
    }
    if (loadController(m_seams.nvm, result.controller)) {
        result.controllerFromNvm = true;
        report({Step::controllerFromNvm, result.controller.sequence, TransportStatus::answered, 0, 0, ""});
    } else if (!askMotherShip(result) || !storeController(result)) {
        protocol::wipeBlock(m_block);
        return result;
    }
    checkIn(result);
    protocol::wipeBlock(m_block);
    volatile std::uint8_t* psk = result.controller.psk;  // the caller needs where, not the key
    for (std::size_t i = 0; i < sizeof(result.controller.psk); ++i) psk[i] = 0;
    return result;
}

}  // namespace tte::device
