// The device's DTLS credentials from its provisioning block in the forms host libraries
// take: DER/PEM private key from the raw P-256 scalar (the certificate's PEM is
// protocol::certificatePem).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "tte/base/error.h"
#include "tte/base/secret.h"

namespace tte::devicehost {

/// The P-256 key pair of a 32-byte big-endian scalar as DER (SEC 1 ECPrivateKey, with the
/// public key). Errors: invalidArgument (not a valid P-256 scalar), internal (OpenSSL).
Result<Secret> ecPrivateKeyDer(std::span<const std::uint8_t, 32> scalar);

/// The same key as PKCS#8 PEM. Errors as ecPrivateKeyDer().
Result<Secret> ecPrivateKeyPem(std::span<const std::uint8_t, 32> scalar);

}  // namespace tte::devicehost
