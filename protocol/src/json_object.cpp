// Strict JSON/CBOR object reading for the message documents.
#include "json_object.h"

#include <set>
#include <vector>

#include "tte/base/secret.h"

namespace tte::protocol::detail {

using nlohmann::json;

Result<json> parseJsonText(std::string_view text, std::string_view what) {
    const std::string prefix = std::string(what) + ": ";
    if (text.size() > kMaxDocumentSize) {
        return fail(Errc::invalidArgument, prefix + "document longer than " + std::to_string(kMaxDocumentSize) + " bytes");
    }
    std::vector<std::set<std::string>> keys;
    std::string duplicate;
    auto callback = [&](int, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) keys.emplace_back();
        if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
        if (event == json::parse_event_t::key && !keys.empty() && duplicate.empty()) {
            const auto& key = parsed.get_ref<const std::string&>();
            if (!keys.back().insert(key).second) duplicate = key;
        }
        return true;
    };
    try {
        json j = json::parse(text.begin(), text.end(), callback);
        if (!duplicate.empty()) return fail(Errc::invalidArgument, prefix + "duplicate field '" + duplicate + "'");
        return j;
    } catch (const json::parse_error& e) {
        return fail(Errc::invalidArgument, prefix + "invalid JSON at byte " + std::to_string(e.byte));
    } catch (const json::exception&) {
        return fail(Errc::invalidArgument, prefix + "invalid JSON");
    }
}

Result<json> parseCbor(std::span<const std::uint8_t> bytes, std::string_view what) {
    if (bytes.size() > kMaxDocumentSize) {
        return fail(Errc::invalidArgument, std::string(what) + ": document longer than 1048576 bytes");
    }
    try {
        // nlohmann throws for some inputs even with allow_exceptions = false (an array length
        // beyond max_size() in json_sax_dom_parser::start_array), so catch as well.
        json j = json::from_cbor(bytes.begin(), bytes.end(), true, false);
        if (!j.is_discarded()) return j;
    } catch (const json::exception&) {
    }
    return fail(Errc::invalidArgument, std::string(what) + ": invalid CBOR");
}

std::string dumpJson(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Result<JsonObject> JsonObject::from(const json& j, std::string_view what, std::initializer_list<std::string_view> allowed) {
    JsonObject o(j, std::string(what));
    if (!j.is_object()) return o.error("expected a JSON object");
    for (const auto& item : j.items()) {
        bool known = false;
        for (std::string_view a : allowed) known = known || a == item.key();
        if (!known) return o.error("unknown field '" + item.key() + "'");
    }
    return o;
}

std::unexpected<Error> JsonObject::error(std::string message) const {
    return fail(Errc::invalidArgument, m_what + ": " + std::move(message));
}

std::unexpected<Error> JsonObject::fieldError(std::string_view key, const Error& e) const {
    return fail(e.code, m_what + ": field '" + std::string(key) + "': " + e.message);
}

Result<const json*> JsonObject::required(std::string_view key) const {
    const auto it = m_json->find(key);
    if (it == m_json->end()) return error("missing field '" + std::string(key) + "'");
    return &*it;
}

Result<std::string> JsonObject::string(std::string_view key) const {
    auto v = required(key);
    if (!v) return std::unexpected(v.error());
    if (!(*v)->is_string()) return error("field '" + std::string(key) + "' must be a string");
    return (*v)->get<std::string>();
}

Result<std::optional<std::string>> JsonObject::optionalString(std::string_view key) const {
    const auto it = m_json->find(key);
    if (it == m_json->end() || it->is_null()) return std::optional<std::string>();
    if (!it->is_string()) return error("field '" + std::string(key) + "' must be a string or null");
    return std::optional<std::string>(it->get<std::string>());
}

Result<std::uint64_t> JsonObject::integer(std::string_view key, std::uint64_t min, std::uint64_t max) const {
    auto v = required(key);
    if (!v) return std::unexpected(v.error());
    const json& j = **v;
    const bool negative = j.is_number_integer() && !j.is_number_unsigned();
    if (!j.is_number_integer() || negative || j.get<std::uint64_t>() < min || j.get<std::uint64_t>() > max) {
        return error("field '" + std::string(key) + "' must be an integer from " + std::to_string(min) + " to " +
                     std::to_string(max));
    }
    return j.get<std::uint64_t>();
}

Result<const json*> JsonObject::array(std::string_view key) const {
    auto v = required(key);
    if (!v) return std::unexpected(v.error());
    if (!(*v)->is_array()) return error("field '" + std::string(key) + "' must be an array");
    return *v;
}

Status checkText(std::string_view text, std::size_t max) {
    if (text.size() > max) return fail(Errc::invalidArgument, "longer than " + std::to_string(max) + " bytes");
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > text.size()) return fail(Errc::invalidArgument, "not valid UTF-8");
        std::uint32_t cp = n == 1 ? c : c & (0x7F >> n);
        for (std::size_t k = 1; k < n; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc >> 6) != 2) return fail(Errc::invalidArgument, "not valid UTF-8");
            cp = (cp << 6) | (cc & 0x3F);
        }
        const bool overlong = (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
        if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return fail(Errc::invalidArgument, "not valid UTF-8");
        }
        if (cp < 0x20 || cp == 0x7F) return fail(Errc::invalidArgument, "contains a control character");
        i += n;
    }
    return {};
}

Status checkName(std::string_view text) {
    bool ok = !text.empty() && text.size() <= 64;
    for (char c : text) {
        ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
                    c == '_' || c == '-');
    }
    if (!ok) return fail(Errc::invalidArgument, "must be 1-64 of [A-Za-z0-9._-]");
    return {};
}

Result<std::optional<Psk>> readOptionalPsk(const JsonObject& o, std::string_view key) {
    auto text = o.optionalString(key);
    if (!text) return std::unexpected(text.error());
    if (!*text) return std::optional<Psk>();
    auto psk = parsePsk(**text, key);
    secureZero((*text)->data(), (*text)->size());
    if (!psk) return o.fieldError(key, psk.error());
    return std::optional<Psk>(*psk);
}

}  // namespace tte::protocol::detail
