// The station's and the MotherShip's seam to their keys: everything secret is generated and
// used inside a key store (a PKCS#11 token in production, an in-memory fake in unit tests).
// Keys are named by RFC 7512 PKCS#11 URIs ("pkcs11:token=tte-station;object=station-key");
// a store serves exactly one token, so the URI's `token` attribute, when present, must name it.
// See docs/HSM.md for the key inventory and docs/PROTOCOL.md §4 for the bulk OTP scheme.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/base/secret.h"

namespace tte::hsm {

using Bytes = std::vector<std::uint8_t>;

/// What a self-signed certificate should say. Certificates are X.509 v3, P-256, ECDSA-SHA256,
/// subject = issuer = CN=commonName.
struct CertificateSpec {
    std::string commonName;                          ///< e.g. the Dev URN or the station id
    std::chrono::system_clock::time_point notBefore; ///< usually the clock's wallNow()
    std::chrono::seconds validity{std::chrono::hours(24) * 365 * 30};  ///< long-lived by default
    std::uint64_t serial = 1;                        ///< positive; 0 is replaced by 1
};

/// A device's DTLS credentials, made in the store as a session key pair, exported once and
/// destroyed in the store before this is returned (DESIGN: "device DTLS key pair").
struct DeviceKey {
    Secret privateScalar;   ///< P-256 private scalar, 32 bytes, big-endian (provisioning block offset 256)
    Bytes publicPoint;      ///< uncompressed point, 65 bytes: 04 || X || Y
    Bytes spkiDer;          ///< DER SubjectPublicKeyInfo (its SHA-256 is the device fingerprint)
    Bytes certificateDer;   ///< self-signed certificate, DER, CN = the Dev URN
};

/// Kind of a key object in a store.
enum class KeyKind {
    signingKey,   ///< P-256 private key (station identity, MotherShip TLS/DTLS)
    publicKey,    ///< P-256 public key belonging to a signingKey
    hmacKey,      ///< generic secret for CKM_SHA256_HMAC (lot key, MotherShip OTP-hash key)
    other,        ///< anything else found on the token
};

/// What listKeys() reports of one object (never its value).
struct KeyInfo {
    std::string label;        ///< CKA_LABEL
    KeyKind kind = KeyKind::other;
    bool onToken = true;      ///< CKA_TOKEN
    bool sensitive = false;   ///< CKA_SENSITIVE (public keys: false)
    bool extractable = false; ///< CKA_EXTRACTABLE (public keys: true)
};

/// The key operations of the station and the MotherShip. Implementations are thread-safe:
/// several threads may call any function at once.
///
/// Common errors of every function: `unavailable` when the token or its session went away
/// (e.g. CKR_SESSION_HANDLE_INVALID, CKR_DEVICE_REMOVED; the next call opens a new session),
/// `internal` for an unexpected module failure. PKCS#11 failures keep their CK_RV in
/// Error::nativeCode and its name (e.g. "CKR_PIN_INCORRECT") in Error::nativeName.
class KeyStore {
public:
    virtual ~KeyStore() = default;

    /// `size` bytes from the token's random generator (C_GenerateRandom).
    /// Errors: invalidArgument (size 0 or over 1024), common errors.
    virtual Result<Secret> random(std::size_t size) = 0;

    /// A random 64-bit OTP (draft 3.4), 8 bytes, big-endian.
    Result<Secret> randomOtp() { return random(8); }

    /// Creates a P-256 signing key pair as token objects under the URI's `object` label:
    /// private key CKA_SENSITIVE, not extractable, sign-only; returns its SubjectPublicKeyInfo (DER).
    /// Errors: invalidArgument (bad URI, no object label), alreadyExists (a key with that
    /// label exists), resourceExhausted/permissionDenied/internal when the token cannot store it.
    virtual Result<Bytes> createSigningKey(std::string_view keyUri) = 0;

    /// The SubjectPublicKeyInfo (DER) of the signing key `keyUri`.
    /// Errors: invalidArgument (bad URI), notFound (no such key).
    virtual Result<Bytes> publicKey(std::string_view keyUri) = 0;

