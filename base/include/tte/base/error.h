// The one error type of the project: a project code, a sentence for a person, and the
// native code of the layer it came from (CK_RV, libusb, OpenSSL, IPP, SQLite, errno, ...).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace tte {

/// What kind of failure this is, independent of the layer that reported it.
enum class Errc {
    invalidArgument,   ///< the caller's input is malformed (bad URL, bad hex, bad config)
    outOfRange,        ///< a value is well-formed but outside what is allowed
    notFound,          ///< the named thing does not exist
    alreadyExists,     ///< create of something that exists
    conflict,          ///< state does not allow the operation (OTP already used, ...)
    permissionDenied,  ///< authenticated but not allowed (revoked, read-protected, ...)
    unauthenticated,   ///< credentials missing or wrong (PIN, fingerprint, signature)
    rateLimited,       ///< too many attempts; retry later
    resourceExhausted, ///< full (token full, quota used up, disk full)
    unavailable,       ///< the peer or device is not there right now; retrying may help
    timeout,           ///< no answer within the deadline
    cancelled,         ///< stopped on request
    io,                ///< file or device I/O failed
    corrupt,           ///< stored or received data fails its integrity check (CRC, hash)
    unsupported,       ///< a version or feature we do not implement
    internal,          ///< a bug or an unexpected state of a library
};

/// Name of an Errc as written in logs and JSON (`invalid-argument`, ...).
std::string_view errcName(Errc code);

/// An error for a person and for a program. `domain`/`nativeCode`/`nativeName` keep the
/// origin (e.g. domain "PKCS#11", nativeCode 0xA0, nativeName "CKR_PIN_INCORRECT").
struct Error {
    Errc code = Errc::internal;
    std::string message;
    std::string domain;
    std::int64_t nativeCode = 0;
    std::string nativeName;

    /// One line: `message (domain nativeName/nativeCode)`.
    [[nodiscard]] std::string toString() const;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

/// Shorthand for `return tte::fail(Errc::x, "...")` in functions returning Result.
[[nodiscard]] inline std::unexpected<Error> fail(Errc code, std::string message) {
    return std::unexpected(Error{code, std::move(message), {}, 0, {}});
}

/// As fail(), with the native code of the layer below.
[[nodiscard]] inline std::unexpected<Error> failNative(Errc code, std::string message, std::string domain,
                                                       std::int64_t nativeCode, std::string nativeName = {}) {
    return std::unexpected(
        Error{code, std::move(message), std::move(domain), nativeCode, std::move(nativeName)});
}

/// Adds context in front of an error's message ("flash slot 3: " + message), keeping the rest.
[[nodiscard]] inline std::unexpected<Error> withContext(Error e, std::string_view context) {
    e.message = std::string(context) + ": " + e.message;
    return std::unexpected(std::move(e));
}

}  // namespace tte
