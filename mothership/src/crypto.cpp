// OpenSSL behind the MotherShip's crypto helpers (crypto.h).
#include "tte/mothership/crypto.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "tte/base/hex.h"
#include "tte/hsm/pkcs11_key_store.h"
#include "tte/protocol/otp_hash.h"

namespace tte::mothership {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
    void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

std::string opensslError() {
    const unsigned long e = ERR_get_error();
    char buf[256] = "unknown OpenSSL error";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

Result<std::string> fingerprintOf(X509* cert) {
    unsigned char* der = nullptr;
    const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    if (len <= 0) return fail(Errc::invalidArgument, "certificate has no public key");
    std::array<std::uint8_t, 32> digest{};
    SHA256(der, static_cast<std::size_t>(len), digest.data());
    OPENSSL_free(der);
    return toHex(digest);
}

X509Ptr parsePem(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace

void X509Free::operator()(X509* cert) const { X509_free(cert); }
void PkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

Result<CertifiedKey> loadCertifiedKey(const std::string& certFile, const std::string& keyFile) {
    CertifiedKey k;
    if (FILE* f = std::fopen(certFile.c_str(), "r")) {
        k.cert.reset(PEM_read_X509(f, nullptr, nullptr, nullptr));
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

Result<std::string> fingerprintOfPem(std::string_view pem) {
    X509Ptr cert = parsePem(pem);
    if (!cert) {
        ERR_clear_error();
        return fail(Errc::invalidArgument, "not a PEM certificate");
    }
    return fingerprintOf(cert.get());
}

std::optional<std::string> peerFingerprint(ssl_st* ssl) {
    X509Ptr cert(SSL_get1_peer_certificate(ssl));
    if (!cert) return std::nullopt;
    auto fp = fingerprintOf(cert.get());
    if (!fp) return std::nullopt;
    return *fp;
}

std::string sha256Hex(std::string_view data) {
    std::array<std::uint8_t, 32> digest{};
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
    return toHex(digest);
}

Result<std::vector<std::uint8_t>> base64Decode(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0 || text.size() > 65536)
        return fail(Errc::invalidArgument, "signature is not base64 (length)");
    std::vector<std::uint8_t> out(text.size() / 4 * 3);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) return fail(Errc::invalidArgument, "signature is not base64");
    std::size_t size = static_cast<std::size_t>(n);
    if (text.ends_with("==")) size -= 2;
    else if (text.ends_with("=")) size -= 1;
    out.resize(size);
    return out;
}

std::string base64Encode(std::span<const std::uint8_t> bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

Status verifyEcdsaSha256(std::string_view certPem, std::string_view data, std::span<const std::uint8_t> signature) {
    X509Ptr cert = parsePem(certPem);
    if (!cert) return fail(Errc::invalidArgument, "station certificate is not PEM");
    PkeyPtr key(X509_get_pubkey(cert.get()));
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1)
        return failNative(Errc::internal, "signature check setup failed", "OpenSSL", 0, opensslError());
    const int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                                    reinterpret_cast<const unsigned char*>(data.data()), data.size());
    if (rc != 1) {
        ERR_clear_error();
        return fail(Errc::unauthenticated, "the signature does not verify with the station's key");
    }
    return {};
}

Result<OtpHasher> OtpHasher::fromKey(Secret key) {
    if (key.size() < 32) return fail(Errc::invalidArgument, "OTP-hash key must be at least 32 bytes");
    return OtpHasher(std::move(key));
}

Result<OtpHasher> OtpHasher::fromFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(Errc::io, "cannot read OTP-hash key file " + path);
    std::string text;
    std::getline(in, text);
    Secret guard{std::string_view(text)};
    secureZero(text.data(), text.size());
    auto bytes = fromHex(guard.view(), "OTP-hash key");
    if (!bytes || bytes->size() != 32) {
        if (bytes) secureZero(bytes->data(), bytes->size());
        return fail(Errc::invalidArgument, "OTP-hash key file " + path + " must hold 64 hex digits");
    }
    Secret key{std::span<const std::uint8_t>(*bytes)};
    secureZero(bytes->data(), bytes->size());
    return fromKey(std::move(key));
}

Result<OtpHasher> OtpHasher::fromToken(std::shared_ptr<hsm::KeyStore> store, std::string keyUri) {
    OtpHasher hasher(std::move(store), std::move(keyUri));
    const Secret probe = protocol::otpHashInput(protocol::DevId{0}, protocol::Otp(0));
    if (auto h = hasher.m_store->hmac(hasher.m_keyUri, probe.bytes()); !h)
        return withContext(h.error(), "OTP-hash key " + hasher.m_keyUri);
    return hasher;
}

Result<OtpHasher> OtpHasher::openToken(const std::string& keyUri) {
    hsm::Pkcs11Options options;
    options.tokenUri = keyUri;  // token, module-path and pin-source come from the key's URI
    auto store = hsm::Pkcs11KeyStore::open(options);
    if (!store) return withContext(store.error(), "the OTP-hash key's token");
    return fromToken(std::shared_ptr<hsm::KeyStore>(std::move(*store)), keyUri);
}

Status OtpHasher::check() const {
    if (!inToken()) return {};
    auto h = hash(0, 0);
    if (!h) return std::unexpected(h.error());
    return {};
}

Result<protocol::OtpHash> OtpHasher::hash(std::uint32_t devId, std::uint64_t otp) const {
    if (!m_store) return protocol::otpHash(m_key.bytes(), protocol::DevId{devId}, protocol::Otp(otp));
    const Secret in = protocol::otpHashInput(protocol::DevId{devId}, protocol::Otp(otp));
    auto mac = m_store->hmac(m_keyUri, in.bytes());
    if (!mac || mac->size() != std::tuple_size_v<protocol::OtpHash>) {
        Error e = mac ? Error{Errc::internal, "the token's HMAC is not 32 bytes", "", 0, ""} : mac.error();
        e.message = "OTP-hash key " + m_keyUri + " in the token: " + e.message;
        e.code = Errc::unavailable;
        return std::unexpected(std::move(e));
    }
    protocol::OtpHash out{};
    std::copy(mac->bytes().begin(), mac->bytes().end(), out.begin());
    return out;
}

Status writeNewKeyFile(const std::string& path, bool overwrite) {
    struct stat st {};
    if (!overwrite && ::stat(path.c_str(), &st) == 0) return fail(Errc::alreadyExists, path + " exists already");
    Secret key(32);
    if (RAND_bytes(key.mutableBytes().data(), 32) != 1) return failNative(Errc::internal, "RAND_bytes failed", "OpenSSL", 0);
    const std::string tmp = path + ".new";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) return fail(Errc::io, "cannot write " + tmp);
    ::chmod(tmp.c_str(), 0600);
    std::string hex = toHex(key.bytes());
    const bool ok = std::fputs((hex + "\n").c_str(), f) >= 0 && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
    secureZero(hex.data(), hex.size());
    std::fclose(f);
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) return fail(Errc::io, "cannot write " + path);
    return {};
}

