// The documents of the MotherShip's HTTPS and CoAP answers (docs/PROTOCOL.md §6, §7):
// MappingResponse (message 5), StatusResponse (message 8), ErrorBody, ControllerInfo
// (message 10, JSON and CBOR) and the controller parameters of message 4.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/protocol/enrollment_url.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/ids.h"
#include "tte/protocol/query.h"

namespace tte::protocol {

// Every fromJson()/fromCbor() below refuses, with invalidArgument and a message starting
// "<Type>: ": invalid JSON ("invalid JSON at byte N") or CBOR ("invalid CBOR"), a document
// over 1 MiB, a duplicate key ("duplicate field 'x'"), a non-object ("expected a JSON
// object"), an unknown key ("unknown field 'x'"), a missing one ("missing field 'x'"), a wrong
// type ("field 'x' must be a string", "... must be an integer from A to B") and a bad value
// ("field 'x': <the value parser's message>").

/// The state of a device at the MotherShip (§6, message 8). `preEnrolled` is never stored: the
/// status query answers it for a device its station mapped through the station API (PROTOCOL
/// §10) that has not fetched its Controller yet; the registry keeps such a device `mapped`.
enum class EnrollmentState { notMapped, mapped, registered, revoked, preEnrolled };

/// "not-mapped", "mapped", "registered", "revoked", "pre-enrolled".
std::string_view enrollmentStateName(EnrollmentState state);
/// Errors: invalidArgument "unknown state '<text>'".
Result<EnrollmentState> parseEnrollmentState(std::string_view text);

/// 200 answer to the mapping POST (message 5): {"urn", "fingerprint"}, and for a DTLS-PSK
/// device (§11) also "dtls": "psk" (the introducer then hands the Controller the PSK it sent
/// as cpsk). Also: "MappingResponse: field 'dtls': expected \"psk\"".
struct MappingResponse {
    DevUrn urn;
    Fingerprint fingerprint;
    bool psk = false;
    [[nodiscard]] std::string toJson() const;
    static Result<MappingResponse> fromJson(std::string_view text);
};

/// 200 answer to the status GET (message 8): {"urn", "fingerprint", "state", "cfingerprint"?}.
/// `cfingerprint` (the Controller's) is there only for a device its station pre-enrolled: with
/// state `pre-enrolled` (always) or `registered` (once the device fetched it). fromJson() also:
/// "StatusResponse: state 'pre-enrolled' needs field 'cfingerprint'", "StatusResponse: field
/// 'cfingerprint' goes only with state 'pre-enrolled' or 'registered'".
struct StatusResponse {
    DevUrn urn;
    Fingerprint fingerprint;
    EnrollmentState state = EnrollmentState::notMapped;
    std::optional<Fingerprint> preEnrolledTo;  ///< `cfingerprint`: the Controller its station mapped it to
    [[nodiscard]] std::string toJson() const;
    static Result<StatusResponse> fromJson(std::string_view text);
};

/// Every JSON error body: {"error": "<errcName>", "message": "<sentence>"}.
struct ErrorBody {
    Errc error = Errc::internal;
    std::string message;
    [[nodiscard]] std::string toJson() const;
    /// Also: "ErrorBody: field 'error': unknown code '<text>'", message over 1000 bytes.
    static Result<ErrorBody> fromJson(std::string_view text);
};

/// Errors: invalidArgument "unknown code '<text>'".
Result<Errc> parseErrcName(std::string_view text);

/// Where the device finds its Controller (message 10): {"cip", "cport", "cfingerprint"},
/// CBOR by default (Content-Format 60), JSON with Accept 50. fromCbor() reads with the
/// device's own parser (freestanding/coap_messages.h): unknown keys are skipped, and its
/// errors are "ControllerInfo: invalid CBOR", "expected a CBOR map", "a key is not a text
/// string", "duplicate field", "missing field 'cip', 'cport' or 'cfingerprint'", "field
/// 'cip': not an IPv4 or IPv6 address", "field 'cport' must be an integer from 1 to 65535",
/// "field 'cfingerprint': expected 64 hex digits", "bytes after the map", "field 'cpsk':
/// expected 64 hex digits, not all zero".
struct ControllerInfo {
    std::string cip;  ///< IPv4 dotted quad or IPv6 literal without brackets
    std::uint16_t cport = 0;
    Fingerprint cfingerprint;
    /// The device–Controller PSK of a DTLS-PSK device (§11): "cpsk", 64 hex digits, only in
    /// the 2.05 the MotherShip sends inside the device's own DTLS-PSK session. Secret.
    std::optional<Psk> cpsk = std::nullopt;
    [[nodiscard]] std::string toJson() const;
    [[nodiscard]] std::vector<std::uint8_t> toCbor() const;
    static Result<ControllerInfo> fromJson(std::string_view text);
    static Result<ControllerInfo> fromCbor(std::span<const std::uint8_t> bytes);
};

/// The controller part of the mapping POST (message 4), from the query or the form body.
struct ControllerRequest {
    ControllerInfo controller;
    std::string description;  ///< optional, at most 200 bytes of UTF-8, no control characters
    /// `cweb`, optional: the Controller's web address for people (draft 2 TODO "after mapping"),
    /// an http:// or https:// URL (checkControllerWebUrl()); the MotherShip's page links to it.
    std::string web;
};

/// Checks a Controller's web address (`cweb`): at most 512 bytes; scheme `http` or `https` (any
/// case) followed by `://` and a host; only the printable ASCII characters a URL may hold.
/// Errors (invalidArgument): "longer than 512 bytes", "must be an http:// or https:// URL",
/// "no host after '<scheme>://'", "character 0xNN at position N is not allowed in a URL
/// (percent-encode it)".
Status checkControllerWebUrl(std::string_view text);

/// The path of the status query (message 7).
inline constexpr std::string_view kStatusPath = "/.well-known/tte/status";

/// Message 4, whole: the credential and where the device should go.
struct MappingRequest {
    EnrollmentCredentials credentials;
    ControllerRequest controller;
};

/// The query of the mapping POST (message 4): credentialsQuery(), then cip, cport, cfingerprint
/// and, when not empty, description and cweb, each value percent-encoded, comma-separated. Secret.
std::string mappingQuery(const MappingRequest& request);

/// `https://<MS host>/.well-known/tte?<mappingQuery()>`. Secret.
std::string buildMappingUrl(MsId ms, const MappingRequest& request);

/// Reads message 4 from the POST's query and its application/x-www-form-urlencoded body
/// (empty: none), which must not name a parameter twice between them. Errors, the first
/// failure: those of parseQuery(); of parseFormBody() after "body: "; "duplicate parameter
/// '<name>'"; of credentialsFromQuery() (with cip, cport, cfingerprint, description allowed);
/// of controllerRequestFromParams().
Result<MappingRequest> parseMappingRequest(std::string_view query, std::string_view formBody);

/// `https://<MS host>/.well-known/tte/status?<credentialsQuery()>` (message 7). Secret. The
/// MotherShip reads it with parseCredentialsQuery().
std::string buildStatusUrl(const EnrollmentUrl& url);

/// Reads cip, cport, cfingerprint and the optional description and cweb (other names are left to
/// credentialsFromQuery()). Errors (invalidArgument): "missing parameter 'cip'" (cport,
/// cfingerprint), "cip: not an IPv4 or IPv6 address", "cport: must be a decimal number from
/// 1 to 65535", "cfingerprint: expected 64 hex digits, got N", the optional cpsk (§11: the
/// device–Controller PSK the introducer chose) "cpsk: expected 64 hex digits, got N",
/// "cpsk: all zero", "description: longer than 200 bytes", "description: not valid UTF-8",
/// "description: contains a control character", "cweb: <checkControllerWebUrl()'s message>".
Result<ControllerRequest> controllerRequestFromParams(const QueryParams& params);

/// Errors: invalidArgument "not an IPv4 or IPv6 address".
Status checkIpLiteral(std::string_view text);

}  // namespace tte::protocol
