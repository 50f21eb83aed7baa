// Self-signed certificates with an external signer, and ECDSA signature encoding (OpenSSL 3).
#include "tte/hsm/x509.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "tte/protocol/crypto.h"

namespace tte::hsm {
namespace {

template <auto Fn>
struct Deleter {
    template <class T>
    void operator()(T* p) const { Fn(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;

std::unexpected<Error> opensslFailure(std::string_view what) {
    std::string detail = takeOpensslError();
    return std::unexpected(Error{Errc::internal, std::string(what) + " failed", "OpenSSL", 0, detail});
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

Result<Bytes> buildSelfSignedCertificate(std::span<const std::uint8_t> spkiDer, const CertificateSpec& spec,
                                         const DigestSigner& signer) {
    if (spec.commonName.empty() || spec.commonName.size() > 64) {
        return fail(Errc::invalidArgument, "a certificate common name must have 1 to 64 bytes, got " +
                                               std::to_string(spec.commonName.size()));
    }
    const auto point = protocol::p256PointOfSpki(spkiDer);
    if (point.empty() || !protocol::p256SpkiFromPoint(point))
        return fail(Errc::invalidArgument, "the certificate's key is not a P-256 SubjectPublicKeyInfo");
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

    auto sig = signer(protocol::sha256(tbsDer));
    if (!sig) return std::unexpected(sig.error());
    // A certificate whose signature does not verify is never handed out.
    if (auto ok = protocol::verifyEcdsaSha256(spkiDer, tbsDer, *sig); !ok) {
        return std::unexpected(Error{Errc::internal, "verifying the new certificate's signature failed", "OpenSSL", 0,
                                     ok.error().message});
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

}  // namespace tte::hsm
