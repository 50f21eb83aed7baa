// Pkcs11KeyStore: per-device work (session key pairs, bulk OTPs), listing, token set-up.
#include <cstring>

#include "pkcs11_store_impl.h"
#include "tte/hsm/ck_rv.h"
#include "tte/hsm/x509.h"

namespace tte::hsm {

using detail::Session;
using detail::Template;

namespace {

// Destroys session objects when it goes out of scope, whatever happened before.
class DestroyOnExit {
public:
    explicit DestroyOnExit(Session& s) : m_session(s) {}
    ~DestroyOnExit() {
        for (CK_OBJECT_HANDLE h : m_objects) m_session.fn()->C_DestroyObject(m_session.handle(), h);
    }
    DestroyOnExit(const DestroyOnExit&) = delete;
    DestroyOnExit& operator=(const DestroyOnExit&) = delete;
    void add(CK_OBJECT_HANDLE h) {
        if (h != CK_INVALID_HANDLE) m_objects.push_back(h);
    }

private:
    Session& m_session;
    std::vector<CK_OBJECT_HANDLE> m_objects;
};

// The private scalar as exactly 32 big-endian bytes (modules may drop leading zeros).
Result<Secret> exportScalar(Session& s, CK_OBJECT_HANDLE priv) {
    auto value = s.secretAttribute(priv, CKA_VALUE, "exporting the device key");
    if (!value) return std::unexpected(value.error());
    if (value->size() > 32 || value->empty()) {
        return fail(Errc::internal, "the device key's scalar has " + std::to_string(value->size()) + " bytes");
    }
    Secret scalar(std::size_t{32});
    std::memcpy(scalar.mutableBytes().data() + (32 - value->size()), value->bytes().data(), value->size());
    return scalar;
}

}  // namespace

Result<DeviceKey> Pkcs11KeyStore::generateDeviceKey(const CertificateSpec& certificate) {
    auto guard = m_impl->module->lock();
    auto s = m_impl->session();
    if (!s) return std::unexpected(s.error());
    // Session objects only (CKA_TOKEN false): the pair vanishes with the session at the
    // latest, and is destroyed explicitly below. The private key must be exportable once.
    Template pub;
    pub.flag(CKA_TOKEN, false).flag(CKA_VERIFY, true).bytes(CKA_EC_PARAMS, detail::kP256Params);
    Template priv;
    priv.flag(CKA_TOKEN, false).flag(CKA_PRIVATE, true).flag(CKA_SENSITIVE, false).flag(CKA_EXTRACTABLE, true)
        .flag(CKA_SIGN, true).flag(CKA_DERIVE, false);
    CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_OBJECT_HANDLE hPub = CK_INVALID_HANDLE, hPriv = CK_INVALID_HANDLE;
    CK_RV rv = s->fn()->C_GenerateKeyPair(s->handle(), &mech, pub.data(), pub.size(), priv.data(), priv.size(), &hPub,
                                          &hPriv);
    if (rv != CKR_OK) return std::unexpected(s->error(rv, "generating a device key pair"));
    DestroyOnExit destroy(*s);
    destroy.add(hPub);
    destroy.add(hPriv);

    DeviceKey out;
    auto spki = detail::spkiOfPublicKey(*s, hPub, "reading the device public key");
    if (!spki) return std::unexpected(spki.error());
    out.spkiDer = std::move(*spki);
    out.publicPoint.assign(out.spkiDer.end() - 65, out.spkiDer.end());
    auto cert = buildSelfSignedCertificate(out.spkiDer, certificate, [&](std::span<const std::uint8_t> digest) {
        return detail::ecdsaSign(*s, hPriv, digest, "signing the device certificate");
    });
    if (!cert) return std::unexpected(cert.error());
    out.certificateDer = std::move(*cert);
    auto scalar = exportScalar(*s, hPriv);
    if (!scalar) return std::unexpected(scalar.error());
    out.privateScalar = std::move(*scalar);
    return out;
}

Result<std::vector<Secret>> Pkcs11KeyStore::deriveBulkOtps(std::string_view lotKeyUri, std::uint32_t boxNumber,
                                                           std::span<const std::uint32_t> devIds) {
    if (devIds.empty()) return fail(Errc::invalidArgument, "bulk OTPs: no Dev IDs given");
    auto label = m_impl->labelOf(lotKeyUri);
    if (!label) return std::unexpected(label.error());
    auto guard = m_impl->module->lock();
    auto s = m_impl->session();
    if (!s) return std::unexpected(s.error());
    auto lot = m_impl->pool->findKey(*s, CKO_SECRET_KEY, *label);
    if (!lot) return std::unexpected(lot.error());
    // PROTOCOL.md §4: box secret = HMAC(lot key, "tte-box" || box BE4), in the token.
    auto boxSecret = s->signWith(CKM_SHA256_HMAC, *lot, boxSecretMessage(boxNumber), 32,
                                 "deriving box secret with '" + *label + "'");
    if (!boxSecret) return std::unexpected(boxSecret.error());
    Template t;
    t.number(CKA_CLASS, CKO_SECRET_KEY).number(CKA_KEY_TYPE, CKK_GENERIC_SECRET).flag(CKA_TOKEN, false)
        .flag(CKA_PRIVATE, true).flag(CKA_SENSITIVE, true).flag(CKA_EXTRACTABLE, false).flag(CKA_SIGN, true)
        .bytes(CKA_VALUE, boxSecret->bytes());
    boxSecret->clear();
    CK_OBJECT_HANDLE hBox = CK_INVALID_HANDLE;
    if (CK_RV rv = s->fn()->C_CreateObject(s->handle(), t.data(), t.size(), &hBox); rv != CKR_OK) {
        return std::unexpected(s->error(rv, "importing the box secret as a session object"));
    }
    DestroyOnExit destroy(*s);
    destroy.add(hBox);
    std::vector<Secret> otps;
    otps.reserve(devIds.size());
    for (auto devId : devIds) {
        // OTP = first 8 bytes of HMAC(box secret, "tte-otp" || Dev ID BE4).
        auto mac = s->signWith(CKM_SHA256_HMAC, hBox, bulkOtpMessage(devId), 32, "deriving a bulk OTP");
        if (!mac) return std::unexpected(mac.error());
        otps.emplace_back(mac->bytes().first(8));
    }
    return otps;
}

namespace {

Result<bool> readFlag(Session& s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type) {
    auto v = s.attribute(h, type, "reading an object flag");
    if (!v) return std::unexpected(v.error());
    return !v->empty() && (*v)[0] != CK_FALSE;
}

Result<KeyInfo> describe(Session& s, CK_OBJECT_HANDLE h) {
    KeyInfo info;
    auto cls = s.attribute(h, CKA_CLASS, "reading an object class");
    if (!cls) return std::unexpected(cls.error());
    CK_OBJECT_CLASS objectClass = 0;
    std::memcpy(&objectClass, cls->data(), std::min(cls->size(), sizeof objectClass));
    auto label = s.attribute(h, CKA_LABEL, "reading an object label");
    if (!label) return std::unexpected(label.error());
    info.label.assign(label->begin(), label->end());
    auto onToken = readFlag(s, h, CKA_TOKEN);
    if (!onToken) return std::unexpected(onToken.error());
    info.onToken = *onToken;
    info.kind = objectClass == CKO_PRIVATE_KEY  ? KeyKind::signingKey
                : objectClass == CKO_PUBLIC_KEY ? KeyKind::publicKey
                : objectClass == CKO_SECRET_KEY ? KeyKind::hmacKey
                                                : KeyKind::other;
    if (objectClass == CKO_PRIVATE_KEY || objectClass == CKO_SECRET_KEY) {
        auto sensitive = readFlag(s, h, CKA_SENSITIVE);
        auto extractable = readFlag(s, h, CKA_EXTRACTABLE);
        if (!sensitive) return std::unexpected(sensitive.error());
        if (!extractable) return std::unexpected(extractable.error());
        info.sensitive = *sensitive;
        info.extractable = *extractable;
    } else {
        info.extractable = true;
    }
    return info;
}

}  // namespace

Result<std::vector<KeyInfo>> Pkcs11KeyStore::listKeys() {
    auto guard = m_impl->module->lock();
    auto s = m_impl->session();
    if (!s) return std::unexpected(s.error());
    Template all;
    auto handles = s->findObjects(all, "listing the objects of token '" + tokenLabel() + "'");
    if (!handles) return std::unexpected(handles.error());
    std::vector<KeyInfo> out;
    for (CK_OBJECT_HANDLE h : *handles) {
        auto info = describe(*s, h);
        if (!info) return std::unexpected(info.error());
        out.push_back(std::move(*info));
    }
    return out;
}

Result<TokenLoginState> tokenLoginState(const std::string& modulePath, std::string_view label) {
    auto module = detail::Module::load(modulePath);
    if (!module) return std::unexpected(module.error());
    Pkcs11Uri uri;
    uri.token = std::string(label);
    auto slot = (*module)->findToken(uri);
    if (!slot) return std::unexpected(slot.error());
    CK_TOKEN_INFO info{};
    if (CK_RV rv = (*module)->fn()->C_GetTokenInfo(*slot, &info); rv != CKR_OK)
        return std::unexpected(ckrError(rv, "asking token '" + uri.token + "' for its state"));
    TokenLoginState s;
    s.loginRequired = (info.flags & CKF_LOGIN_REQUIRED) != 0;
    s.countLow = (info.flags & CKF_USER_PIN_COUNT_LOW) != 0;
    s.finalTry = (info.flags & CKF_USER_PIN_FINAL_TRY) != 0;
    s.locked = (info.flags & CKF_USER_PIN_LOCKED) != 0;
    return s;
}

std::string loginRefusal(const Error& e, const std::optional<TokenLoginState>& state) {
    std::string out;
    if (e.nativeName == "CKR_PIN_INCORRECT") out = "the PIN is wrong (CKR_PIN_INCORRECT)";
    else if (e.nativeName == "CKR_PIN_LOCKED") out = "the PIN is locked after too many wrong tries (CKR_PIN_LOCKED): the security officer must unlock it";
    else if (e.nativeName == "CKR_PIN_LEN_RANGE") out = "the PIN is too short or too long for this token (CKR_PIN_LEN_RANGE)";
    else out = "the token refused the login: " + e.message;
    if (!state || e.nativeName == "CKR_PIN_LOCKED") return out;
    if (state->locked) out += "; the token has now locked the PIN";
    else if (state->finalTry) out += "; the token says one more wrong PIN locks it";
    else if (state->countLow) out += "; the token says few tries are left";
    return out;
}

Status initToken(const std::string& modulePath, std::string_view label, const Secret& soPin, const Secret& userPin) {
    if (label.empty() || label.size() > 32) {
        return fail(Errc::invalidArgument, "a token label has 1 to 32 bytes, got " + std::to_string(label.size()));
    }
    if (soPin.empty() || userPin.empty()) return fail(Errc::invalidArgument, "the SO PIN and user PIN must not be empty");
    auto module = detail::Module::load(modulePath);
    if (!module) return std::unexpected(module.error());
    auto& m = **module;
    Pkcs11Uri uri;
    uri.token = std::string(label);
    if (auto existing = m.findToken(uri)) {
        return fail(Errc::alreadyExists, "a token labelled '" + uri.token + "' already exists in " + modulePath);
    }
    auto slot = m.findFreeSlot();
    if (!slot) return std::unexpected(slot.error());
    unsigned char padded[32];
    std::memset(padded, ' ', sizeof padded);
    std::memcpy(padded, label.data(), label.size());
    auto so = soPin.bytes();
    if (CK_RV rv = m.fn()->C_InitToken(*slot, const_cast<CK_UTF8CHAR*>(so.data()), so.size(), padded); rv != CKR_OK) {
        return std::unexpected(ckrError(rv, "initializing token '" + uri.token + "'"));
    }
    auto newSlot = m.findToken(uri);  // SoftHSM moves an initialized token to a new slot id
    if (!newSlot) return std::unexpected(newSlot.error());
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    if (CK_RV rv = m.fn()->C_OpenSession(*newSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h);
        rv != CKR_OK) {
        return std::unexpected(ckrError(rv, "opening a session on the new token"));
    }
    auto user = userPin.bytes();
    CK_RV rv = m.fn()->C_Login(h, CKU_SO, const_cast<CK_UTF8CHAR*>(so.data()), so.size());
    if (rv == CKR_OK) {
        rv = m.fn()->C_InitPIN(h, const_cast<CK_UTF8CHAR*>(user.data()), user.size());
        m.fn()->C_Logout(h);
    }
    m.fn()->C_CloseSession(h);
    if (rv != CKR_OK) return std::unexpected(ckrError(rv, "setting the user PIN of token '" + uri.token + "'"));
    return {};
}

}  // namespace tte::hsm
