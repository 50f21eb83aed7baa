// The Controller's DTLS/TLS identity: a P-256 key and a self-signed certificate kept in its
// state directory, and the fingerprint devices pin (docs/PROTOCOL.md §1).
#pragma once

#include <filesystem>
#include <string>

#include "tte/base/error.h"
#include "tte/base/secret.h"

namespace tte::controller {

struct Identity {
    std::string certPem;      ///< self-signed X.509 certificate, PEM
    Secret keyPem;            ///< PKCS#8 private key, PEM (never logged)
    std::string fingerprint;  ///< SHA-256 of the DER SubjectPublicKeyInfo, 64 lower-case hex
};

/// Loads `identity.key` and `identity.crt` from `stateDir`, or on first start creates a
/// fresh P-256 key and a self-signed certificate there (key file mode 0600, written
/// atomically, the key first). A key without its certificate (a start killed between the
/// two) gets a new certificate for the same key, so the fingerprint stays. Errors: io (directory or file not readable/writable), corrupt (files that do
/// not parse or whose key does not belong to the certificate), internal (OpenSSL).
Result<Identity> loadOrCreateIdentity(const std::filesystem::path& stateDir);

}  // namespace tte::controller
