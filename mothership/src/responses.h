// Building HTTP responses from errors and JSON: the one mapping of tte::Errc to HTTP
// status codes (PROTOCOL §6 "Errors").
#pragma once

#include "html.h"
#include "tte/mothership/service.h"
#include "tte/protocol/mothership_messages.h"

namespace tte::mothership {

inline int httpStatusOf(Errc code) {
    switch (code) {
        case Errc::invalidArgument:
        case Errc::outOfRange: return 400;
        case Errc::unauthenticated: return 401;
        case Errc::permissionDenied: return 403;
        case Errc::notFound: return 404;
        case Errc::conflict:
        case Errc::alreadyExists: return 409;
        case Errc::rateLimited:
        case Errc::resourceExhausted: return 429;
        case Errc::unavailable:
        case Errc::cancelled:
        case Errc::timeout: return 503;
        default: return 500;
    }
}

/// A JSON answer: a protocol/ document's text, with the newline the MotherShip always ends it with.
inline HttpResponse jsonResponse(int status, std::string document) {
    return HttpResponse{status, "application/json", std::move(document) + "\n", {}};
}

/// `{"error": "<code name>", "message": "…"}` (protocol::ErrorBody) with the matching status,
/// or an HTML page.
inline HttpResponse errorResponse(Errc code, const std::string& message, bool html = false) {
    const int status = httpStatusOf(code);
    if (html) return HttpResponse{status, "text/html; charset=utf-8", errorPage(status, "Cannot enroll", message), {}};
    return jsonResponse(status, protocol::ErrorBody{code, message}.toJson());
}

inline HttpResponse errorResponse(const Error& e, bool html = false) {
    // Database internals stay in the log, not in the answer.
    if (httpStatusOf(e.code) >= 500) return errorResponse(e.code, "the registry is not available, try again later", html);
    return errorResponse(e.code, e.message, html);
}

}  // namespace tte::mothership
