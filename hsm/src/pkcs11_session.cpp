// The session pool, templates and object lookup of the PKCS#11 store.
#include "pkcs11_session.h"

#include "tte/hsm/ck_rv.h"

namespace tte::hsm::detail {

std::string_view className(CK_OBJECT_CLASS objectClass) {
    switch (objectClass) {
    case CKO_PRIVATE_KEY: return "private key";
    case CKO_PUBLIC_KEY: return "public key";
    case CKO_SECRET_KEY: return "secret key";
    default: return "object";
    }
}

Template::~Template() {
    for (auto& v : m_values) {
        if (!v.empty()) secureZero(v.data(), v.size());
    }
}

Template& Template::bytes(CK_ATTRIBUTE_TYPE type, std::span<const std::uint8_t> value) {
    auto& stored = m_values.emplace_back(value.begin(), value.end());
    m_attributes.push_back(CK_ATTRIBUTE{type, stored.empty() ? nullptr : stored.data(),
                                        static_cast<CK_ULONG>(stored.size())});
    return *this;
}

Template& Template::flag(CK_ATTRIBUTE_TYPE type, bool value) {
    CK_BBOOL b = value ? CK_TRUE : CK_FALSE;
    return bytes(type, {&b, 1});
}

Template& Template::number(CK_ATTRIBUTE_TYPE type, CK_ULONG value) {
    return bytes(type, {reinterpret_cast<const std::uint8_t*>(&value), sizeof value});
}

Template& Template::text(CK_ATTRIBUTE_TYPE type, std::string_view value) {
    return bytes(type, {reinterpret_cast<const std::uint8_t*>(value.data()), value.size()});
}

Session::~Session() {
    if (m_pool != nullptr) m_pool->release(m_handle, m_attachment, m_broken);
}

CK_FUNCTION_LIST* Session::fn() const { return m_pool->module().fn(); }

Error Session::error(CK_RV rv, std::string_view context) {
    switch (rv) {
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_ERROR:
    case CKR_USER_NOT_LOGGED_IN:
        m_broken = true;
        break;
    default: break;
    }
    return ckrError(rv, context);
}

Result<Bytes> Session::attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, std::string_view what) {
    CK_ATTRIBUTE a{type, nullptr, 0};
    if (CK_RV rv = fn()->C_GetAttributeValue(m_handle, object, &a, 1); rv != CKR_OK) {
        return std::unexpected(error(rv, what));
    }
    Bytes out(a.ulValueLen);
    a.pValue = out.data();
    if (CK_RV rv = fn()->C_GetAttributeValue(m_handle, object, &a, 1); rv != CKR_OK) {
        return std::unexpected(error(rv, what));
    }
    out.resize(a.ulValueLen);
    return out;
}

Result<Secret> Session::secretAttribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, std::string_view what) {
    CK_ATTRIBUTE a{type, nullptr, 0};
    if (CK_RV rv = fn()->C_GetAttributeValue(m_handle, object, &a, 1); rv != CKR_OK) {
        return std::unexpected(error(rv, what));
    }
    Secret out(static_cast<std::size_t>(a.ulValueLen));
    a.pValue = out.mutableBytes().data();
    if (CK_RV rv = fn()->C_GetAttributeValue(m_handle, object, &a, 1); rv != CKR_OK) {
        return std::unexpected(error(rv, what));
    }
    if (a.ulValueLen != out.size()) return fail(Errc::internal, std::string(what) + ": the value changed size");
    return out;
}

Result<std::vector<CK_OBJECT_HANDLE>> Session::findObjects(Template& match, std::string_view what) {
    if (CK_RV rv = fn()->C_FindObjectsInit(m_handle, match.data(), match.size()); rv != CKR_OK) {
        return std::unexpected(error(rv, what));
    }
    std::vector<CK_OBJECT_HANDLE> found;
    CK_RV rv = CKR_OK;
    for (;;) {
        CK_OBJECT_HANDLE batch[64];
        CK_ULONG n = 0;
        rv = fn()->C_FindObjects(m_handle, batch, 64, &n);
        if (rv != CKR_OK || n == 0) break;
        found.insert(found.end(), batch, batch + n);
    }
    CK_RV finalRv = fn()->C_FindObjectsFinal(m_handle);
    if (rv == CKR_OK) rv = finalRv;
    if (rv != CKR_OK) return std::unexpected(error(rv, what));
    return found;
}

Result<Secret> Session::signWith(CK_MECHANISM_TYPE mechanism, CK_OBJECT_HANDLE key,
                                 std::span<const std::uint8_t> data, std::size_t outputSize, std::string_view what) {
    CK_MECHANISM mech{mechanism, nullptr, 0};
    if (CK_RV rv = fn()->C_SignInit(m_handle, &mech, key); rv != CKR_OK) return std::unexpected(error(rv, what));
    Secret out(outputSize);
    CK_ULONG len = static_cast<CK_ULONG>(outputSize);
    CK_RV rv = fn()->C_Sign(m_handle, const_cast<CK_BYTE*>(data.data()), static_cast<CK_ULONG>(data.size()),
                            out.mutableBytes().data(), &len);
    if (rv != CKR_OK) return std::unexpected(error(rv, what));
    if (len != outputSize) {
        return fail(Errc::internal, std::string(what) + ": the token returned " + std::to_string(len) +
                                        " bytes, expected " + std::to_string(outputSize));
    }
    return out;
}

SessionPool::~SessionPool() {
    for (CK_SESSION_HANDLE h : m_idle) m_module.fn()->C_CloseSession(h);
}

