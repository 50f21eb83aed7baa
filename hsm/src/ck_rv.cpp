// The complete table of PKCS#11 v2.40 return values (OASIS PKCS#11 Base Specification v2.40,
// section 5.1), with the project's error class and a sentence for the operator.
#include "tte/hsm/ck_rv.h"

#include <cstdio>

#include <p11-kit/pkcs11.h>

namespace tte::hsm {
namespace {

struct CkrEntry {
    unsigned long rv;
    std::string_view name;
    Errc errc;
    std::string_view sentence;
};

constexpr CkrEntry kTable[] = {
    {CKR_OK, "CKR_OK", Errc::internal,
     "the operation succeeded"},
    {CKR_CANCEL, "CKR_CANCEL", Errc::cancelled,
     "the operation was cancelled"},
    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY", Errc::resourceExhausted,
     "the host ran out of memory for the PKCS#11 module"},
    {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID", Errc::notFound,
     "the slot does not exist (any more)"},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR", Errc::internal,
     "the module reported a general error (SoftHSM: often a token directory that cannot be written or a full disk)"},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED", Errc::internal,
     "the module could not carry out the function"},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD", Errc::internal,
     "the module rejected the arguments of the call (a bug in the caller)"},
    {CKR_NO_EVENT, "CKR_NO_EVENT", Errc::unavailable,
     "no slot event is pending"},
    {CKR_NEED_TO_CREATE_THREADS, "CKR_NEED_TO_CREATE_THREADS", Errc::unsupported,
     "the module needs to create threads but was not allowed to"},
    {CKR_CANT_LOCK, "CKR_CANT_LOCK", Errc::unsupported,
     "the module cannot provide the requested locking"},
    {CKR_ATTRIBUTE_READ_ONLY, "CKR_ATTRIBUTE_READ_ONLY", Errc::permissionDenied,
     "the attribute is read-only"},
    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE", Errc::permissionDenied,
     "the attribute is sensitive and cannot be read from the token"},
    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID", Errc::invalidArgument,
     "the token does not know this attribute type"},
    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID", Errc::invalidArgument,
     "an attribute value is invalid for this token"},
    {CKR_ACTION_PROHIBITED, "CKR_ACTION_PROHIBITED", Errc::permissionDenied,
     "the token's policy prohibits this action"},
    {CKR_DATA_INVALID, "CKR_DATA_INVALID", Errc::invalidArgument,
     "the input data is invalid for this mechanism"},
    {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE", Errc::invalidArgument,
     "the input data has a length this mechanism does not accept"},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR", Errc::unavailable,
     "the token device reported an error"},
    {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY", Errc::resourceExhausted,
     "the token is full (out of device memory)"},
    {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED", Errc::unavailable,
     "the token was removed"},
    {CKR_ENCRYPTED_DATA_INVALID, "CKR_ENCRYPTED_DATA_INVALID", Errc::invalidArgument,
     "the encrypted data is invalid"},
    {CKR_ENCRYPTED_DATA_LEN_RANGE, "CKR_ENCRYPTED_DATA_LEN_RANGE", Errc::invalidArgument,
     "the encrypted data has an invalid length"},
    {CKR_FUNCTION_CANCELED, "CKR_FUNCTION_CANCELED", Errc::cancelled,
     "the function was cancelled"},
    {CKR_FUNCTION_NOT_PARALLEL, "CKR_FUNCTION_NOT_PARALLEL", Errc::unsupported,
     "the function cannot run in parallel"},
    {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED", Errc::unsupported,
     "the module does not support this function"},
    {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID", Errc::notFound,
     "the key object no longer exists"},
    {CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE", Errc::unsupported,
     "the key size is outside what the token supports"},
    {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT", Errc::invalidArgument,
     "the key has the wrong type for this mechanism"},
    {CKR_KEY_NOT_NEEDED, "CKR_KEY_NOT_NEEDED", Errc::invalidArgument,
     "a key was given where none is needed"},
    {CKR_KEY_CHANGED, "CKR_KEY_CHANGED", Errc::conflict,
     "the key changed since it was last used"},
    {CKR_KEY_NEEDED, "CKR_KEY_NEEDED", Errc::invalidArgument,
     "a key is needed and was not given"},
    {CKR_KEY_INDIGESTIBLE, "CKR_KEY_INDIGESTIBLE", Errc::unsupported,
     "the key cannot be digested"},
    {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED", Errc::permissionDenied,
     "the key's attributes do not permit this operation"},
    {CKR_KEY_NOT_WRAPPABLE, "CKR_KEY_NOT_WRAPPABLE", Errc::permissionDenied,
     "the key cannot be wrapped"},
    {CKR_KEY_UNEXTRACTABLE, "CKR_KEY_UNEXTRACTABLE", Errc::permissionDenied,
     "the key is not extractable"},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID", Errc::unsupported,
     "the token does not support this mechanism (or not with this key)"},
    {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID", Errc::invalidArgument,
     "the mechanism's parameters are invalid"},
    {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID", Errc::notFound,
     "the object no longer exists"},
    {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE", Errc::conflict,
     "another operation is still active in this session"},
    {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED", Errc::internal,
     "the operation was not initialized in this session"},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT", Errc::unauthenticated,
     "the PIN is wrong; check the PIN file (too many wrong PINs lock the token)"},
    {CKR_PIN_INVALID, "CKR_PIN_INVALID", Errc::invalidArgument,
     "the PIN contains characters the token does not accept"},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE", Errc::invalidArgument,
     "the PIN is too short or too long for this token"},
    {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED", Errc::unauthenticated,
     "the PIN has expired; set a new one"},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED", Errc::permissionDenied,
     "the PIN is locked after too many wrong attempts; the security officer must reset it"},
    {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED", Errc::unavailable,
     "the session was closed"},
    {CKR_SESSION_COUNT, "CKR_SESSION_COUNT", Errc::resourceExhausted,
     "the token cannot open more sessions"},
    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID", Errc::unavailable,
     "the session is no longer valid (closed or the token was reset)"},
    {CKR_SESSION_PARALLEL_NOT_SUPPORTED, "CKR_SESSION_PARALLEL_NOT_SUPPORTED", Errc::unsupported,
     "the token does not support parallel sessions"},
    {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY", Errc::permissionDenied,
     "the session is read-only"},
    {CKR_SESSION_EXISTS, "CKR_SESSION_EXISTS", Errc::conflict,
     "a session with the token is still open"},
    {CKR_SESSION_READ_ONLY_EXISTS, "CKR_SESSION_READ_ONLY_EXISTS", Errc::conflict,
     "a read-only session exists, so the security officer cannot log in"},
    {CKR_SESSION_READ_WRITE_SO_EXISTS, "CKR_SESSION_READ_WRITE_SO_EXISTS", Errc::conflict,
     "a security officer session exists"},
    {CKR_SIGNATURE_INVALID, "CKR_SIGNATURE_INVALID", Errc::unauthenticated,
     "the signature is invalid"},
    {CKR_SIGNATURE_LEN_RANGE, "CKR_SIGNATURE_LEN_RANGE", Errc::unauthenticated,
     "the signature has the wrong length"},
    {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE", Errc::invalidArgument,
     "the object template lacks a required attribute"},
    {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT", Errc::invalidArgument,
     "the object template has conflicting attributes"},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT", Errc::unavailable,
     "no token is present in the slot"},
    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED", Errc::unsupported,
     "the module does not recognize the token"},
    {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED", Errc::permissionDenied,
     "the token is write-protected (read-only)"},
    {CKR_UNWRAPPING_KEY_HANDLE_INVALID, "CKR_UNWRAPPING_KEY_HANDLE_INVALID", Errc::notFound,
     "the unwrapping key does not exist"},
    {CKR_UNWRAPPING_KEY_SIZE_RANGE, "CKR_UNWRAPPING_KEY_SIZE_RANGE", Errc::unsupported,
     "the unwrapping key has an unsupported size"},
    {CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT", Errc::invalidArgument,
     "the unwrapping key has the wrong type"},
    {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN", Errc::conflict,
     "the user is already logged in"},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN", Errc::unauthenticated,
     "the user is not logged in to the token"},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED", Errc::unauthenticated,
     "the token has no user PIN yet; initialize it (tte-hsm init)"},
    {CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID", Errc::invalidArgument,
     "the user type is invalid"},
    {CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN", Errc::conflict,
     "another user is already logged in to the token"},
    {CKR_USER_TOO_MANY_TYPES, "CKR_USER_TOO_MANY_TYPES", Errc::conflict,
     "too many different users are logged in"},
    {CKR_WRAPPED_KEY_INVALID, "CKR_WRAPPED_KEY_INVALID", Errc::invalidArgument,
     "the wrapped key is invalid"},
    {CKR_WRAPPED_KEY_LEN_RANGE, "CKR_WRAPPED_KEY_LEN_RANGE", Errc::invalidArgument,
     "the wrapped key has an invalid length"},
    {CKR_WRAPPING_KEY_HANDLE_INVALID, "CKR_WRAPPING_KEY_HANDLE_INVALID", Errc::notFound,
     "the wrapping key does not exist"},
    {CKR_WRAPPING_KEY_SIZE_RANGE, "CKR_WRAPPING_KEY_SIZE_RANGE", Errc::unsupported,
     "the wrapping key has an unsupported size"},
    {CKR_WRAPPING_KEY_TYPE_INCONSISTENT, "CKR_WRAPPING_KEY_TYPE_INCONSISTENT", Errc::invalidArgument,
     "the wrapping key has the wrong type"},
    {CKR_RANDOM_SEED_NOT_SUPPORTED, "CKR_RANDOM_SEED_NOT_SUPPORTED", Errc::unsupported,
     "the token's random generator cannot be seeded"},
    {CKR_RANDOM_NO_RNG, "CKR_RANDOM_NO_RNG", Errc::unsupported,
     "the token has no random number generator"},
    {CKR_DOMAIN_PARAMS_INVALID, "CKR_DOMAIN_PARAMS_INVALID", Errc::invalidArgument,
     "the domain parameters are invalid"},
    {CKR_CURVE_NOT_SUPPORTED, "CKR_CURVE_NOT_SUPPORTED", Errc::unsupported,
     "the token does not support this elliptic curve"},
    {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL", Errc::internal,
     "the output buffer was too small"},
    {CKR_SAVED_STATE_INVALID, "CKR_SAVED_STATE_INVALID", Errc::invalidArgument,
     "the saved state is invalid"},
    {CKR_INFORMATION_SENSITIVE, "CKR_INFORMATION_SENSITIVE", Errc::permissionDenied,
     "the information is sensitive"},
    {CKR_STATE_UNSAVEABLE, "CKR_STATE_UNSAVEABLE", Errc::unsupported,
     "the state cannot be saved"},
    {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED", Errc::internal,
     "the module was not initialized"},
    {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED", Errc::conflict,
     "the module was already initialized in this process"},
    {CKR_MUTEX_BAD, "CKR_MUTEX_BAD", Errc::internal,
     "a bad mutex object was passed to the module"},
    {CKR_MUTEX_NOT_LOCKED, "CKR_MUTEX_NOT_LOCKED", Errc::internal,
     "a mutex that was not locked was unlocked"},
    {CKR_NEW_PIN_MODE, "CKR_NEW_PIN_MODE", Errc::unauthenticated,
     "the token asks for a new PIN"},
    {CKR_NEXT_OTP, "CKR_NEXT_OTP", Errc::unauthenticated,
     "the token asks for the next one-time password"},
    {CKR_EXCEEDED_MAX_ITERATIONS, "CKR_EXCEEDED_MAX_ITERATIONS", Errc::internal,
     "the mechanism exceeded its maximum number of iterations"},
    {CKR_FIPS_SELF_TEST_FAILED, "CKR_FIPS_SELF_TEST_FAILED", Errc::internal,
     "the module's FIPS self-test failed"},
    {CKR_LIBRARY_LOAD_FAILED, "CKR_LIBRARY_LOAD_FAILED", Errc::unavailable,
     "the module could not load a library it needs"},
    {CKR_PIN_TOO_WEAK, "CKR_PIN_TOO_WEAK", Errc::invalidArgument,
     "the PIN is too weak for this token"},
    {CKR_PUBLIC_KEY_INVALID, "CKR_PUBLIC_KEY_INVALID", Errc::invalidArgument,
     "the public key is invalid"},
    {CKR_FUNCTION_REJECTED, "CKR_FUNCTION_REJECTED", Errc::permissionDenied,
     "the token rejected the function (policy or user refusal)"},
};

