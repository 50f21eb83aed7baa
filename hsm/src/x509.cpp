// Self-signed certificates with an external signer, and P-256 encodings (OpenSSL 3).
#include "tte/hsm/x509.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <memory>

namespace tte::hsm {
namespace {

template <auto Fn>
struct Deleter {
    template <class T>
    void operator()(T* p) const { Fn(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;

// DER prefix of a P-256 SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { id-ecPublicKey,
// prime256v1 }, BIT STRING (0 unused bits) } followed by the 65-byte point.
constexpr std::uint8_t kSpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                        0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
                                        0x07, 0x03, 0x42, 0x00};

std::unexpected<Error> opensslFailure(std::string_view what) {
    std::string detail = takeOpensslError();
    return std::unexpected(Error{Errc::internal, std::string(what) + " failed", "OpenSSL", 0, detail});
}

// The point of a P-256 SubjectPublicKeyInfo in exactly our encoding, else empty.
std::span<const std::uint8_t> p256Point(std::span<const std::uint8_t> spkiDer) {
    if (spkiDer.size() != sizeof kSpkiPrefix + 65 ||
        !std::equal(std::begin(kSpkiPrefix), std::end(kSpkiPrefix), spkiDer.begin())) {
        return {};
    }
    return spkiDer.subspan(sizeof kSpkiPrefix);
}

// A P-256 public key from its point, checked to lie on the curve. Built by key import
// (EVP_PKEY_fromdata): OpenSSL 3.0's DER decoders (d2i_PUBKEY) cost ~0.5 ms a call.
PkeyPtr keyFromPoint(std::span<const std::uint8_t> point) {
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<std::uint8_t*>(point.data()),
                                          point.size()),
        OSSL_PARAM_construct_end()};
    std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* key = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        ERR_clear_error();
        return nullptr;
    }
    return PkeyPtr(key);
}

PkeyPtr parseSpki(std::span<const std::uint8_t> spkiDer) {
    if (auto point = p256Point(spkiDer); !point.empty()) return keyFromPoint(point);
    const unsigned char* p = spkiDer.data();
    return PkeyPtr(d2i_PUBKEY(nullptr, &p, static_cast<long>(spkiDer.size())));
}

Status addExtensions(X509* x) {
    std::unique_ptr<BASIC_CONSTRAINTS, Deleter<BASIC_CONSTRAINTS_free>> bc(BASIC_CONSTRAINTS_new());
    std::unique_ptr<ASN1_BIT_STRING, Deleter<ASN1_BIT_STRING_free>> ku(ASN1_BIT_STRING_new());
    if (!bc || !ku || ASN1_BIT_STRING_set_bit(ku.get(), 0, 1) != 1 ||  // digitalSignature
        X509_add1_ext_i2d(x, NID_basic_constraints, bc.get(), 1, X509V3_ADD_DEFAULT) != 1 ||
        X509_add1_ext_i2d(x, NID_key_usage, ku.get(), 1, X509V3_ADD_DEFAULT) != 1) {
        return opensslFailure("adding the certificate extensions");
    }
    return {};
}

// Puts the point into the certificate's SubjectPublicKeyInfo directly (no key object).
Status setPublicKey(X509* x, std::span<const std::uint8_t> point) {
    auto* encoded = static_cast<unsigned char*>(OPENSSL_memdup(point.data(), point.size()));
    if (encoded == nullptr ||
        X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                               OBJ_nid2obj(NID_X9_62_prime256v1), encoded, static_cast<int>(point.size())) != 1) {
        OPENSSL_free(encoded);
        return opensslFailure("setting the certificate's public key");
    }
    return {};
}

Status setTbsFields(X509* x, std::span<const std::uint8_t> point, const CertificateSpec& spec) {
    NamePtr name(X509_NAME_new());
    if (!name || X509_set_version(x, 2) != 1 ||
        ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), spec.serial == 0 ? 1 : spec.serial) != 1 ||
        X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(spec.commonName.data()),
                                   static_cast<int>(spec.commonName.size()), -1, 0) != 1 ||
        X509_set_subject_name(x, name.get()) != 1 || X509_set_issuer_name(x, name.get()) != 1) {
        return opensslFailure("filling the certificate");
    }
    auto from = std::chrono::system_clock::to_time_t(spec.notBefore);
    auto until = from + static_cast<time_t>(spec.validity.count());
    if (ASN1_TIME_set(X509_getm_notBefore(x), from) == nullptr ||
        ASN1_TIME_set(X509_getm_notAfter(x), until) == nullptr) {
        return opensslFailure("setting the certificate validity");
    }
    if (auto s = setPublicKey(x, point); !s) return s;
    return addExtensions(x);
}

}  // namespace