namespace {

/// A C_Login answer that says the PIN itself is refused: trying it again only burns a try.
bool pinRefused(CK_RV rv) {
    return rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_EXPIRED ||
           rv == CKR_PIN_LOCKED;
}

/// C_OpenSession's answers that say the module lost the token or its connection to it.
bool tokenLost(CK_RV rv) {
    return rv == CKR_DEVICE_ERROR || rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_SLOT_ID_INVALID ||
           rv == CKR_CRYPTOKI_NOT_INITIALIZED;
}

}  // namespace

Result<Session> SessionPool::acquire() {
    // Shared while the session is out; reattach() waits for every one to come back.
    auto use = m_module.use();
    std::uint64_t seen = 0;
    {
        std::lock_guard lock(m_mutex);
        if (m_refused) return std::unexpected(*m_refused);
        if (!m_idle.empty()) {
            CK_SESSION_HANDLE h = m_idle.back();
            m_idle.pop_back();
            return Session(*this, h, m_attachment, std::move(use));
        }
        ++m_open;
        seen = m_attachment;
    }
    auto session = openLoggedIn(use);
    if (session || session.error().domain != "PKCS#11" || !tokenLost(static_cast<CK_RV>(session.error().nativeCode)))
        return session;
    // The token (or the module's way to it) went away: a module that cannot find it again
    // without starting over (p11-kit's client after its server died) is initialized anew.
    if (use.owns_lock()) use.unlock();
    if (!reattach(seen)) return session;
    use = m_module.use();
    {
        std::lock_guard lock(m_mutex);
        ++m_open;
    }
    return openLoggedIn(use);
}

Result<Session> SessionPool::openLoggedIn(std::shared_lock<std::shared_mutex>& use) {
    CK_FUNCTION_LIST* fn = m_module.fn();
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    const std::uint64_t attachment = m_attachment;
    CK_RV rv = fn->C_OpenSession(m_slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h);
    if (rv != CKR_OK) {
        std::lock_guard lock(m_mutex);
        --m_open;
        return std::unexpected(ckrError(rv, "opening a session on token '" + m_token + "'"));
    }
    Session session(*this, h, attachment, std::move(use));
    auto pin = m_pin.bytes();
    rv = fn->C_Login(h, CKU_USER, const_cast<CK_UTF8CHAR*>(pin.data()), static_cast<CK_ULONG>(pin.size()));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
        session.markBroken();
        Error e = ckrError(rv, "logging in to token '" + m_token + "'");
        if (pinRefused(rv)) {
            std::lock_guard lock(m_mutex);
            m_refused = e;
            m_refused->message += " (not tried again with this PIN)";
        }
        return std::unexpected(std::move(e));
    }
    return session;
}

bool SessionPool::reattach(std::uint64_t seen) {
    // No call of this module in flight from here on: C_Finalize frees what such a call uses.
    const auto exclusive = m_module.exclusive();
    if (m_attachment != seen) return true;  // another thread initialized it anew meanwhile
    {
        std::lock_guard lock(m_mutex);
        m_open -= m_idle.size();
        m_idle.clear();  // their handles died with the module's connection
        m_keys.clear();
        ++m_attachment;
    }
    if (!m_module.reinitialize()) return false;
    auto slot = m_module.findToken(m_uri);
    if (!slot) return false;
    m_slot = *slot;
    return true;
}

void SessionPool::release(CK_SESSION_HANDLE handle, std::uint64_t attachment, bool broken) {
    std::vector<CK_SESSION_HANDLE> close;
    {
        std::lock_guard lock(m_mutex);
        if (attachment != m_attachment) {
            --m_open;  // a handle of the module before it was initialized anew: void, not closed
            return;
        }
        if (!broken) {
            m_idle.push_back(handle);
            return;
        }
        // A session that died usually took its siblings with it (C_CloseAllSessions, token
        // removal, logout): drop every idle session and the cached handles too.
        close.swap(m_idle);
        close.push_back(handle);
        m_open -= close.size();
        m_keys.clear();
    }
    for (CK_SESSION_HANDLE h : close) m_module.fn()->C_CloseSession(h);
}

std::size_t SessionPool::openSessions() const {
    std::lock_guard lock(m_mutex);
    return m_open;
}

Result<CK_OBJECT_HANDLE> SessionPool::findKey(Session& session, CK_OBJECT_CLASS objectClass,
                                              const std::string& label) {
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_keys.find({objectClass, label}); it != m_keys.end()) return it->second;
    }
    Template match;
    match.number(CKA_CLASS, objectClass).text(CKA_LABEL, label);
    auto found = session.findObjects(match, "looking for '" + label + "' on token '" + m_token + "'");
    if (!found) return std::unexpected(found.error());
    if (found->empty()) {
        return fail(Errc::notFound,
                    "no " + std::string(className(objectClass)) + " '" + label + "' on token '" + m_token + "'");
    }
    if (found->size() > 1) {
        return fail(Errc::conflict, std::to_string(found->size()) + " " + std::string(className(objectClass)) +
                                        " objects are labelled '" + label + "' on token '" + m_token + "'");
    }
    std::lock_guard lock(m_mutex);
    m_keys[{objectClass, label}] = found->front();
    return found->front();
}

void SessionPool::forgetKey(CK_OBJECT_CLASS objectClass, const std::string& label) {
    std::lock_guard lock(m_mutex);
    m_keys.erase({objectClass, label});
}

}  // namespace tte::hsm::detail