const CkrEntry* findEntry(unsigned long rv) {
    for (const auto& e : kTable) {
        if (e.rv == rv) return &e;
    }
    return nullptr;
}

std::string hexCode(unsigned long rv) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%lx", rv);
    return buf;
}

}  // namespace

std::string ckrName(unsigned long rv) {
    if (const auto* e = findEntry(rv)) return std::string(e->name);
    if (rv >= CKR_VENDOR_DEFINED) return "CKR_VENDOR_DEFINED+" + hexCode(rv - CKR_VENDOR_DEFINED);
    return "CKR_" + hexCode(rv);
}

std::string_view ckrSentence(unsigned long rv) {
    if (const auto* e = findEntry(rv)) return e->sentence;
    if (rv >= CKR_VENDOR_DEFINED) return "the module failed with a vendor-specific code";
    return "the module failed with a code PKCS#11 v2.40 does not define";
}

Errc ckrErrc(unsigned long rv) {
    if (const auto* e = findEntry(rv)) return e->errc;
    return Errc::internal;
}

Error ckrError(unsigned long rv, std::string_view context) {
    std::string message(context);
    message += ": ";
    message += ckrSentence(rv);
    return Error{ckrErrc(rv), std::move(message), "PKCS#11", static_cast<std::int64_t>(rv), ckrName(rv)};
}

}  // namespace tte::hsm