std::string takeOpensslError() {
    unsigned long code = ERR_get_error();
    if (code == 0) return "no OpenSSL error";
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

Bytes sha256(std::span<const std::uint8_t> data) {
    Bytes out(32);
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
    return out;
}

Result<Bytes> spkiFromPoint(std::span<const std::uint8_t> point) {
    if (point.size() != 65 || point[0] != 0x04) {
        return fail(Errc::invalidArgument, "a P-256 public key must be a 65-byte uncompressed point, got " +
                                               std::to_string(point.size()) + " bytes");
    }
    Bytes spki(std::begin(kSpkiPrefix), std::end(kSpkiPrefix));
    spki.insert(spki.end(), point.begin(), point.end());
    if (!keyFromPoint(point)) {
        return fail(Errc::invalidArgument, "the public key is not a point on P-256");
    }
    return spki;
}

Result<Bytes> pointFromEcPoint(std::span<const std::uint8_t> ecPoint) {
    if (ecPoint.size() == 67 && ecPoint[0] == 0x04 && ecPoint[1] == 65 && ecPoint[2] == 0x04) {
        return Bytes(ecPoint.begin() + 2, ecPoint.end());
    }
    if (ecPoint.size() == 65 && ecPoint[0] == 0x04) return Bytes(ecPoint.begin(), ecPoint.end());
    return fail(Errc::invalidArgument,
                "CKA_EC_POINT is not an uncompressed P-256 point (" + std::to_string(ecPoint.size()) + " bytes)");
}

Result<Bytes> ecdsaRawToDer(std::span<const std::uint8_t> raw) {
    if (raw.size() != 64) {
        return fail(Errc::invalidArgument,
                    "a raw P-256 ECDSA signature has 64 bytes, got " + std::to_string(raw.size()));
    }
    SigPtr sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(raw.data(), 32, nullptr);
    BIGNUM* s = BN_bin2bn(raw.data() + 32, 32, nullptr);
    if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return opensslFailure("encoding an ECDSA signature");
    }
    int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0) return opensslFailure("encoding an ECDSA signature");
    Bytes der(static_cast<std::size_t>(len));
    unsigned char* p = der.data();
    i2d_ECDSA_SIG(sig.get(), &p);
    return der;
}

Status verifySha256(std::span<const std::uint8_t> spkiDer, std::span<const std::uint8_t> message,
                    std::span<const std::uint8_t> derSignature) {
    PkeyPtr key = parseSpki(spkiDer);
    if (!key) {
        ERR_clear_error();
        return fail(Errc::invalidArgument, "the public key is not a DER SubjectPublicKeyInfo");
    }
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
        return opensslFailure("starting a signature check");
    }
    int ok = EVP_DigestVerify(ctx.get(), derSignature.data(), derSignature.size(), message.data(), message.size());
    ERR_clear_error();
    if (ok != 1) return fail(Errc::unauthenticated, "the ECDSA-SHA256 signature does not verify");
    return {};
}

Result<Bytes> buildSelfSignedCertificate(std::span<const std::uint8_t> spkiDer, const CertificateSpec& spec,
                                         const DigestSigner& signer) {
    if (spec.commonName.empty() || spec.commonName.size() > 64) {
        return fail(Errc::invalidArgument, "a certificate common name must have 1 to 64 bytes, got " +
                                               std::to_string(spec.commonName.size()));
    }
    auto point = p256Point(spkiDer);
    PkeyPtr key = point.empty() ? nullptr : keyFromPoint(point);
    if (!key) return fail(Errc::invalidArgument, "the certificate's key is not a P-256 SubjectPublicKeyInfo");
    X509Ptr x(X509_new());
    if (!x) return opensslFailure("creating a certificate");
    if (auto s = setTbsFields(x.get(), point, spec); !s) return std::unexpected(s.error());

    // The signature algorithm appears twice (inside the TBS and outside); both are set
    // before the TBS is encoded, because that encoding is what gets signed.
    const X509_ALGOR* outerAlg = nullptr;
    const ASN1_BIT_STRING* signature = nullptr;
    X509_get0_signature(&signature, &outerAlg, x.get());
    for (const X509_ALGOR* alg : {X509_get0_tbs_sigalg(x.get()), outerAlg}) {
        if (X509_ALGOR_set0(const_cast<X509_ALGOR*>(alg), OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF,
                            nullptr) != 1) {
            return opensslFailure("setting the signature algorithm");
        }
    }
    unsigned char* tbs = nullptr;
    int tbsLen = i2d_re_X509_tbs(x.get(), &tbs);
    if (tbsLen <= 0) return opensslFailure("encoding the certificate");
    Bytes tbsDer(tbs, tbs + tbsLen);
    OPENSSL_free(tbs);

    auto sig = signer(sha256(tbsDer));
    if (!sig) return std::unexpected(sig.error());
    // A certificate whose signature does not verify is never handed out.
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), sig->data(), sig->size(), tbsDer.data(), tbsDer.size()) != 1) {
        return opensslFailure("verifying the new certificate's signature");
    }
    auto* bits = const_cast<ASN1_BIT_STRING*>(signature);
    if (ASN1_BIT_STRING_set(bits, sig->data(), static_cast<int>(sig->size())) != 1) {
        return opensslFailure("storing the certificate signature");
    }
    bits->flags &= ~0x07L;                    // no unused bits in the last byte
    bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;

    int len = i2d_X509(x.get(), nullptr);
    if (len <= 0) return opensslFailure("encoding the certificate");
    Bytes der(static_cast<std::size_t>(len));
    unsigned char* p = der.data();
    i2d_X509(x.get(), &p);
    return der;
}

std::string toPem(std::span<const std::uint8_t> der, std::string_view label) {
    std::string b64((der.size() + 2) / 3 * 4 + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), der.data(), static_cast<int>(der.size()));
    b64.resize(static_cast<std::size_t>(n));
    std::string out = "-----BEGIN " + std::string(label) + "-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
    out += "-----END " + std::string(label) + "-----\n";
    return out;
}

}  // namespace tte::hsm
