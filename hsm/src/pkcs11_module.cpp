// Loading and initializing a PKCS#11 module; finding a token by label.
#include "pkcs11_module.h"

#include <dlfcn.h>

#include <filesystem>
#include <vector>

#include "tte/hsm/ck_rv.h"

namespace tte::hsm::detail {

std::string trimField(const unsigned char* field, std::size_t size) {
    std::string s(reinterpret_cast<const char*>(field), size);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    return s;
}

Result<std::unique_ptr<Module>> Module::load(const std::string& path) {
    std::unique_ptr<Module> m(new Module());
    m->m_path = path;
    dlerror();
    m->m_handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (m->m_handle == nullptr) {
        const char* why = dlerror();
        return failNative(Errc::notFound, "cannot load the PKCS#11 module " + path + ": " + (why ? why : "unknown"),
                          "dlopen", 0);
    }
    auto getList = reinterpret_cast<CK_C_GetFunctionList>(dlsym(m->m_handle, "C_GetFunctionList"));
    if (getList == nullptr) {
        return failNative(Errc::notFound, path + " is not a PKCS#11 module (no C_GetFunctionList)", "dlopen", 0);
    }
    if (CK_RV rv = getList(&m->m_fn); rv != CKR_OK || m->m_fn == nullptr) {
        return std::unexpected(ckrError(rv, "C_GetFunctionList of " + path));
    }
    // p11-kit's client (p11-kit 0.24) multiplexes the calls of all threads over one
    // connection: when its server dies between a reply's header and its body, a thread that
    // read another's header waits for it for ever (rpc-transport.c, rpc_socket_read). One call
    // at a time keeps every reply read by the thread that asked for it.
    m->m_serialized = std::filesystem::path(path).filename() == "p11-kit-client.so";
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = m->m_fn->C_Initialize(&args);
    if (rv == CKR_CANT_LOCK) {
        // The module cannot use OS locks: use it single-threaded, every call under our mutex.
        rv = m->m_fn->C_Initialize(nullptr);
        m->m_serialized = m->m_cannotLock = true;
    }
    if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        // Another store in this process initialized it; the first one finalizes it.
        return m;
    }
    if (rv != CKR_OK) return std::unexpected(ckrError(rv, "C_Initialize of " + path));
    m->m_finalize = true;
    return m;
}

Status Module::reinitialize() {
    if (!m_finalize)
        return fail(Errc::unavailable, "the PKCS#11 module " + m_path + " was initialized by another user in this process");
    m_fn->C_Finalize(nullptr);  // a dead connection may answer with an error: initialize anew anyway
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = m_fn->C_Initialize(m_cannotLock ? nullptr : &args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) return std::unexpected(ckrError(rv, "C_Initialize of " + m_path));
    return {};
}

Module::~Module() {
    if (m_fn != nullptr && m_finalize) m_fn->C_Finalize(nullptr);
    if (m_handle != nullptr) dlclose(m_handle);
}

namespace {

Result<std::vector<CK_SLOT_ID>> slotsWithToken(CK_FUNCTION_LIST* fn) {
    CK_ULONG count = 0;
    if (CK_RV rv = fn->C_GetSlotList(CK_TRUE, nullptr, &count); rv != CKR_OK) {
        return std::unexpected(ckrError(rv, "C_GetSlotList"));
    }
    std::vector<CK_SLOT_ID> slots(count);
    if (count > 0) {
        if (CK_RV rv = fn->C_GetSlotList(CK_TRUE, slots.data(), &count); rv != CKR_OK) {
            return std::unexpected(ckrError(rv, "C_GetSlotList"));
        }
    }
    slots.resize(count);
    return slots;
}

bool matches(const std::string& wanted, const unsigned char* field, std::size_t size) {
    return wanted.empty() || trimField(field, size) == wanted;
}

}  // namespace

Result<CK_SLOT_ID> Module::findToken(const Pkcs11Uri& uri) {
    if (uri.token.empty()) {
        return fail(Errc::invalidArgument, "the token URI names no token (pkcs11:token=LABEL)");
    }
    auto slots = slotsWithToken(m_fn);
    if (!slots) return std::unexpected(slots.error());
    std::string present;
    for (CK_SLOT_ID slot : *slots) {
        CK_TOKEN_INFO info{};
        if (m_fn->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
        if (!(info.flags & CKF_TOKEN_INITIALIZED)) continue;
        std::string label = trimField(info.label, sizeof info.label);
        if (label == uri.token && matches(uri.manufacturer, info.manufacturerID, sizeof info.manufacturerID) &&
            matches(uri.model, info.model, sizeof info.model) &&
            matches(uri.serial, info.serialNumber, sizeof info.serialNumber)) {
            return slot;
        }
        present += (present.empty() ? "'" : ", '") + label + "'";
    }
    return fail(Errc::notFound, "no token labelled '" + uri.token + "' in " + m_path + " (tokens present: " +
                                    (present.empty() ? "none" : present) + ")");
}

Result<CK_SLOT_ID> Module::findFreeSlot() {
    auto slots = slotsWithToken(m_fn);
    if (!slots) return std::unexpected(slots.error());
    for (CK_SLOT_ID slot : *slots) {
        CK_TOKEN_INFO info{};
        if (m_fn->C_GetTokenInfo(slot, &info) == CKR_OK && !(info.flags & CKF_TOKEN_INITIALIZED)) return slot;
    }
    return fail(Errc::notFound, "no free (uninitialized) token slot in " + m_path);
}

}  // namespace tte::hsm::detail