    /// ECDSA P-256 signature of a SHA-256 `digest` (32 bytes) by the key `keyUri`, computed
    /// in the store; returned DER-encoded (SEQUENCE { r INTEGER, s INTEGER }), converted from
    /// PKCS#11's raw r||s. Errors: invalidArgument (bad URI or digest length), notFound.
    virtual Result<Bytes> sign(std::string_view keyUri, std::span<const std::uint8_t> digest) = 0;

    /// ECDSA-SHA256 of `message` (hashed on the host, signed in the store), DER. Errors: as sign().
    Result<Bytes> signSha256(std::string_view keyUri, std::span<const std::uint8_t> message);

    /// A self-signed X.509 certificate (DER) for the signing key `keyUri`, built with OpenSSL
    /// and signed through the store. Errors: as sign(); invalidArgument for an empty or
    /// over-long common name (over 64 bytes).
    virtual Result<Bytes> selfSignedCertificate(std::string_view keyUri, const CertificateSpec& spec) = 0;

    /// Creates a 256-bit HMAC key as a token object: generic secret, sensitive, not
    /// extractable, allowed only CKM_SHA256_HMAC signing (lot keys, the MotherShip's OTP-hash key).
    /// Errors: as createSigningKey().
    virtual Status createHmacKey(std::string_view keyUri) = 0;

    /// Stores an existing HMAC key value (16 to 64 bytes) as a token object with the same
    /// protection as createHmacKey(): for moving a key kept in a file into the token, and for
    /// test vectors. Errors: as createHmacKey(); invalidArgument for a bad key length.
    virtual Status importHmacKey(std::string_view keyUri, const Secret& key) = 0;

    /// HMAC-SHA256(key `keyUri`, data), computed in the store; 32 bytes.
    /// Errors: invalidArgument (bad URI), notFound (no such HMAC key).
    virtual Result<Secret> hmac(std::string_view keyUri, std::span<const std::uint8_t> data) = 0;

    /// The box secret of PROTOCOL.md §4: HMAC-SHA256(lot key, "tte-box" || box BE4); 32 bytes.
    /// Errors: as hmac().
    Result<Secret> deriveBoxSecret(std::string_view lotKeyUri, std::uint32_t boxNumber);

    /// Bulk OTPs of PROTOCOL.md §4 for each Dev ID: the box secret is derived in the store,
    /// imported there as a session object, each OTP = first 8 bytes of HMAC-SHA256(box secret,
    /// "tte-otp" || Dev ID BE4) computed in the store, then the session object is destroyed.
    /// Returns one 8-byte big-endian OTP per Dev ID, in order.
    /// Errors: as hmac(); invalidArgument when devIds is empty.
    virtual Result<std::vector<Secret>> deriveBulkOtps(std::string_view lotKeyUri, std::uint32_t boxNumber,
                                                       std::span<const std::uint32_t> devIds) = 0;

    /// A device's P-256 key pair generated as a session object (never a token object),
    /// exported once, with its self-signed certificate (signed in the store), then destroyed
    /// in the store. Errors: invalidArgument (bad common name), common errors.
    virtual Result<DeviceKey> generateDeviceKey(const CertificateSpec& certificate) = 0;

    /// Every key object visible in the token (labels and protection flags, never values).
    virtual Result<std::vector<KeyInfo>> listKeys() = 0;
};

/// Name of a KeyKind for listings: "ec-private", "ec-public", "hmac", "other".
std::string_view keyKindName(KeyKind kind);

/// The message of PROTOCOL.md §4's first HMAC: "tte-box" || box number (4 bytes, big-endian).
Bytes boxSecretMessage(std::uint32_t boxNumber);

/// The message of PROTOCOL.md §4's second HMAC: "tte-otp" || Dev ID (4 bytes, big-endian).
Bytes bulkOtpMessage(std::uint32_t devId);

}  // namespace tte::hsm
