// Fingerprints of certificates and keys through OpenSSL (docs/PROTOCOL.md §1).
#include "tte/protocol/fingerprint.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "crypto.h"
#include "tte/base/hex.h"
#include "tte/base/secret.h"
#include "tte/protocol/ids.h"

namespace tte::protocol {
namespace {

struct Free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
    void operator()(X509* p) const { X509_free(p); }
    void operator()(BIO* p) const { BIO_free(p); }
    void operator()(char* p) const { OPENSSL_free(p); }
    void operator()(unsigned char* p) const { OPENSSL_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

std::unexpected<Error> opensslFail(Errc code, std::string message) {
    const unsigned long e = ERR_peek_last_error();
    char name[256] = "";
    if (e != 0) ERR_error_string_n(e, name, sizeof name);
    ERR_clear_error();
    return failNative(code, std::move(message), "OpenSSL", static_cast<std::int64_t>(e), name);
}

/// The public key of `der` read as a certificate, an SPKI, or a private key; nullptr if none
/// of them consumes all of `der`.
Ptr<EVP_PKEY> publicKeyOf(std::span<const std::uint8_t> der) {
    const auto size = static_cast<long>(der.size());
    const unsigned char* p = der.data();
    if (Ptr<X509> cert(d2i_X509(nullptr, &p, size)); cert && p == der.data() + der.size()) {
        return Ptr<EVP_PKEY>(X509_get_pubkey(cert.get()));
    }
    p = der.data();
    if (Ptr<EVP_PKEY> key(d2i_PUBKEY(nullptr, &p, size)); key && p == der.data() + der.size()) return key;
    p = der.data();
    if (Ptr<EVP_PKEY> key(d2i_AutoPrivateKey(nullptr, &p, size)); key && p == der.data() + der.size()) return key;
    return nullptr;
}

}  // namespace

std::string Fingerprint::hex() const { return toHex(bytes); }

Result<Fingerprint> parseFingerprint(std::string_view hex) {
    if (hex.size() != 64) {
        return fail(Errc::invalidArgument, "fingerprint: expected 64 hex digits, got " + std::to_string(hex.size()));
    }
    auto bytes = fromHex(hex, "fingerprint");
    if (!bytes) return std::unexpected(bytes.error());
    Fingerprint fp;
    std::copy(bytes->begin(), bytes->end(), fp.bytes.begin());
    return fp;
}

Fingerprint fingerprintOfSpki(std::span<const std::uint8_t> spkiDer) { return Fingerprint{sha256(spkiDer)}; }

Fingerprint pskFingerprint(std::span<const std::uint8_t, 32> psk) {
    constexpr std::string_view kLabel = "tte-psk";
    std::array<std::uint8_t, kLabel.size() + 32> input{};
    std::copy(kLabel.begin(), kLabel.end(), input.begin());
    std::copy(psk.begin(), psk.end(), input.begin() + kLabel.size());
    Fingerprint fp{sha256(input)};
    secureZero(input.data(), input.size());
    return fp;
}

Result<std::vector<std::uint8_t>> spkiFromDer(std::span<const std::uint8_t> der) {
    Ptr<EVP_PKEY> key = der.empty() ? nullptr : publicKeyOf(der);
    if (!key) return opensslFail(Errc::invalidArgument, "fingerprint: not a DER certificate, public key or private key");
    unsigned char* spki = nullptr;
    const int len = i2d_PUBKEY(key.get(), &spki);
    Ptr<unsigned char> owned(spki);
    if (len <= 0) return opensslFail(Errc::internal, "fingerprint: cannot encode the public key");
    ERR_clear_error();
    return std::vector<std::uint8_t>(spki, spki + len);
}

Result<Fingerprint> fingerprintFromDer(std::span<const std::uint8_t> der) {
    auto spki = spkiFromDer(der);
    if (!spki) return std::unexpected(spki.error());
    return fingerprintOfSpki(*spki);
}

Result<std::vector<std::uint8_t>> spkiFromPem(std::string_view pem) {
    Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return opensslFail(Errc::internal, "fingerprint: out of memory");
    char* rawName = nullptr;
    char* rawHeader = nullptr;
    unsigned char* rawData = nullptr;
    long len = 0;
    const int ok = PEM_read_bio(bio.get(), &rawName, &rawHeader, &rawData, &len);
    Ptr<char> name(rawName);
    Ptr<char> header(rawHeader);
    Ptr<unsigned char> data(rawData);
    if (ok != 1) return opensslFail(Errc::invalidArgument, "fingerprint: no PEM object found");
    const std::string_view label(name.get());
    const auto der = std::span<const std::uint8_t>(data.get(), static_cast<std::size_t>(len));
    struct Wipe {  // private-key DER is secret
        std::span<const std::uint8_t> d;
        ~Wipe() { secureZero(const_cast<std::uint8_t*>(d.data()), d.size()); }
    } wipe{der};
    if (label == "ENCRYPTED PRIVATE KEY" || (header && std::string_view(header.get()).find("ENCRYPTED") != std::string_view::npos)) {
        return fail(Errc::unsupported, "fingerprint: encrypted private keys are not supported");
    }
    const bool known = label == "CERTIFICATE" || label == "X509 CERTIFICATE" ||
                       label == "PUBLIC KEY" || label == "PRIVATE KEY" || label.ends_with(" PRIVATE KEY");
    if (!known) return fail(Errc::invalidArgument, "fingerprint: PEM type " + quoteForError(label) + " is not supported");
    return spkiFromDer(der);
}

namespace {

std::string bioText(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

Result<std::string> certificatePem(std::span<const std::uint8_t> der) {
    const unsigned char* p = der.data();
    Ptr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    Ptr<BIO> bio(BIO_new(BIO_s_mem()));
    if (!cert || p != der.data() + der.size()) return opensslFail(Errc::invalidArgument, "not a DER X.509 certificate");
    if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) return opensslFail(Errc::internal, "cannot write PEM");
    return bioText(bio.get());
}

Result<std::string> publicKeyPem(std::span<const std::uint8_t> spkiDer) {
    const unsigned char* p = spkiDer.data();
    Ptr<EVP_PKEY> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spkiDer.size())));
    Ptr<BIO> bio(BIO_new(BIO_s_mem()));
    if (!key || p != spkiDer.data() + spkiDer.size()) return opensslFail(Errc::invalidArgument, "not a DER SubjectPublicKeyInfo");
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) return opensslFail(Errc::internal, "cannot write PEM");
    return bioText(bio.get());
}

Result<Fingerprint> fingerprintFromPem(std::string_view pem) {
    auto spki = spkiFromPem(pem);
    if (!spki) return std::unexpected(spki.error());
    return fingerprintOfSpki(*spki);
}

}  // namespace tte::protocol
