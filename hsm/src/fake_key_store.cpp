// In-memory KeyStore on OpenSSL, for unit tests.
#include "tte/hsm/fake_key_store.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "tte/hsm/pkcs11_uri.h"
#include "tte/hsm/x509.h"
#include "tte/protocol/crypto.h"

namespace tte::hsm {
namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

Result<Bytes> publicPointOf(EVP_PKEY* key) {
    Bytes point(65);
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &len) != 1 ||
        len != 65) {
        return fail(Errc::internal, "reading a P-256 public point failed: " + takeOpensslError());
    }
    return point;
}

Result<Bytes> ecdsaSign(EVP_PKEY* key, std::span<const std::uint8_t> digest) {
    if (digest.size() != 32) {
        return fail(Errc::invalidArgument, "a SHA-256 digest has 32 bytes, got " + std::to_string(digest.size()));
    }
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key, nullptr),
                                                                    EVP_PKEY_CTX_free);
    std::size_t len = 0;
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
        EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) != 1) {
        return fail(Errc::internal, "ECDSA signing failed: " + takeOpensslError());
    }
    Bytes sig(len);
    if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size()) != 1) {
        return fail(Errc::internal, "ECDSA signing failed: " + takeOpensslError());
    }
    sig.resize(len);
    return sig;
}

Secret hmacSha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
    Secret out(std::size_t{32});
    unsigned int len = 32;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
         out.mutableBytes().data(), &len);
    return out;
}

}  // namespace

struct FakeKeyStore::Object {
    KeyKind kind = KeyKind::other;
    PkeyPtr pkey;   // signing keys
    Secret secret;  // HMAC keys
};

FakeKeyStore::FakeKeyStore(std::string tokenLabel) : m_token(std::move(tokenLabel)) {}
FakeKeyStore::~FakeKeyStore() = default;

void FakeKeyStore::failNext(Error error) {
    std::lock_guard lock(m_mutex);
    m_injected = std::move(error);
}

std::optional<Error> FakeKeyStore::takeInjected() {
    std::lock_guard lock(m_mutex);
    auto e = std::move(m_injected);
    m_injected.reset();
    return e;
}

std::size_t FakeKeyStore::objectCount() const {
    std::lock_guard lock(m_mutex);
    return m_objects.size();
}

std::size_t FakeKeyStore::deviceKeysGenerated() const {
    std::lock_guard lock(m_mutex);
    return m_deviceKeys;
}

Result<std::string> FakeKeyStore::labelOf(std::string_view keyUri) const {
    auto uri = parsePkcs11Uri(keyUri);
    if (!uri) return std::unexpected(uri.error());
    if (!uri->token.empty() && uri->token != m_token) {
        return fail(Errc::notFound, "no token labelled '" + uri->token + "' (this store serves '" + m_token + "')");
    }
    if (uri->object.empty()) {
        return fail(Errc::invalidArgument, "the key URI names no object (object=LABEL)");
    }
    return uri->object;
}

Result<const FakeKeyStore::Object*> FakeKeyStore::find(std::string_view keyUri, KeyKind kind) const {
    auto label = labelOf(keyUri);
    if (!label) return std::unexpected(label.error());
    std::lock_guard lock(m_mutex);
    auto it = m_objects.find(*label);
    if (it == m_objects.end() || it->second->kind != kind) {
        return fail(Errc::notFound, "no " + std::string(keyKindName(kind)) + " key '" + *label + "' on token '" +
                                        m_token + "'");
    }
    return it->second.get();
}

#define TTE_FAKE_INJECTED()                                        \
    if (auto injected = takeInjected()) return std::unexpected(*injected)

Result<Secret> FakeKeyStore::random(std::size_t size) {
    TTE_FAKE_INJECTED();
    if (size == 0 || size > 1024) {
        return fail(Errc::invalidArgument, "random: size must be 1 to 1024 bytes, got " + std::to_string(size));
    }
    Secret out(size);
    if (RAND_bytes(out.mutableBytes().data(), static_cast<int>(size)) != 1) {
        return fail(Errc::internal, "random: " + takeOpensslError());
    }
    return out;
}

Result<Bytes> FakeKeyStore::createSigningKey(std::string_view keyUri) {
    TTE_FAKE_INJECTED();
    auto label = labelOf(keyUri);
    if (!label) return std::unexpected(label.error());
    auto obj = std::make_unique<Object>();
    obj->kind = KeyKind::signingKey;
    obj->pkey.reset(EVP_EC_gen("P-256"));
    if (!obj->pkey) return fail(Errc::internal, "P-256 key generation failed: " + takeOpensslError());
    auto point = publicPointOf(obj->pkey.get());
    if (!point) return std::unexpected(point.error());
    std::lock_guard lock(m_mutex);
    if (m_objects.contains(*label)) {
        return fail(Errc::alreadyExists, "a key labelled '" + *label + "' already exists on token '" + m_token + "'");
    }
    m_objects.emplace(*label, std::move(obj));
    return protocol::p256SpkiFromPoint(*point);
}

