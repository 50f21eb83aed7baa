// Fingerprints (docs/PROTOCOL.md §1): SHA-256 of the DER SubjectPublicKeyInfo, written as 64
// lower-case hex digits. Peers are pinned by fingerprint, never by a CA.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"

namespace tte::protocol {

struct Fingerprint {
    std::array<std::uint8_t, 32> bytes{};
    /// 64 lower-case hex digits.
    [[nodiscard]] std::string hex() const;
    friend bool operator==(const Fingerprint&, const Fingerprint&) = default;
};

/// Parses 64 hex digits (either case). Errors: invalidArgument "fingerprint: expected 64 hex
/// digits, got N", "fingerprint: 'x' at position P is not a hex digit".
Result<Fingerprint> parseFingerprint(std::string_view hex);

/// SHA-256 of the given DER SubjectPublicKeyInfo bytes (not parsed). Never fails.
Fingerprint fingerprintOfSpki(std::span<const std::uint8_t> spkiDer);

/// The fingerprint of a DTLS-PSK device (§11): SHA-256("tte-psk" ‖ the device–MotherShip
/// PSK). It stands where the protocol carries a device's key fingerprint (station record,
/// messages 5, 6 and 8) and commits to the PSK without revealing it (the PSK has 256 bits).
Fingerprint pskFingerprint(std::span<const std::uint8_t, 32> psk);

/// The DER SubjectPublicKeyInfo of a DER certificate, SPKI or private key (as
/// fingerprintFromDer() reads it): what a signature is checked with. Errors: those of
/// fingerprintFromDer().
Result<std::vector<std::uint8_t>> spkiFromDer(std::span<const std::uint8_t> der);

/// The same for the first PEM object in `pem` (as fingerprintFromPem() reads it). Errors:
/// those of fingerprintFromPem().
Result<std::vector<std::uint8_t>> spkiFromPem(std::string_view pem);

/// The fingerprint of a DER X.509 certificate, SubjectPublicKeyInfo, or private key
/// (PKCS#8 or traditional), whichever `der` is; trailing bytes are refused. Errors:
/// invalidArgument "fingerprint: not a DER certificate, public key or private key" (with the
/// OpenSSL error in the native fields).
Result<Fingerprint> fingerprintFromDer(std::span<const std::uint8_t> der);

/// PEM text of a DER certificate, written by OpenSSL (PEM_write_bio_X509). Errors:
/// invalidArgument "not a DER X.509 certificate".
Result<std::string> certificatePem(std::span<const std::uint8_t> der);

/// PEM text ("PUBLIC KEY") of a DER SubjectPublicKeyInfo, written by OpenSSL. Errors:
/// invalidArgument "not a DER SubjectPublicKeyInfo".
Result<std::string> publicKeyPem(std::span<const std::uint8_t> spkiDer);

/// The fingerprint of the first PEM object in `pem`: CERTIFICATE, PUBLIC KEY, PRIVATE KEY,
/// EC PRIVATE KEY (or another key type OpenSSL reads). Errors: invalidArgument
/// "fingerprint: no PEM object found", "fingerprint: PEM type '<label>' is not supported",
/// unsupported "fingerprint: encrypted private keys are not supported", and those of
/// fingerprintFromDer().
Result<Fingerprint> fingerprintFromPem(std::string_view pem);

}  // namespace tte::protocol
