// The MotherShip's keys: the keyed OTP hash (its key in a file or a token) and the making of
// its key files (the OTP-hash key, the DTLS identity).
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
#include "tte/protocol/ids.h"
#include "tte/protocol/otp_hash.h"

namespace tte::mothership {

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

    /// HMAC-SHA256(OTP-hash key, `label`): a key for another purpose derived from the same
    /// secret (the PSK wrapping key of PROTOCOL §11, label "tte-psk-wrap-key"; the OTP hash's
    /// input starts "tte-otp-hash", so the two never meet). With a token the HMAC is the
    /// token's and only the derived key is in memory. Errors: those of hash().
    [[nodiscard]] Result<Secret> derivedKey(std::string_view label) const;

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

/// Whose PSK a wrapped PSK is (PROTOCOL §11): the device–MotherShip PSK the station made, or
/// the device–Controller PSK the introducer sent with the mapping.
enum class PskRole { device, controller };

/// Protects a DTLS-PSK device's PSK at rest (PROTOCOL §11, SECURITY.md): AES-256-GCM under
/// derivedKey("tte-psk-wrap-key"), a random 96-bit nonce, the additional data "tte-psk" ‖ role
/// ("device"/"controller") ‖ Dev ID (4 bytes, big-endian), so that a wrapped PSK moved to
/// another device or role does not unwrap. Text: hex of nonce ‖ ciphertext ‖ tag (120 digits).
/// Errors: those of derivedKey(); internal (OpenSSL).
Result<std::string> wrapPsk(const OtpHasher& hasher, std::uint32_t devId, PskRole role, const protocol::Psk& psk);

/// The inverse. Errors: those of derivedKey(); corrupt "wrapped PSK: not 120 hex digits",
/// "wrapped PSK: does not authenticate (another key, device or role)".
Result<protocol::Psk> unwrapPsk(const OtpHasher& hasher, std::uint32_t devId, PskRole role, std::string_view wrapped);

/// Writes a new random 32-byte key as hex to `path` with mode 0600 (refuses to overwrite
/// unless `overwrite`). Errors: alreadyExists, io.
Status writeNewKeyFile(const std::string& path, bool overwrite);

/// Makes a P-256 key and a self-signed certificate (server::makeSelfSignedP256: CN
/// `commonName`, `days` valid), PEM, written atomically to keyPath (0600) and certPath.
/// Errors: io, internal.
Status writeSelfSignedP256(const std::string& keyPath, const std::string& certPath, const std::string& commonName,
                           int days);

}  // namespace tte::mothership
