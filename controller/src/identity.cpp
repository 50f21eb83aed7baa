// Creating and loading the Controller's P-256 key and self-signed certificate.
#include "tte/controller/identity.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/bn.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "tte/protocol/fingerprint.h"

namespace tte::controller {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
    void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::unexpected<Error> opensslError(std::string what) {
    unsigned long code = ERR_get_error();
    char buf[256] = {};
    ERR_error_string_n(code, buf, sizeof buf);
    ERR_clear_error();
    return failNative(Errc::internal, std::move(what), "OpenSSL", static_cast<std::int64_t>(code), buf);
}

std::string bioText(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

Result<std::string> fingerprintOf(X509* cert) {
    unsigned char* der = nullptr;
    int len = i2d_X509(cert, &der);
    if (len <= 0) return opensslError("cannot encode the certificate");
    auto fp = protocol::fingerprintFromDer(std::span<const std::uint8_t>(der, static_cast<std::size_t>(len)));
    OPENSSL_free(der);
    if (!fp) return std::unexpected(fp.error());
    return fp->hex();
}

Result<std::string> readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::io, "cannot read " + path.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Status writeFileAtomic(const std::filesystem::path& path, std::string_view data, mode_t mode) {
    std::filesystem::path tmp = path;
    tmp += ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return failNative(Errc::io, "cannot create " + tmp.string(), "errno", errno);
    bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return failNative(Errc::io, "cannot write " + path.string(), "errno", errno);
    }
    return {};
}

Result<Identity> create(const std::filesystem::path& keyPath, const std::filesystem::path& certPath) {
    PKey key(EVP_EC_gen("P-256"));
    if (!key) return opensslError("cannot generate a P-256 key");
    Cert cert(X509_new());
    if (!cert) return opensslError("cannot allocate a certificate");
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) return opensslError("no random serial");
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 365 * 20);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("tte-controller"), -1,
                               -1, 0);
    X509_set_issuer_name(cert.get(), name);
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return opensslError("cannot sign the certificate");

    Bio keyBio(BIO_new(BIO_s_mem()));
    Bio certBio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
        PEM_write_bio_X509(certBio.get(), cert.get()) != 1)
        return opensslError("cannot encode the identity");
    Identity id;
    id.keyPem = Secret(bioText(keyBio.get()));
    id.certPem = bioText(certBio.get());
    auto fp = fingerprintOf(cert.get());
    if (!fp) return std::unexpected(fp.error());
    id.fingerprint = *fp;
    if (auto st = writeFileAtomic(keyPath, id.keyPem.view(), 0600); !st) return std::unexpected(st.error());
    if (auto st = writeFileAtomic(certPath, id.certPem, 0644); !st) return std::unexpected(st.error());
    return id;
}

Result<Identity> load(const std::filesystem::path& keyPath, const std::filesystem::path& certPath) {
    auto keyText = readFile(keyPath);
    if (!keyText) return std::unexpected(keyText.error());
    Secret keyPem(*keyText);
    secureZero(keyText->data(), keyText->size());
    auto certText = readFile(certPath);
    if (!certText) return std::unexpected(certText.error());
    Bio kb(BIO_new_mem_buf(keyPem.bytes().data(), static_cast<int>(keyPem.size())));
    PKey key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    Bio cb(BIO_new_mem_buf(certText->data(), static_cast<int>(certText->size())));
    Cert cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!key) return fail(Errc::corrupt, keyPath.string() + " is not a PEM private key");
    if (!cert) return fail(Errc::corrupt, certPath.string() + " is not a PEM certificate");
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        return fail(Errc::corrupt, keyPath.string() + " does not belong to " + certPath.string());
    }
    auto fp = fingerprintOf(cert.get());
    if (!fp) return std::unexpected(fp.error());
    return Identity{*certText, std::move(keyPem), *fp};
}

}  // namespace

Result<Identity> loadOrCreateIdentity(const std::filesystem::path& stateDir) {
    std::error_code ec;
    std::filesystem::create_directories(stateDir, ec);
    if (ec) return failNative(Errc::io, "cannot create state directory " + stateDir.string(), "errno", ec.value());
    auto keyPath = stateDir / "identity.key";
    auto certPath = stateDir / "identity.crt";
    if (std::filesystem::exists(keyPath) || std::filesystem::exists(certPath)) return load(keyPath, certPath);
    return create(keyPath, certPath);
}

}  // namespace tte::controller
