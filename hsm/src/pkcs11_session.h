// Inside the PKCS#11 store: the session pool, object templates and key lookup. Private.
#pragma once

#include <p11-kit/pkcs11.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pkcs11_module.h"
#include "tte/base/secret.h"
#include "tte/hsm/pkcs11_key_store.h"
#include "tte/hsm/pkcs11_uri.h"

namespace tte::hsm::detail {

/// An attribute template that owns its values (and zeroizes them when it goes).
class Template {
public:
    Template() = default;
    ~Template();
    Template(const Template&) = delete;
    Template& operator=(const Template&) = delete;
    Template& flag(CK_ATTRIBUTE_TYPE type, bool value);
    Template& number(CK_ATTRIBUTE_TYPE type, CK_ULONG value);
    Template& bytes(CK_ATTRIBUTE_TYPE type, std::span<const std::uint8_t> value);
    Template& text(CK_ATTRIBUTE_TYPE type, std::string_view value);
    CK_ATTRIBUTE* data() { return m_attributes.data(); }
    [[nodiscard]] CK_ULONG size() const { return static_cast<CK_ULONG>(m_attributes.size()); }

private:
    std::deque<std::vector<std::uint8_t>> m_values;
    std::vector<CK_ATTRIBUTE> m_attributes;
};

class SessionPool;

/// A session borrowed from the pool for one operation; returned when it goes out of scope.
class Session {
public:
    /// `use`: the module's use lock (Module::use), held until the session is back.
    Session(SessionPool& pool, CK_SESSION_HANDLE handle, std::uint64_t attachment, std::shared_lock<std::shared_mutex> use)
        : m_use(std::move(use)), m_pool(&pool), m_handle(handle), m_attachment(attachment) {}
    ~Session();
    Session(Session&& other) noexcept
        : m_use(std::move(other.m_use)), m_pool(std::exchange(other.m_pool, nullptr)), m_handle(other.m_handle),
          m_attachment(other.m_attachment), m_broken(other.m_broken) {}
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    Session& operator=(Session&&) = delete;

    [[nodiscard]] CK_SESSION_HANDLE handle() const { return m_handle; }
    [[nodiscard]] CK_FUNCTION_LIST* fn() const;
    /// The error for a failed call; a code that means the session or login is gone marks
    /// the session broken, so the pool drops it (and its idle siblings).
    Error error(CK_RV rv, std::string_view context);

    /// The session is not to be reused (closed when it goes back to the pool).
    void markBroken() { m_broken = true; }
    /// Reads one attribute (two-call form). Errors: CK_RV (e.g. CKR_ATTRIBUTE_SENSITIVE).
    Result<Bytes> attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, std::string_view what);
    /// Reads one attribute into a Secret.
    Result<Secret> secretAttribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type, std::string_view what);
    /// Every object matching the template.
    Result<std::vector<CK_OBJECT_HANDLE>> findObjects(Template& match, std::string_view what);
    /// One-shot C_SignInit + C_Sign with a known output size.
    Result<Secret> signWith(CK_MECHANISM_TYPE mechanism, CK_OBJECT_HANDLE key, std::span<const std::uint8_t> data,
                            std::size_t outputSize, std::string_view what);

private:
    std::shared_lock<std::shared_mutex> m_use;  // released after the destructor gave the session back
    SessionPool* m_pool;
    CK_SESSION_HANDLE m_handle;
    std::uint64_t m_attachment;  // the pool's attachment to the module the handle belongs to
    bool m_broken = false;
};

/// Logged-in sessions on one token, at most one user per session at a time.
class SessionPool {
public:
    SessionPool(Module& module, CK_SLOT_ID slot, Pkcs11Uri uri, Secret pin)
        : m_module(module), m_slot(slot), m_uri(std::move(uri)), m_token(m_uri.token), m_pin(std::move(pin)) {}
    ~SessionPool();

    /// An idle session, or a new one (C_OpenSession RW + C_Login as user;
    /// CKR_USER_ALREADY_LOGGED_IN counts as success). Once the token refused the PIN
    /// (CKR_PIN_INCORRECT, _INVALID, _LEN_RANGE, _EXPIRED, _LOCKED) the pool never logs in with
    /// it again – each wrong try counts towards locking the token – and returns that refusal.
    /// A module that lost its token (C_OpenSession: CKR_DEVICE_ERROR, _REMOVED, TOKEN_NOT_PRESENT,
    /// SLOT_ID_INVALID, CRYPTOKI_NOT_INITIALIZED) is initialized anew, once every session out is
    /// back, and the token looked up by its URI again; the error stays the module's while the
    /// token is not back. A thread must not hold a session while it acquires another.
    Result<Session> acquire();
    void release(CK_SESSION_HANDLE handle, std::uint64_t attachment, bool broken);
    [[nodiscard]] std::size_t openSessions() const;
    [[nodiscard]] Module& module() { return m_module; }
    [[nodiscard]] const std::string& token() const { return m_token; }

    /// The handle of the object of `objectClass` labelled `label` (cached).
    /// Errors: notFound naming the label and token, conflict (two objects with that label).
    Result<CK_OBJECT_HANDLE> findKey(Session& session, CK_OBJECT_CLASS objectClass, const std::string& label);
    /// Forgets a cached handle (after CKR_OBJECT_HANDLE_INVALID / CKR_KEY_HANDLE_INVALID).
    void forgetKey(CK_OBJECT_CLASS objectClass, const std::string& label);

private:
    /// C_OpenSession + C_Login on the current slot; the session takes `use` along.
    Result<Session> openLoggedIn(std::shared_lock<std::shared_mutex>& use);
    /// Initializes the module anew and finds the token again, unless another thread did since
    /// the attachment `seen`; false while the token is not back.
    bool reattach(std::uint64_t seen);

    Module& m_module;
    std::atomic<CK_SLOT_ID> m_slot;
    Pkcs11Uri m_uri;
    std::string m_token;
    std::atomic<std::uint64_t> m_attachment{0};  // bumped by reattach(): older handles are void
    Secret m_pin;
    mutable std::mutex m_mutex;
    std::vector<CK_SESSION_HANDLE> m_idle;
    std::size_t m_open = 0;
    std::optional<Error> m_refused;  // the token's refusal of m_pin: not tried again
    std::map<std::pair<CK_OBJECT_CLASS, std::string>, CK_OBJECT_HANDLE> m_keys;
};

/// "private key", "public key", "secret key" for messages.
std::string_view className(CK_OBJECT_CLASS objectClass);

}  // namespace tte::hsm::detail
