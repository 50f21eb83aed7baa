// The cryptography the formats of docs/PROTOCOL.md are made of, through OpenSSL: SHA-256
// (fingerprints, the journal's hash chain, record digests), base64 (record signatures) and
// ECDSA-SHA256 verification of P-256 signatures (station records, §10). One implementation
// for the station, the MotherShip and the HSM adapter.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"

namespace tte::protocol {

using Sha256 = std::array<std::uint8_t, 32>;

/// SHA-256 of bytes or text. Never fails (throws only on out-of-memory).
Sha256 sha256(std::span<const std::uint8_t> data);
Sha256 sha256(std::string_view text);
/// The same as 64 lower-case hex digits.
std::string sha256Hex(std::span<const std::uint8_t> data);
std::string sha256Hex(std::string_view text);

/// Standard base64 (RFC 4648 §4) with padding.
std::string base64Encode(std::span<const std::uint8_t> data);
/// Decodes standard base64 with padding, strictly. Errors: invalidArgument "base64: length N
/// is not a multiple of 4", "base64: 'x' at position P is not a base64 character",
/// "base64: padding inside the text", "base64: stray bits before the padding" (a text no
/// encoder writes, such as "Zh==").
Result<std::vector<std::uint8_t>> base64Decode(std::string_view text);

/// The DER SubjectPublicKeyInfo of a P-256 point (65 bytes, 04 || X || Y).
/// Errors: invalidArgument "a P-256 public key must be a 65-byte uncompressed point, got N
/// bytes", "the public key is not a point on P-256".
Result<std::vector<std::uint8_t>> p256SpkiFromPoint(std::span<const std::uint8_t> point);

/// The 65-byte point of a P-256 SubjectPublicKeyInfo as p256SpkiFromPoint() writes it; empty
/// for any other encoding or key type.
std::span<const std::uint8_t> p256PointOfSpki(std::span<const std::uint8_t> spkiDer);

/// Verifies a DER ECDSA-SHA256 signature of `message` against a DER SubjectPublicKeyInfo (a
/// P-256 key is imported from its point: OpenSSL 3.0's DER decoder costs ~0.5 ms a call).
/// Errors: invalidArgument "the public key is not a DER SubjectPublicKeyInfo",
/// unauthenticated "the ECDSA-SHA256 signature does not verify".
Status verifyEcdsaSha256(std::span<const std::uint8_t> spkiDer, std::span<const std::uint8_t> message,
                         std::span<const std::uint8_t> derSignature);

}  // namespace tte::protocol
