// OpenSSL behind tls.h.
#include "tte/server/tls.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <cstdio>

#include "tte/protocol/fingerprint.h"

namespace tte::server {
namespace {

struct BioFree {
    void operator()(BIO* b) const { BIO_free_all(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::unexpected<Error> opensslFailure(std::string what) {
    const unsigned long e = ERR_get_error();
    char buf[256] = "unknown OpenSSL error";
    if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return failNative(Errc::internal, std::move(what), "OpenSSL", static_cast<std::int64_t>(e), buf);
}

std::string bioText(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::optional<std::string> fingerprintOf(X509* cert) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert, &der);
    if (len <= 0) return std::nullopt;
    auto fp = protocol::fingerprintFromDer(std::span<const std::uint8_t>(der, static_cast<std::size_t>(len)));
    OPENSSL_free(der);
    if (!fp) return std::nullopt;
    return fp->hex();
}

}  // namespace

void X509Free::operator()(X509* cert) const { X509_free(cert); }
void PkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

std::string CertifiedKey::fingerprint() const { return cert ? fingerprintOf(cert.get()).value_or("") : ""; }

CertifiedKey CertifiedKey::share() const {
    CertifiedKey out;
    if (cert && X509_up_ref(cert.get()) == 1) out.cert.reset(cert.get());
    if (key && EVP_PKEY_up_ref(key.get()) == 1) out.key.reset(key.get());
    for (const auto& ca : chain) {
        if (X509_up_ref(ca.get()) == 1) out.chain.emplace_back(ca.get());
    }
    return out;
}

Result<CertifiedKey> loadCertifiedKey(const std::string& certFile, const std::string& keyFile) {
    CertifiedKey k;
    if (FILE* f = std::fopen(certFile.c_str(), "r")) {
        k.cert.reset(PEM_read_X509(f, nullptr, nullptr, nullptr));
        while (X509* ca = PEM_read_X509(f, nullptr, nullptr, nullptr)) k.chain.emplace_back(ca);
        ERR_clear_error();  // the end of the file
        std::fclose(f);
    }
    if (FILE* f = std::fopen(keyFile.c_str(), "r")) {
        k.key.reset(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
        std::fclose(f);
    }
    if (!k.cert || !k.key || X509_check_private_key(k.cert.get(), k.key.get()) != 1) {
        ERR_clear_error();
        return fail(Errc::invalidArgument, "cannot load the certificate " + certFile + " / key " + keyFile +
                                               " (or they do not match)");
    }
    return k;
}

Result<CertifiedKey> certifiedKeyFromPem(std::string_view certPem, const Secret& keyPem) {
    CertifiedKey k;
    BioPtr cb(BIO_new_mem_buf(certPem.data(), static_cast<int>(certPem.size())));
    BioPtr kb(BIO_new_mem_buf(keyPem.bytes().data(), static_cast<int>(keyPem.size())));
    if (cb) k.cert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    if (kb) k.key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!k.cert) return fail(Errc::invalidArgument, "not a PEM certificate");
    if (!k.key) return fail(Errc::invalidArgument, "not a PEM private key");
    if (X509_check_private_key(k.cert.get(), k.key.get()) != 1) {
        ERR_clear_error();
        return fail(Errc::invalidArgument, "the private key does not belong to the certificate");
    }
    return k;
}

namespace {

/// A self-signed X.509 v3 certificate for `key` (makeSelfSignedP256()'s form).
Result<X509Ptr> signSelf(EVP_PKEY* key, std::string_view commonName, int days) {
    X509Ptr cert(X509_new());
    if (!cert) return opensslFailure("no certificate");
    std::array<std::uint8_t, 16> serial{};
    if (RAND_bytes(serial.data(), serial.size()) != 1) return opensslFailure("no random serial");
    serial[0] &= 0x7f;
    std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(serial.data(), serial.size(), nullptr), &BN_free);
    const std::string cn(commonName);
    X509_NAME* name = X509_get_subject_name(cert.get());
    if (!bn || X509_set_version(cert.get(), 2) != 1 || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) ||
        !X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400) ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                   -1, 0) != 1 ||
        X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key) != 1 ||
        X509_sign(cert.get(), key, EVP_sha256()) <= 0) {
        return opensslFailure("signing the self-signed certificate failed");
    }
    return cert;
}

}  // namespace

Result<SelfSigned> makeSelfSignedP256(std::string_view commonName, int days) {
    PkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) return opensslFailure("P-256 key generation failed");
    auto signedCert = signSelf(key.get(), commonName, days);
    if (!signedCert) return std::unexpected(signedCert.error());
    X509Ptr cert = std::move(*signedCert);
    BioPtr keyBio(BIO_new(BIO_s_secmem()));
    BioPtr certBio(BIO_new(BIO_s_mem()));
    if (!keyBio || !certBio || PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
        PEM_write_bio_X509(certBio.get(), cert.get()) != 1) {
        return opensslFailure("writing the identity as PEM failed");
    }
    char* keyData = nullptr;
    const long keyLen = BIO_get_mem_data(keyBio.get(), &keyData);
    SelfSigned out{bioText(certBio.get()),
                   Secret(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(keyData),
                                                        static_cast<std::size_t>(keyLen)))};
    OPENSSL_cleanse(keyData, static_cast<std::size_t>(keyLen));
    return out;
}

Result<std::string> selfSignedCertificateFor(const Secret& keyPem, std::string_view commonName, int days) {
    BioPtr kb(BIO_new_mem_buf(keyPem.bytes().data(), static_cast<int>(keyPem.size())));
    PkeyPtr key(kb ? PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key) {
        ERR_clear_error();
        return fail(Errc::invalidArgument, "not a PEM private key");
    }
    auto cert = signSelf(key.get(), commonName, days);
    if (!cert) return std::unexpected(cert.error());
    BioPtr certBio(BIO_new(BIO_s_mem()));
    if (!certBio || PEM_write_bio_X509(certBio.get(), cert->get()) != 1) return opensslFailure("writing the certificate as PEM failed");
    return bioText(certBio.get());
}

Status configureTlsServer(SSL_CTX* ctx, const CertifiedKey& identity, ClientCertificates clients) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_ALL | SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_SINGLE_DH_USE);
    if (SSL_CTX_use_certificate(ctx, identity.cert.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, identity.key.get()) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        return fail(Errc::invalidArgument, "the TLS certificate or key was refused (or they do not match)");
    }
    for (const auto& ca : identity.chain) {
        if (SSL_CTX_add1_chain_cert(ctx, ca.get()) != 1) {
            ERR_clear_error();
            return fail(Errc::invalidArgument, "the TLS certificate chain was refused");
        }
    }
    if (clients == ClientCertificates::requested) {
        // Asked for, any accepted: the application pins it by fingerprint.
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
        SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>("tte"), 3);
    }
    return {};
}

std::optional<std::string> peerFingerprint(SSL* ssl) {
    X509Ptr cert(SSL_get1_peer_certificate(ssl));
    if (!cert) return std::nullopt;
    return fingerprintOf(cert.get());
}

}  // namespace tte::server
