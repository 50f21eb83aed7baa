// Pkcs11KeyStore: opening the token, random, token keys (signing and HMAC), listing.
#include "tte/hsm/pkcs11_key_store.h"

#include <cstdio>

#include "pkcs11_store_impl.h"
#include "tte/hsm/ck_rv.h"
#include "tte/hsm/pkcs11_uri.h"
#include "tte/hsm/x509.h"
#include "tte/protocol/crypto.h"

namespace tte::hsm {

using detail::Session;
using detail::Template;

namespace detail {

Result<Bytes> spkiOfPublicKey(Session& session, CK_OBJECT_HANDLE publicKey, std::string_view what) {
    auto ecPoint = session.attribute(publicKey, CKA_EC_POINT, what);
    if (!ecPoint) return std::unexpected(ecPoint.error());
    auto point = pointFromEcPoint(*ecPoint);
    if (!point) return std::unexpected(point.error());
    return protocol::p256SpkiFromPoint(*point);
}

Result<Bytes> ecdsaSign(Session& session, CK_OBJECT_HANDLE key, std::span<const std::uint8_t> digest,
                        std::string_view what) {
    if (digest.size() != 32) {
        return fail(Errc::invalidArgument, "a SHA-256 digest has 32 bytes, got " + std::to_string(digest.size()));
    }
    auto raw = session.signWith(CKM_ECDSA, key, digest, 64, what);
    if (!raw) return std::unexpected(raw.error());
    return ecdsaRawToDer(raw->bytes());
}

}  // namespace detail

Result<std::string> Pkcs11KeyStore::Impl::labelOf(std::string_view keyUri) const {
    auto uri = parsePkcs11Uri(keyUri);
    if (!uri) return std::unexpected(uri.error());
    if (!uri->token.empty() && uri->token != pool->token()) {
        return fail(Errc::notFound,
                    "no token labelled '" + uri->token + "' (this store serves '" + pool->token() + "')");
    }
    if (uri->object.empty()) return fail(Errc::invalidArgument, "the key URI names no object (object=LABEL)");
    return uri->object;
}

namespace {

/// What finds the token again (without the URI's PIN).
Pkcs11Uri tokenOnly(const Pkcs11Uri& uri) {
    Pkcs11Uri t;
    t.token = uri.token;
    t.manufacturer = uri.manufacturer;
    t.model = uri.model;
    t.serial = uri.serial;
    return t;
}

}  // namespace

Pkcs11KeyStore::Pkcs11KeyStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Pkcs11KeyStore::~Pkcs11KeyStore() = default;

Result<std::unique_ptr<Pkcs11KeyStore>> Pkcs11KeyStore::open(const Pkcs11Options& options) {
    auto uri = parsePkcs11Uri(options.tokenUri);
    if (!uri) return std::unexpected(uri.error());
    auto warn = options.warn ? options.warn : [](std::string_view w) {
        std::fprintf(stderr, "tte-hsm: warning: %.*s\n", static_cast<int>(w.size()), w.data());
    };
    auto pin = options.pin != nullptr ? Result<Secret>(options.pin->clone()) : resolvePin(*uri, options.pinSource, warn);
    if (!pin) return std::unexpected(pin.error());
    auto module = detail::Module::load(uri->modulePath.empty() ? options.modulePath : uri->modulePath);
    if (!module) return std::unexpected(module.error());
    auto slot = (*module)->findToken(*uri);
    if (!slot) return std::unexpected(slot.error());
    auto impl = std::make_unique<Impl>();
    impl->module = std::move(*module);
    impl->pool = std::make_unique<detail::SessionPool>(*impl->module, *slot, tokenOnly(*uri), std::move(*pin));
    {
        // Log in now, so a wrong PIN or a locked token shows at start-up.
        auto guard = impl->module->lock();
        auto session = impl->session();
        if (!session) return std::unexpected(session.error());
    }
    return std::unique_ptr<Pkcs11KeyStore>(new Pkcs11KeyStore(std::move(impl)));
}

const std::string& Pkcs11KeyStore::tokenLabel() const { return m_impl->pool->token(); }
std::size_t Pkcs11KeyStore::openSessions() const { return m_impl->pool->openSessions(); }
bool Pkcs11KeyStore::serialized() const { return m_impl->module->serialized(); }

Result<Secret> Pkcs11KeyStore::random(std::size_t size) {
    if (size == 0 || size > 1024) {
        return fail(Errc::invalidArgument, "random: size must be 1 to 1024 bytes, got " + std::to_string(size));
    }
    auto guard = m_impl->module->lock();
    auto s = m_impl->session();
    if (!s) return std::unexpected(s.error());
    Secret out(size);
    if (CK_RV rv = s->fn()->C_GenerateRandom(s->handle(), out.mutableBytes().data(), static_cast<CK_ULONG>(size));
        rv != CKR_OK) {
        return std::unexpected(s->error(rv, "C_GenerateRandom"));
    }
    return out;
}

namespace {

// Refuses to create a second key under a label already used by an object of `objectClass`.
Status ensureAbsent(detail::SessionPool& pool, Session& s, CK_OBJECT_CLASS objectClass, const std::string& label) {
    auto found = pool.findKey(s, objectClass, label);
    if (found) {
        return fail(Errc::alreadyExists, "a " + std::string(detail::className(objectClass)) + " labelled '" + label +
                                             "' already exists on token '" + pool.token() + "'");
    }
    if (found.error().code != Errc::notFound) return std::unexpected(found.error());
    return {};
}

Result<Bytes> randomId(Session& s) {
    Bytes id(8);
    if (CK_RV rv = s.fn()->C_GenerateRandom(s.handle(), id.data(), 8); rv != CKR_OK) {
        return std::unexpected(s.error(rv, "C_GenerateRandom for a key id"));
    }
    return id;
}

}  // namespace

Result<Bytes> Pkcs11KeyStore::createSigningKey(std::string_view keyUri) {
    auto label = m_impl->labelOf(keyUri);
    if (!label) return std::unexpected(label.error());
    auto guard = m_impl->module->lock();
    auto s = m_impl->session();
    if (!s) return std::unexpected(s.error());
    for (CK_OBJECT_CLASS c : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
        if (auto st = ensureAbsent(*m_impl->pool, *s, c, *label); !st) return std::unexpected(st.error());
    }
    auto id = randomId(*s);
    if (!id) return std::unexpected(id.error());
    Template pub;
    pub.flag(CKA_TOKEN, true).flag(CKA_PRIVATE, false).flag(CKA_VERIFY, true).flag(CKA_ENCRYPT, false)
        .flag(CKA_WRAP, false).bytes(CKA_EC_PARAMS, detail::kP256Params).text(CKA_LABEL, *label).bytes(CKA_ID, *id);
    Template priv;
    priv.flag(CKA_TOKEN, true).flag(CKA_PRIVATE, true).flag(CKA_SENSITIVE, true).flag(CKA_EXTRACTABLE, false)
        .flag(CKA_SIGN, true).flag(CKA_DECRYPT, false).flag(CKA_UNWRAP, false).flag(CKA_DERIVE, false)
        .text(CKA_LABEL, *label).bytes(CKA_ID, *id);
    CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_OBJECT_HANDLE hPub = CK_INVALID_HANDLE, hPriv = CK_INVALID_HANDLE;
    CK_RV rv = s->fn()->C_GenerateKeyPair(s->handle(), &mech, pub.data(), pub.size(), priv.data(), priv.size(), &hPub,
                                          &hPriv);
    if (rv != CKR_OK) {
        return std::unexpected(s->error(rv, "creating signing key '" + *label + "' on token '" + tokenLabel() + "'"));
    }
    return detail::spkiOfPublicKey(*s, hPub, "reading the public key of '" + *label + "'");
}

Result<Bytes> Pkcs11KeyStore::publicKey(std::string_view keyUri) {
    auto label = m_impl->labelOf(keyUri);
    if (!label) return std::unexpected(label.error());
    auto guard = m_impl->module->lock();
    auto s = m_impl->session();
    if (!s) return std::unexpected(s.error());
    auto h = m_impl->pool->findKey(*s, CKO_PUBLIC_KEY, *label);
    if (!h) return std::unexpected(h.error());
    return detail::spkiOfPublicKey(*s, *h, "reading the public key of '" + *label + "'");
}

Result<Bytes> Pkcs11KeyStore::sign(std::string_view keyUri, std::span<const std::uint8_t> digest) {
    auto label = m_impl->labelOf(keyUri);
    if (!label) return std::unexpected(label.error());
    auto guard = m_impl->module->lock();
    auto s = m_impl->session();
    if (!s) return std::unexpected(s.error());
    auto h = m_impl->pool->findKey(*s, CKO_PRIVATE_KEY, *label);
    if (!h) return std::unexpected(h.error());
    auto sig = detail::ecdsaSign(*s, *h, digest, "signing with '" + *label + "'");
    if (!sig && (sig.error().nativeCode == CKR_KEY_HANDLE_INVALID ||
                 sig.error().nativeCode == CKR_OBJECT_HANDLE_INVALID)) {
        m_impl->pool->forgetKey(CKO_PRIVATE_KEY, *label);  // deleted and re-created under us
    }
    return sig;
}

Result<Bytes> Pkcs11KeyStore::selfSignedCertificate(std::string_view keyUri, const CertificateSpec& spec) {
    auto label = m_impl->labelOf(keyUri);
    if (!label) return std::unexpected(label.error());
    auto guard = m_impl->module->lock();
    auto s = m_impl->session();
    if (!s) return std::unexpected(s.error());
    auto hPub = m_impl->pool->findKey(*s, CKO_PUBLIC_KEY, *label);
    if (!hPub) return std::unexpected(hPub.error());
    auto hPriv = m_impl->pool->findKey(*s, CKO_PRIVATE_KEY, *label);
    if (!hPriv) return std::unexpected(hPriv.error());
    auto spki = detail::spkiOfPublicKey(*s, *hPub, "reading the public key of '" + *label + "'");
    if (!spki) return std::unexpected(spki.error());
    return buildSelfSignedCertificate(*spki, spec, [&](std::span<const std::uint8_t> digest) {
        return detail::ecdsaSign(*s, *hPriv, digest, "signing the certificate of '" + *label + "'");
    });
}

Status Pkcs11KeyStore::createHmacKey(std::string_view keyUri) { return storeHmacKey(keyUri, nullptr); }

Status Pkcs11KeyStore::importHmacKey(std::string_view keyUri, const Secret& key) {
    if (key.size() < 16 || key.size() > 64) {
        return fail(Errc::invalidArgument, "an HMAC key has 16 to 64 bytes, got " + std::to_string(key.size()));
    }
    return storeHmacKey(keyUri, &key);
}

// Generates (value == nullptr) or imports an HMAC key: generic secret, sensitive, not
// extractable, sign-only, CKA_ALLOWED_MECHANISMS = { CKM_SHA256_HMAC } (PROTOCOL.md §4).
Status Pkcs11KeyStore::storeHmacKey(std::string_view keyUri, const Secret* value) {
    auto label = m_impl->labelOf(keyUri);
    if (!label) return std::unexpected(label.error());
    auto guard = m_impl->module->lock();
    auto s = m_impl->session();
    if (!s) return std::unexpected(s.error());
    if (auto st = ensureAbsent(*m_impl->pool, *s, CKO_SECRET_KEY, *label); !st) return st;
    auto id = randomId(*s);
    if (!id) return std::unexpected(id.error());
    CK_MECHANISM_TYPE allowed = CKM_SHA256_HMAC;
    Template t;
    t.number(CKA_CLASS, CKO_SECRET_KEY).number(CKA_KEY_TYPE, CKK_GENERIC_SECRET)
        .flag(CKA_TOKEN, true).flag(CKA_PRIVATE, true).flag(CKA_SENSITIVE, true).flag(CKA_EXTRACTABLE, false)
        .flag(CKA_SIGN, true).flag(CKA_VERIFY, false).flag(CKA_ENCRYPT, false).flag(CKA_DECRYPT, false)
        .flag(CKA_WRAP, false).flag(CKA_UNWRAP, false).flag(CKA_DERIVE, false)
        .bytes(CKA_ALLOWED_MECHANISMS, {reinterpret_cast<const std::uint8_t*>(&allowed), sizeof allowed})
        .text(CKA_LABEL, *label).bytes(CKA_ID, *id);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = CKR_OK;
    if (value == nullptr) {
        t.number(CKA_VALUE_LEN, 32);
        CK_MECHANISM mech{CKM_GENERIC_SECRET_KEY_GEN, nullptr, 0};
        rv = s->fn()->C_GenerateKey(s->handle(), &mech, t.data(), t.size(), &h);
    } else {
        t.bytes(CKA_VALUE, value->bytes());
        rv = s->fn()->C_CreateObject(s->handle(), t.data(), t.size(), &h);
    }
    if (rv != CKR_OK) {
        return std::unexpected(s->error(rv, "creating HMAC key '" + *label + "' on token '" + tokenLabel() + "'"));
    }
    return {};
}

Result<Secret> Pkcs11KeyStore::hmac(std::string_view keyUri, std::span<const std::uint8_t> data) {
    auto label = m_impl->labelOf(keyUri);
    if (!label) return std::unexpected(label.error());
    auto guard = m_impl->module->lock();
    auto s = m_impl->session();
    if (!s) return std::unexpected(s.error());
    auto h = m_impl->pool->findKey(*s, CKO_SECRET_KEY, *label);
    if (!h) return std::unexpected(h.error());
    return s->signWith(CKM_SHA256_HMAC, *h, data, 32, "HMAC with '" + *label + "'");
}

}  // namespace tte::hsm
