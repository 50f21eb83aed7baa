// The device's enrollment state machine (draft 2, messages 9-12; docs/PROTOCOL.md §7-§9) and
// the seams it runs on. Portable C++20 for the STM32 firmware and for `tte-device` on a host:
// no heap, no exceptions, no clock or I/O of its own. The outside world comes in through four
// seams: Transport (CoAP over DTLS with pinned fingerprints), Nvm (flash sector 3, the
// controller record log), Clock and Random (backoff with full jitter).
//
// Flow of Enrollment::run():
//   read + verify the provisioning block ── bad ──► blockInvalid
//   NVM holds a valid controller record? ── yes ─► check in (skips the MotherShip)
//   GET coaps://<ms>/.well-known/tte?urn=… until 2.05; on 4.04 / no answer wait
//       min(cap, base·2^n) with full jitter and ask again; 4.03 ─► motherShipForbidden
//   append the controller record to the NVM log (CRC last: a power cut leaves old or new)
//   POST coaps://<controller>/tte/v1/checkin {"urn": …} until 2.04 ─► checkedIn; on 4.04
//       (not introduced yet), 5.xx / no answer wait as above and post again; 4.03 (wrong
//       key, introduction expired) ─► controllerForbidden
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tte/protocol/freestanding/block.h"
#include "tte/protocol/freestanding/controller_record.h"

