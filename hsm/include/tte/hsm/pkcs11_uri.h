// RFC 7512 PKCS#11 URIs ("pkcs11:token=tte-station;object=station-key?pin-source=file:/x"):
// parsing with percent-decoding, and the PIN they point to. A token is chosen by its label,
// never by slot number, so `slot-id` is refused.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tte/base/error.h"
#include "tte/base/secret.h"
#include "tte/hsm/key_store.h"

namespace tte::hsm {

/// The attributes of a PKCS#11 URI this project uses, percent-decoded. Empty = not given.
struct Pkcs11Uri {
    // path attributes (RFC 7512 2.3)
    std::string token;          ///< token label (CK_TOKEN_INFO.label)
    std::string manufacturer;   ///< token manufacturer
    std::string model;          ///< token model
    std::string serial;         ///< token serial number
    std::string object;         ///< object label (CKA_LABEL)
    Bytes id;                   ///< object id (CKA_ID), raw bytes
    std::string type;           ///< "private", "public", "secret-key", "cert" or "data"
    // query attributes
    std::string pinSource;      ///< "file:/path", an absolute path, or "env:NAME" (project extension)
    std::optional<Secret> pinValue;  ///< the PIN itself; for tests only (a warning is given)
    std::string modulePath;     ///< module-path
    std::string moduleName;     ///< module-name
};

/// Parses a PKCS#11 URI. Percent-encoded bytes (%2F) are decoded in every attribute;
/// vendor attributes ("x-...") are ignored.
/// Errors: invalidArgument with the offending attribute named – scheme not "pkcs11:", an
/// attribute without '=', an unknown or duplicated attribute, a bad %-escape, an unknown
/// `type`, `slot-id`/`slot-description`/`slot-manufacturer` (tokens are chosen by label).
Result<Pkcs11Uri> parsePkcs11Uri(std::string_view text);

/// Where a PIN comes from when the URI gives none: a pin-source ("file:PATH", "/abs/path",
/// "env:NAME"); an empty source means none.
/// Errors: invalidArgument (unknown source form, no source at all), notFound (file or
/// variable missing), io (file unreadable), invalidArgument (empty PIN). The PIN itself
/// never appears in a message.
Result<Secret> readPin(std::string_view pinSource);

/// The PIN for `uri`: its pin-value (reported to `warn`, tests only), else its pin-source,
/// else `fallbackSource`. Errors: as readPin().
Result<Secret> resolvePin(const Pkcs11Uri& uri, std::string_view fallbackSource,
                          const std::function<void(std::string_view)>& warn);

}  // namespace tte::hsm
