// P-256 scalar → OpenSSL key → DER/PEM (OpenSSL 3 provider API).
#include "tte/device_host/credentials.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <memory>

namespace tte::devicehost {
namespace {

template <class T, void (*F)(T*)>
struct Free {
    void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;

void freeBn(BIGNUM* b) { BN_clear_free(b); }

Result<PKey> keyOf(std::span<const std::uint8_t, 32> scalar) {
    std::unique_ptr<EC_GROUP, Free<EC_GROUP, EC_GROUP_free>> group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
    std::unique_ptr<BIGNUM, Free<BIGNUM, freeBn>> priv(BN_bin2bn(scalar.data(), 32, nullptr));
    std::unique_ptr<EC_POINT, Free<EC_POINT, EC_POINT_free>> pub(EC_POINT_new(group.get()));
    if (!group || !priv || !pub) return fail(Errc::internal, "OpenSSL allocation failed");
    if (BN_is_zero(priv.get()) || BN_cmp(priv.get(), EC_GROUP_get0_order(group.get())) >= 0)
        return fail(Errc::invalidArgument, "device private key is not a valid P-256 scalar");
    if (EC_POINT_mul(group.get(), pub.get(), priv.get(), nullptr, nullptr, nullptr) != 1)
        return fail(Errc::internal, "cannot compute the public key");
    unsigned char pubBytes[65];
    std::size_t pubLen = EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, pubBytes, sizeof pubBytes, nullptr);
    std::unique_ptr<OSSL_PARAM_BLD, Free<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>> bld(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get());
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pubBytes, pubLen);
    std::unique_ptr<OSSL_PARAM, Free<OSSL_PARAM, OSSL_PARAM_free>> params(OSSL_PARAM_BLD_to_param(bld.get()));
    std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX, EVP_PKEY_CTX_free>> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEYPAIR, params.get()) != 1) {
        ERR_clear_error();
        return fail(Errc::internal, "OpenSSL refused the P-256 key");
    }
    return PKey(key);
}

Result<Secret> bioSecret(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    Secret out(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(n)));
    OPENSSL_cleanse(data, static_cast<std::size_t>(n));
    return out;
}

}  // namespace

Result<Secret> ecPrivateKeyDer(std::span<const std::uint8_t, 32> scalar) {
    auto key = keyOf(scalar);
    if (!key) return std::unexpected(key.error());
    unsigned char* der = nullptr;
    int len = i2d_PrivateKey(key->get(), &der);
    if (len <= 0) return fail(Errc::internal, "cannot encode the private key");
    Secret out(std::span<const std::uint8_t>(der, static_cast<std::size_t>(len)));
    OPENSSL_clear_free(der, static_cast<std::size_t>(len));
    return out;
}

Result<Secret> ecPrivateKeyPem(std::span<const std::uint8_t, 32> scalar) {
    auto key = keyOf(scalar);
    if (!key) return std::unexpected(key.error());
    std::unique_ptr<BIO, Free<BIO, BIO_free_all>> bio(BIO_new(BIO_s_secmem()));
    if (PEM_write_bio_PrivateKey(bio.get(), key->get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return fail(Errc::internal, "cannot encode the private key");
    return bioSecret(bio.get());
}

}  // namespace tte::devicehost