namespace tte::device {

/// SHA-256 of a peer's DER SubjectPublicKeyInfo (docs/PROTOCOL.md §1), raw bytes.
using Fingerprint = std::array<std::uint8_t, 32>;

/// A CoAP response code as the byte on the wire: class << 5 | detail (RFC 7252 3).
constexpr std::uint8_t coapCode(unsigned codeClass, unsigned detail) {
    return static_cast<std::uint8_t>((codeClass << 5) | detail);
}
inline constexpr std::uint8_t kCoapChanged = coapCode(2, 4);
inline constexpr std::uint8_t kCoapContent = coapCode(2, 5);
inline constexpr std::uint8_t kCoapBadRequest = coapCode(4, 0);
inline constexpr std::uint8_t kCoapForbidden = coapCode(4, 3);
inline constexpr std::uint8_t kCoapNotFound = coapCode(4, 4);
inline constexpr std::uint8_t kCoapNotAcceptable = coapCode(4, 6);
inline constexpr std::uint16_t kContentFormatJson = 50;
inline constexpr std::uint16_t kContentFormatCbor = 60;
inline constexpr std::uint16_t kNoContentFormat = 0xFFFF;

/// The paths of §7 and §8, absolute, '/'-separated (one Uri-Path option per segment).
inline constexpr const char* kMotherShipPath = "/.well-known/tte";
inline constexpr const char* kCheckinPath = "/tte/v1/checkin";

/// A CoAP-over-DTLS server: `host` is an IP literal or a DNS name, NUL-terminated.
struct Endpoint {
    const char* host = "";
    std::uint16_t port = 0;
};

/// The device's own DTLS credentials, straight from the provisioning block. The private key
/// is secret: a transport must not log or copy it beyond the DTLS context.
/// With a non-empty `psk` (a DTLS-PSK device, PROTOCOL §11) the transport does DTLS-PSK with
/// that key and `pskIdentity` (the Dev URN) instead, and ignores the key pair and the pin:
/// only the holder of the PSK can complete the handshake.
struct Credentials {
    std::span<const std::uint8_t, 32> privateKey;  ///< P-256 scalar, big-endian
    std::span<const std::uint8_t> certificate;     ///< self-signed X.509, DER
    std::span<const std::uint8_t> psk = {};        ///< the PSK for this server (§11), or empty
    const char* pskIdentity = "";                  ///< NUL-terminated; the Dev URN in PSK mode
};

/// Caller-owned storage for a response payload: the transport fills `storage` and sets `size`.
struct Buffer {
    std::span<std::uint8_t> storage;
    std::size_t size = 0;
};

enum class TransportStatus : std::uint8_t {
    answered,      ///< a response arrived; `code` and `contentFormat` are valid
    noAnswer,      ///< no response: unreachable, DNS failure, timeout, handshake timeout
    peerMismatch,  ///< the server's key is not the pinned fingerprint (connection dropped)
    tooLarge,      ///< the response payload did not fit Buffer::storage
};

struct TransportResult {
    TransportStatus status = TransportStatus::noAnswer;
    std::uint8_t code = 0;                          ///< CoAP response code (coapCode())
    std::uint16_t contentFormat = kNoContentFormat;  ///< the response's Content-Format option
};

/// CoAP over DTLS 1.2 in certificate mode. The transport authenticates the server ONLY by
/// comparing the SHA-256 of its SubjectPublicKeyInfo with `pinned` (no CA, no name check) and
/// presents `self` as the client certificate. Each call is one confirmable request with the
/// transport's own retransmission; it blocks until an answer or its own timeout. The answer
/// may be piggybacked on the ACK or a separate response (RFC 7252 §5.2.2: an empty ACK, later
/// a confirmable response the transport acknowledges): the MotherShip answers a device's first
/// registration so (docs/PROTOCOL.md §7).
class Transport {
public:
    /// GET `path` with one Uri-Query option `query` (unencoded, e.g. "urn=urn:dev:ops:…")
    /// and the Accept option `accept`.
    virtual TransportResult get(const Credentials& self, const Endpoint& server, const Fingerprint& pinned,
                                const char* path, const char* query, std::uint16_t accept, Buffer& response) = 0;
    /// POST `payload` with Content-Format `contentFormat` to `path`.
    virtual TransportResult post(const Credentials& self, const Endpoint& server, const Fingerprint& pinned,
                                 const char* path, std::uint16_t contentFormat, std::span<const std::uint8_t> payload,
                                 Buffer& response) = 0;

protected:
    ~Transport() = default;
};

enum class NvmStatus : std::uint8_t {
    ok,
    outOfRange,  ///< the range is not inside the area
    failed,      ///< the write failed or does not read back (power cut, flash error)
};

/// Flash sector 3 (docs/PROTOCOL.md §9): protocol::kNvmSize bytes, erased (0xFF) by the
/// station, programmed by the device, never erased in the field. NOR semantics: programming
/// can only clear bits.
class Nvm {
public:
    /// The whole area as it reads now (protocol::kNvmSize bytes); valid until program().
    virtual std::span<const std::uint8_t> contents() const = 0;
    /// Programs `data` at `offset`, byte by byte in ascending order (so the CRC at the end of
    /// a record is written last). ok only when every byte was programmed and reads back.
    virtual NvmStatus program(std::size_t offset, std::span<const std::uint8_t> data) = 0;

protected:
    ~Nvm() = default;
};

/// Monotonic milliseconds and waiting.
class Clock {
public:
    virtual std::uint64_t nowMs() = 0;
    /// Returns when nowMs() >= deadlineMs (at once if that is past).
    virtual void sleepUntilMs(std::uint64_t deadlineMs) = 0;

protected:
    ~Clock() = default;
};

/// Uniformly distributed 32-bit values for the backoff jitter (not for keys).
class Random {
public:
    virtual std::uint32_t next() = 0;

protected:
    ~Random() = default;
};

/// Capped exponential backoff with full jitter (docs/PROTOCOL.md §7): before retry n
/// (n = 0 after the first failed attempt) wait a uniform delay in [0, min(cap, base·2^n)].
struct RetryPolicy {
    std::uint32_t baseMs = 2000;     ///< §7: 2 s
    std::uint32_t capMs = 3600000;   ///< §7: 1 h
    std::uint32_t maxAttempts = 0;   ///< 0: forever (§7); otherwise give up after this many
};

struct EnrollmentConfig {
    RetryPolicy motherShip;  ///< GET /.well-known/tte while 4.04, 5.xx or no answer
    RetryPolicy controller;  ///< POST /tte/v1/checkin while 4.04 (not introduced yet), 5.xx or no answer
};

/// Where the state machine is, for a console, a log or a test.
enum class Step : std::uint8_t {
    blockVerified,       ///< the provisioning block passed its checks
    controllerFromNvm,   ///< a stored controller record was found: the MotherShip is skipped
    queryMotherShip,     ///< about to send GET /.well-known/tte (attempt = 1, 2, …)
    motherShipAnswer,    ///< the GET finished (transport, code)
    badAnswer,           ///< a 2.05 whose payload is not a valid controller map (detail)
    retryWait,           ///< about to wait waitMs before the next attempt
    controllerStored,    ///< the controller record was appended to the NVM log
    checkin,             ///< about to send POST /tte/v1/checkin
    checkinAnswer,       ///< the POST finished (transport, code; detail "not-introduced-yet" on 4.04)
};

struct Progress {
    Step step = Step::blockVerified;
    std::uint32_t attempt = 0;
    TransportStatus transport = TransportStatus::answered;
    std::uint8_t code = 0;
    std::uint64_t waitMs = 0;
    const char* detail = "";
};

class Observer {
public:
    virtual void onProgress(const Progress& progress) = 0;

protected:
    ~Observer() = default;
};

enum class Outcome : std::uint8_t {
    checkedIn,            ///< the Controller answered 2.04 (draft message 12)
    blockInvalid,         ///< the provisioning block failed; see blockError and detail
    motherShipForbidden,  ///< 4.03 from the MotherShip: our key is not the recorded one, or revoked
    motherShipRejected,   ///< another 4.xx from the MotherShip (4.00, 4.06): retrying cannot help
    controllerForbidden,  ///< 4.03 from the Controller: our key is not the introduced one, or the introduction expired
    controllerRejected,   ///< another 4.xx from the Controller
    gaveUp,               ///< RetryPolicy::maxAttempts used up (detail "not-introduced-yet" when the Controller said 4.04)
    nvmFull,              ///< the record log has no free slot (§9: 128 records, then rework)
    nvmFailed,            ///< programming the record failed or did not read back
};

/// "checked-in", "block-invalid", "mothership-forbidden", … (kebab-case, for logs).
const char* outcomeName(Outcome outcome);

struct EnrollmentResult {
    Outcome outcome = Outcome::blockInvalid;
    protocol::BlockError blockError = protocol::BlockError::ok;
    const char* detail = "";        ///< the bad block field, or why an answer was refused
    std::uint8_t lastCode = 0;      ///< the last CoAP code received (0 if none)
    bool controllerFromNvm = false;  ///< the controller came from the log, not the MotherShip
    protocol::ControllerRecord controller;  ///< valid when a controller was found
    std::uint32_t motherShipQueries = 0;
    std::uint32_t checkinAttempts = 0;
};

struct Seams {
    Transport& transport;
    Nvm& nvm;
    Clock& clock;
    Random& random;
    Observer* observer = nullptr;  ///< optional
};

/// One enrollment run of a device (a boot). Holds its buffers (about 3 KiB: the decoded block,
/// the response and the request), so it needs no heap; keep one per device, not on a small
/// stack. Not thread-safe.
class Enrollment {
public:
    Enrollment(const Seams& seams, const EnrollmentConfig& config);
    ~Enrollment();
    Enrollment(const Enrollment&) = delete;
    Enrollment& operator=(const Enrollment&) = delete;

    /// Runs the whole flow for the 2048 block bytes `block` (docs/PROTOCOL.md §9) and returns
    /// how it ended; see Outcome for every way. Blocks in Transport calls and Clock waits; with
    /// maxAttempts 0 it returns only on success or a permanent failure. The private key copy
    /// is wiped before it returns.
    EnrollmentResult run(std::span<const std::uint8_t> block);

private:
    bool loadBlock(std::span<const std::uint8_t> block, EnrollmentResult& result);
    bool askMotherShip(EnrollmentResult& result);
    bool storeController(EnrollmentResult& result);
    void checkIn(EnrollmentResult& result);
    void wait(const RetryPolicy& policy, std::uint32_t failures, std::uint32_t attempt);
    void report(const Progress& progress);
    Credentials credentials() const;
    Credentials controllerCredentials(const protocol::ControllerRecord& controller) const;

    Seams m_seams;
    EnrollmentConfig m_config;
    protocol::ProvisioningBlock m_block;
    std::array<std::uint8_t, 512> m_response{};
    std::array<std::uint8_t, 160> m_request{};
};

}  // namespace tte::device
