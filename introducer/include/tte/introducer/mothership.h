// The introducer's side of messages 4/5 (mapping POST) and 7/8 (status GET) at the
// MotherShip named by the Enrollment URL (docs/PROTOCOL.md §6), over verified HTTPS.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tte/base/error.h"
#include "tte/client/https_client.h"
#include "tte/protocol/enrollment_url.h"
#include "tte/protocol/messages.h"

namespace tte::introducer {

/// Where the device should go (the C Addr and fingerprint of draft 2).
struct ControllerTarget {
    std::string ip;  ///< IPv4 dotted quad or IPv6 literal
    std::uint16_t port = 0;
    protocol::Fingerprint fingerprint;
    std::string description;  ///< Dev Descp, optional
    std::string web;          ///< the Controller's web address for people (`cweb`), optional
    /// PROTOCOL §11 (draft 5.3): the device–Controller PSK this introducer chose for the device
    /// (freshPsk()), sent to the MotherShip as cpsk; given to the Controller in message 6 only
    /// when the MotherShip answers that the device uses DTLS-PSK. Secret.
    std::optional<protocol::Psk> psk = std::nullopt;
};

/// 32 bytes from OpenSSL's RAND_bytes: a device–Controller PSK (§11). Errors: internal when
/// the generator fails.
Result<protocol::Psk> freshPsk();

/// Parses "ADDR:PORT" ("[v6]:PORT" for IPv6). Errors: invalidArgument naming the problem.
Result<std::pair<std::string, std::uint16_t>> parseAddressPort(std::string_view text);

/// POST <Enrollment URL>,cip=…,cport=…,cfingerprint=…[,description=…][,cweb=…] (message 4); the
/// 200 answer (message 5). Errors by the MotherShip's answer: conflict (409: "the OTP was
/// already used: the device may have been enrolled by someone else (draft 4)"), notFound
/// (404), permissionDenied (403, revoked), rateLimited (429, with the Retry-After seconds),
/// invalidArgument (400, with the MotherShip's message), unavailable (other statuses),
/// corrupt (a 200 whose body is not a MappingResponse); transport errors of client::httpsRequest().
Result<protocol::MappingResponse> postMapping(const client::HttpsOptions& https, const protocol::EnrollmentUrl& url,
                                              const ControllerTarget& controller);

/// GET https://<ms>/.well-known/tte/status?otp=…,devid=… (message 7/8). Errors as
/// postMapping() (404, 429, 400 …) and corrupt for a bad body.
Result<protocol::StatusResponse> getStatus(const client::HttpsOptions& https, const protocol::EnrollmentUrl& url);

}  // namespace tte::introducer
