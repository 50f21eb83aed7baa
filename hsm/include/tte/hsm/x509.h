// ECDSA signature encoding and self-signed X.509 certificates, built with OpenSSL. The
// certificate's signature comes from a Signer, so the private key can stay in a token: the TBS
// part is built here, its SHA-256 is signed there. (SHA-256, P-256 SPKIs, signature checks and
// PEM are protocol/'s: tte/protocol/crypto.h, fingerprint.h.)
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "tte/base/error.h"
#include "tte/hsm/key_store.h"

namespace tte::hsm {

/// Signs a 32-byte SHA-256 digest with a P-256 key; returns the DER ECDSA signature.
using DigestSigner = std::function<Result<Bytes>(std::span<const std::uint8_t> digest)>;

/// The uncompressed point from a PKCS#11 CKA_EC_POINT value, which modules give either as
/// a DER OCTET STRING around the point (as the standard says) or as the bare point.
/// Errors: invalidArgument (neither form of a 65-byte uncompressed point).
Result<Bytes> pointFromEcPoint(std::span<const std::uint8_t> ecPoint);

/// DER ECDSA-Sig-Value (SEQUENCE { r, s }) from PKCS#11's raw r || s (64 bytes for P-256).
/// Errors: invalidArgument (length not 64).
Result<Bytes> ecdsaRawToDer(std::span<const std::uint8_t> rawSignature);

/// A self-signed X.509 v3 certificate (DER) for the P-256 key `spkiDer`: subject = issuer =
/// CN=spec.commonName, ECDSA-SHA256, basicConstraints CA:FALSE and keyUsage digitalSignature
/// (both critical). Its signature is verified over the encoded TBS before it is returned.
/// Errors: invalidArgument (empty or over-64-byte common name, bad key), errors of `signer`,
/// internal (OpenSSL failure; the OpenSSL error string is kept).
Result<Bytes> buildSelfSignedCertificate(std::span<const std::uint8_t> spkiDer, const CertificateSpec& spec,
                                         const DigestSigner& signer);

/// The queued OpenSSL errors as one line (and clears the queue); "no OpenSSL error" if none.
std::string takeOpensslError();

}  // namespace tte::hsm
