// A PKCS#11 module loaded with dlopen and initialized for multi-threaded use, and the
// choice of a token by its label. Private to tte::hsm.
#pragma once

#include <p11-kit/pkcs11.h>

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "tte/base/error.h"
#include "tte/hsm/pkcs11_uri.h"

namespace tte::hsm::detail {

class Module {
public:
    /// dlopen + C_GetFunctionList + C_Initialize(CKF_OS_LOCKING_OK). A module that answers
    /// CKR_CANT_LOCK is initialized without locking and marked serialized(), and so is
    /// p11-kit's client (p11-kit-client.so), whose threads can wait for ever when its
    /// connection dies in the middle of a reply.
    /// Errors: notFound (no file, no C_GetFunctionList), CK_RV errors.
    static Result<std::unique_ptr<Module>> load(const std::string& path);
    ~Module();
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    [[nodiscard]] CK_FUNCTION_LIST* fn() const { return m_fn; }
    [[nodiscard]] const std::string& path() const { return m_path; }
    [[nodiscard]] bool serialized() const { return m_serialized; }
    /// Held around every call sequence; engaged only when the module cannot lock itself.
    [[nodiscard]] std::unique_lock<std::mutex> lock() {
        return m_serialized ? std::unique_lock(m_callMutex) : std::unique_lock<std::mutex>();
    }

    /// Held by every session borrowed from this module for as long as it is out (shared), and
    /// around reinitialize() (exclusive): C_Finalize frees what calls in flight use (p11-kit's
    /// client aborts on a freed socket), and PKCS#11 leaves finalizing during other calls
    /// undefined. A thread waiting for exclusive() keeps new sessions from starting, so that
    /// threads that keep borrowing cannot hold it off.
    [[nodiscard]] std::shared_lock<std::shared_mutex> use() {
        std::lock_guard gate(m_gate);
        return std::shared_lock(m_useMutex);
    }
    [[nodiscard]] std::unique_lock<std::shared_mutex> exclusive() {
        std::lock_guard gate(m_gate);
        return std::unique_lock(m_useMutex);
    }

    /// C_Finalize + C_Initialize again, for a module whose connection to its token died
    /// (p11-kit's client after its server went away answers CKR_DEVICE_ERROR until then).
    /// Every session and login of the module is gone afterwards. The caller holds exclusive().
    /// Errors: unavailable (another user in this process initialized it), CK_RV errors.
    Status reinitialize();
    /// The slot of the one token matching the URI's token/manufacturer/model/serial.
    /// Errors: invalidArgument (URI has no token label), notFound (listing present labels).
    Result<CK_SLOT_ID> findToken(const Pkcs11Uri& uri);
    /// A slot with a token that is not initialized yet. Errors: notFound.
    Result<CK_SLOT_ID> findFreeSlot();

private:
    Module() = default;
    void* m_handle = nullptr;
    CK_FUNCTION_LIST* m_fn = nullptr;
    std::string m_path;
    bool m_finalize = false;
    bool m_serialized = false;
    bool m_cannotLock = false;  // answered CKR_CANT_LOCK: initialized without locking arguments
    std::mutex m_callMutex;
    std::mutex m_gate;
    std::shared_mutex m_useMutex;
};

/// A fixed-width, space-padded PKCS#11 text field, without its padding.
std::string trimField(const unsigned char* field, std::size_t size);

}  // namespace tte::hsm::detail
