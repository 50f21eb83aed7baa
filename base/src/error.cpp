// Names and formatting of tte::Error.
#include "tte/base/error.h"

namespace tte {

std::string_view errcName(Errc code) {
    switch (code) {
    case Errc::invalidArgument: return "invalid-argument";
    case Errc::outOfRange: return "out-of-range";
    case Errc::notFound: return "not-found";
    case Errc::alreadyExists: return "already-exists";
    case Errc::conflict: return "conflict";
    case Errc::permissionDenied: return "permission-denied";
    case Errc::unauthenticated: return "unauthenticated";
    case Errc::rateLimited: return "rate-limited";
    case Errc::resourceExhausted: return "resource-exhausted";
    case Errc::unavailable: return "unavailable";
    case Errc::timeout: return "timeout";
    case Errc::cancelled: return "cancelled";
    case Errc::io: return "io";
    case Errc::corrupt: return "corrupt";
    case Errc::unsupported: return "unsupported";
    case Errc::internal: return "internal";
    }
    return "internal";
}

std::string Error::toString() const {
    std::string out = message;
    if (!domain.empty()) {
        out += " (" + domain;
        if (!nativeName.empty()) {
            out += " " + nativeName;
        } else {
            out += " " + std::to_string(nativeCode);
        }
        out += ")";
    }
    return out;
}

}  // namespace tte