Status writeSelfSignedP256(const std::string& keyPath, const std::string& certPath, const std::string& commonName,
                           int days) {
    PkeyPtr key(EVP_EC_gen("P-256"));
    X509Ptr cert(X509_new());
    if (!key || !cert) return failNative(Errc::internal, "P-256 key generation failed", "OpenSSL", 0, opensslError());
    X509_set_version(cert.get(), 2);
    std::array<std::uint8_t, 16> serial{};
    RAND_bytes(serial.data(), serial.size());
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial.data(), serial.size(), nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(commonName.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509_set_pubkey(cert.get(), key.get());
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
        return failNative(Errc::internal, "certificate signing failed", "OpenSSL", 0, opensslError());
    const std::string tmpKey = keyPath + ".new";
    std::FILE* kf = std::fopen(tmpKey.c_str(), "w");
    if (!kf) return fail(Errc::io, "cannot write " + tmpKey);
    ::chmod(tmpKey.c_str(), 0600);
    const bool keyOk = PEM_write_PrivateKey(kf, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
    std::fclose(kf);
    std::FILE* cf = std::fopen(certPath.c_str(), "w");
    if (!cf) return fail(Errc::io, "cannot write " + certPath);
    const bool certOk = PEM_write_X509(cf, cert.get()) == 1;
    std::fclose(cf);
    if (!keyOk || !certOk || std::rename(tmpKey.c_str(), keyPath.c_str()) != 0)
        return fail(Errc::io, "cannot write " + keyPath + " / " + certPath);
    return {};
}

}  // namespace tte::mothership
