// The MotherShip's few cryptographic needs, over OpenSSL: SPKI fingerprints of
// certificates, the keyed OTP hash, ECDSA verification of station records, base64.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/hsm/key_store.h"
#include "tte/protocol/otp_hash.h"

struct ssl_st;  // OpenSSL's SSL
typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;

namespace tte::mothership {

/// SHA-256 of the certificate's DER SubjectPublicKeyInfo as 64 lower-case hex (PROTOCOL §1).
/// Errors: invalidArgument (not a PEM certificate).
Result<std::string> fingerprintOfPem(std::string_view pem);
/// The same for the certificate the peer of a (D)TLS connection presented; nullopt when
/// it presented none.
std::optional<std::string> peerFingerprint(ssl_st* ssl);

/// Lower-case hex SHA-256 of bytes.
std::string sha256Hex(std::string_view data);

/// Errors: invalidArgument (not base64).
Result<std::vector<std::uint8_t>> base64Decode(std::string_view text);
std::string base64Encode(std::span<const std::uint8_t> bytes);

struct X509Free {
    void operator()(X509* cert) const;
};
struct PkeyFree {
    void operator()(EVP_PKEY* key) const;
};

/// A certificate and the private key that belongs to it, parsed.
struct CertifiedKey {
    std::unique_ptr<X509, X509Free> cert;
    std::unique_ptr<EVP_PKEY, PkeyFree> key;
};

/// Reads a PEM certificate and its PEM private key (both parsed once, e.g. for every DTLS
/// session to share). Errors: invalidArgument (a file unreadable or not PEM, or the key not
/// the certificate's).
Result<CertifiedKey> loadCertifiedKey(const std::string& certFile, const std::string& keyFile);

/// Verifies a DER ECDSA-SHA256 signature over `data` with the public key of a PEM
/// certificate. Errors: invalidArgument (certificate), unauthenticated (bad signature).
Status verifyEcdsaSha256(std::string_view certPem, std::string_view data, std::span<const std::uint8_t> signature);

/// Computes the keyed OTP hash of PROTOCOL §10 with the OTP-hash key, held in memory (from a
/// key file; tte::protocol::otpHash, the one implementation) or kept in a PKCS#11 token, which
/// computes every HMAC of tte::protocol::otpHashInput itself. The key never leaves the
/// MotherShip (or the token) and is never in the database.
class OtpHasher {
public:
    /// Errors: invalidArgument (key shorter than 32 bytes).
    static Result<OtpHasher> fromKey(Secret key);
    /// Reads a key file: 64 hex digits (optionally followed by a newline).
    /// Errors: io (unreadable), invalidArgument (content).
    static Result<OtpHasher> fromFile(const std::string& path);
    /// The HMAC-SHA256 key `keyUri` in `store` (`tte-hsm keygen hmac otp-hash-key` makes one);
    /// computes one hash to check it. Errors: those of hsm::KeyStore::hmac (notFound: no such
    /// key), with the key's URI in the message.
    static Result<OtpHasher> fromToken(std::shared_ptr<hsm::KeyStore> store, std::string keyUri);
    /// Opens the token a key URI names (`pkcs11:token=…;object=…?pin-source=file:…`, optionally
    /// `&module-path=…`; Debian's SoftHSM by default), then fromToken(). Errors: those of
    /// hsm::Pkcs11KeyStore::open (wrong PIN, no such token, …) and of fromToken().
    static Result<OtpHasher> openToken(const std::string& keyUri);

    /// protocol::otpHash(key, devId, otp). Errors: only with a token: unavailable, with the
    /// token's own error as its native code (the token was removed, a session was lost).
    [[nodiscard]] Result<protocol::OtpHash> hash(std::uint32_t devId, std::uint64_t otp) const;

    /// Whether the key is in a PKCS#11 token (then check() asks it for one hash).
    [[nodiscard]] bool inToken() const { return m_store != nullptr; }
    /// For /readyz: with a token, computes one hash; with a key in memory, nothing to check.
    /// Errors: those of hash().
    [[nodiscard]] Status check() const;

private:
    explicit OtpHasher(Secret key) : m_key(std::move(key)) {}
    OtpHasher(std::shared_ptr<hsm::KeyStore> store, std::string keyUri)
        : m_store(std::move(store)), m_keyUri(std::move(keyUri)) {}
    Secret m_key;                           ///< empty with a token
    std::shared_ptr<hsm::KeyStore> m_store;  ///< null with a key in memory
    std::string m_keyUri;
};

/// Writes a new random 32-byte key as hex to `path` with mode 0600 (refuses to overwrite
/// unless `overwrite`). Errors: alreadyExists, io.
Status writeNewKeyFile(const std::string& path, bool overwrite);

/// Makes a P-256 key and a self-signed certificate (CN `commonName`, `days` valid), PEM,
/// written to keyPath (0600) and certPath. Errors: io, internal.
Status writeSelfSignedP256(const std::string& keyPath, const std::string& certPath, const std::string& commonName,
                           int days);

}  // namespace tte::mothership
