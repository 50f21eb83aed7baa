// Private: strict reading of one JSON (or CBOR) object – unknown and duplicate keys refused,
// required fields and their types checked, every error naming the document and the field.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tte/base/error.h"
#include "tte/protocol/ids.h"

namespace tte::protocol {
struct ControllerInfo;
}  // namespace tte::protocol

namespace tte::protocol::detail {

inline constexpr std::size_t kMaxDocumentSize = 1 << 20;

/// Parses JSON text; refuses invalid JSON ("invalid JSON at byte N"), duplicate keys at any
/// depth ("duplicate field 'x'") and documents over 1 MiB. Errors start "<what>: ".
Result<nlohmann::json> parseJsonText(std::string_view text, std::string_view what);

/// Parses CBOR bytes (RFC 8949, as nlohmann::json reads it). Errors: "<what>: invalid CBOR".
Result<nlohmann::json> parseCbor(std::span<const std::uint8_t> bytes, std::string_view what);

/// Dumps compactly; invalid UTF-8 is replaced, never thrown.
std::string dumpJson(const nlohmann::json& j);

class JsonObject {
public:
    /// Errors: "<what>: expected a JSON object", "<what>: unknown field 'x'".
    static Result<JsonObject> from(const nlohmann::json& j, std::string_view what,
                                   std::initializer_list<std::string_view> allowed);

    Result<std::string> string(std::string_view key) const;
    /// Absent or null gives nullopt.
    Result<std::optional<std::string>> optionalString(std::string_view key) const;
    Result<std::uint64_t> integer(std::string_view key, std::uint64_t min, std::uint64_t max) const;
    Result<const nlohmann::json*> array(std::string_view key) const;

    /// "<what>: field '<key>': <message>" (for format errors of a field's value).
    [[nodiscard]] std::unexpected<Error> fieldError(std::string_view key, const Error& e) const;
    [[nodiscard]] std::unexpected<Error> error(std::string message) const;
    [[nodiscard]] const std::string& what() const { return m_what; }

private:
    JsonObject(const nlohmann::json& j, std::string what) : m_json(&j), m_what(std::move(what)) {}
    Result<const nlohmann::json*> required(std::string_view key) const;

    const nlohmann::json* m_json;
    std::string m_what;
};

/// Reads a required string field and parses it with `parse` (string_view -> Result<T>);
/// a parse failure becomes "<what>: field '<key>': <message>".
template <class Parse>
auto readField(const JsonObject& o, std::string_view key, Parse parse) -> decltype(parse(std::string_view())) {
    auto text = o.string(key);
    if (!text) return std::unexpected(text.error());
    auto value = parse(std::string_view(*text));
    if (!value) return o.fieldError(key, value.error());
    return value;
}

/// Reads an optional PSK field (64 hex digits; §11); absent or null gives nullopt. The field's
/// text is wiped once parsed. Errors: "<what>: field '<key>': <key>: …" (parsePsk's messages).
Result<std::optional<Psk>> readOptionalPsk(const JsonObject& o, std::string_view key);

/// Reads the Controller's cip, cport and cfingerprint (mothership_messages.cpp; the PSK is
/// left to the caller). Errors: the fields' "<what>: field '<key>': …" messages.
Result<ControllerInfo> readControllerAddress(const JsonObject& o);

/// Checks `text` is at most `max` bytes of valid UTF-8 without control characters.
/// Errors: invalidArgument "longer than N bytes", "not valid UTF-8", "contains a control character".
Status checkText(std::string_view text, std::size_t max);

/// Checks `text` is 1-64 of [A-Za-z0-9._-]. Errors: invalidArgument "must be 1-64 of [A-Za-z0-9._-]".
Status checkName(std::string_view text);

}  // namespace tte::protocol::detail
