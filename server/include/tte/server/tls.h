// Keys and certificates of the servers (the MotherShip's and a Controller's HTTPS and DTLS):
// parsed once and shared by every connection and session, a self-signed P-256 identity made
// on demand, the TLS server set-up both servers use, and the fingerprint of a peer's key.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/base/secret.h"

typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace tte::server {

struct X509Free {
    void operator()(X509* cert) const;
};
struct PkeyFree {
    void operator()(EVP_PKEY* key) const;
};

/// A certificate, the CA certificates that lead to it (a CA-issued HTTPS certificate; none for
/// a self-signed one) and the private key that belongs to it, parsed.
struct CertifiedKey {
    std::unique_ptr<X509, X509Free> cert;
    std::vector<std::unique_ptr<X509, X509Free>> chain;
    std::unique_ptr<EVP_PKEY, PkeyFree> key;
    /// SHA-256 of the certificate's SPKI, 64 lower-case hex (what peers pin).
    [[nodiscard]] std::string fingerprint() const;
    /// Another owner of the same parsed objects (OpenSSL reference counts), e.g. for a
    /// Controller's HTTPS and DTLS servers, which use one key.
    [[nodiscard]] CertifiedKey share() const;
};

/// Reads a PEM certificate file (the certificate, then any chain certificates) and its PEM
/// private key file. Errors: invalidArgument "cannot load the certificate <file> / key <file>
/// (or they do not match)".
Result<CertifiedKey> loadCertifiedKey(const std::string& certFile, const std::string& keyFile);

/// The same from PEM text. Errors: invalidArgument "not a PEM certificate", "not a PEM private
/// key", "the private key does not belong to the certificate".
Result<CertifiedKey> certifiedKeyFromPem(std::string_view certPem, const Secret& keyPem);

/// A self-signed P-256 identity: the certificate and its PKCS#8 key as PEM (the key secret).
struct SelfSigned {
    std::string certPem;
    Secret keyPem;
};

/// Makes a fresh P-256 key and a self-signed X.509 v3 certificate (CN `commonName`, valid from
/// an hour ago for `days`, random 127-bit serial, ECDSA-SHA256). Errors: internal (OpenSSL,
/// its error kept).
Result<SelfSigned> makeSelfSignedP256(std::string_view commonName, int days);

/// A new self-signed certificate of that form (PEM) for the existing private key `keyPem`:
/// the same SPKI, so the same fingerprint. Errors: invalidArgument "not a PEM private key",
/// internal (OpenSSL).
Result<std::string> selfSignedCertificateFor(const Secret& keyPem, std::string_view commonName, int days);

/// Whether a TLS server asks its clients for a certificate.
enum class ClientCertificates {
    none,
    /// Asked for, any accepted (self-signed too): the application decides by its fingerprint.
    requested,
};

/// Sets up a server SSL_CTX: TLS 1.2 at least, the identity's certificate, chain and key
/// (shared, not copied), optionally asking for a client certificate. Errors: invalidArgument (OpenSSL
/// refused the certificate or key).
Status configureTlsServer(SSL_CTX* ctx, const CertifiedKey& identity, ClientCertificates clients);

/// SHA-256 of the SubjectPublicKeyInfo of the certificate the peer of a (D)TLS connection
/// presented, as 64 lower-case hex (protocol::fingerprintFromDer); nullopt when it presented none.
std::optional<std::string> peerFingerprint(SSL* ssl);

}  // namespace tte::server