Result<Bytes> FakeKeyStore::publicKey(std::string_view keyUri) {
    TTE_FAKE_INJECTED();
    auto obj = find(keyUri, KeyKind::signingKey);
    if (!obj) return std::unexpected(obj.error());
    auto point = publicPointOf((*obj)->pkey.get());
    if (!point) return std::unexpected(point.error());
    return protocol::p256SpkiFromPoint(*point);
}

Result<Bytes> FakeKeyStore::sign(std::string_view keyUri, std::span<const std::uint8_t> digest) {
    TTE_FAKE_INJECTED();
    auto obj = find(keyUri, KeyKind::signingKey);
    if (!obj) return std::unexpected(obj.error());
    return ecdsaSign((*obj)->pkey.get(), digest);
}

Result<Bytes> FakeKeyStore::selfSignedCertificate(std::string_view keyUri, const CertificateSpec& spec) {
    auto spki = publicKey(keyUri);
    if (!spki) return std::unexpected(spki.error());
    return buildSelfSignedCertificate(*spki, spec, [&](std::span<const std::uint8_t> d) { return sign(keyUri, d); });
}

Status FakeKeyStore::createHmacKey(std::string_view keyUri) {
    auto key = random(32);
    if (!key) return std::unexpected(key.error());
    return importHmacKey(keyUri, *key);
}

Status FakeKeyStore::importHmacKey(std::string_view keyUri, const Secret& key) {
    auto label = labelOf(keyUri);
    if (!label) return std::unexpected(label.error());
    if (key.size() < 16 || key.size() > 64) {
        return fail(Errc::invalidArgument, "an HMAC key has 16 to 64 bytes, got " + std::to_string(key.size()));
    }
    auto obj = std::make_unique<Object>();
    obj->kind = KeyKind::hmacKey;
    obj->secret = key.clone();
    std::lock_guard lock(m_mutex);
    if (m_objects.contains(*label)) {
        return fail(Errc::alreadyExists, "a key labelled '" + *label + "' already exists on token '" + m_token + "'");
    }
    m_objects.emplace(*label, std::move(obj));
    return {};
}

Result<Secret> FakeKeyStore::hmac(std::string_view keyUri, std::span<const std::uint8_t> data) {
    TTE_FAKE_INJECTED();
    auto obj = find(keyUri, KeyKind::hmacKey);
    if (!obj) return std::unexpected(obj.error());
    return hmacSha256((*obj)->secret.bytes(), data);
}

Result<std::vector<Secret>> FakeKeyStore::deriveBulkOtps(std::string_view lotKeyUri, std::uint32_t boxNumber,
                                                         std::span<const std::uint32_t> devIds) {
    if (devIds.empty()) return fail(Errc::invalidArgument, "bulk OTPs: no Dev IDs given");
    auto boxSecret = deriveBoxSecret(lotKeyUri, boxNumber);
    if (!boxSecret) return std::unexpected(boxSecret.error());
    std::vector<Secret> otps;
    otps.reserve(devIds.size());
    for (auto devId : devIds) {
        Secret full = hmacSha256(boxSecret->bytes(), bulkOtpMessage(devId));  // PROTOCOL.md §4
        otps.emplace_back(full.bytes().first(8));
    }
    return otps;
}

Result<DeviceKey> FakeKeyStore::generateDeviceKey(const CertificateSpec& certificate) {
    TTE_FAKE_INJECTED();
    PkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) return fail(Errc::internal, "P-256 key generation failed: " + takeOpensslError());
    DeviceKey out;
    auto point = publicPointOf(key.get());
    if (!point) return std::unexpected(point.error());
    out.publicPoint = *point;
    auto spki = protocol::p256SpkiFromPoint(out.publicPoint);
    if (!spki) return std::unexpected(spki.error());
    out.spkiDer = *spki;
    auto cert = buildSelfSignedCertificate(out.spkiDer, certificate, [&](std::span<const std::uint8_t> d) {
        return ecdsaSign(key.get(), d);
    });
    if (!cert) return std::unexpected(cert.error());
    out.certificateDer = std::move(*cert);
    BIGNUM* d = nullptr;
    if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) {
        return fail(Errc::internal, "reading the device scalar failed: " + takeOpensslError());
    }
    out.privateScalar = Secret(std::size_t{32});
    BN_bn2binpad(d, out.privateScalar.mutableBytes().data(), 32);
    BN_clear_free(d);
    std::lock_guard lock(m_mutex);
    ++m_deviceKeys;
    return out;
}

Result<std::vector<KeyInfo>> FakeKeyStore::listKeys() {
    TTE_FAKE_INJECTED();
    std::lock_guard lock(m_mutex);
    std::vector<KeyInfo> out;
    for (const auto& [label, obj] : m_objects) {
        out.push_back(KeyInfo{label, obj->kind, true, true, false});
        if (obj->kind == KeyKind::signingKey) out.push_back(KeyInfo{label, KeyKind::publicKey, true, false, true});
    }
    return out;
}

}  // namespace tte::hsm
