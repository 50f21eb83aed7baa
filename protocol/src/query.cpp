// Strict query-string and form-body parsing.
#include "tte/protocol/query.h"

#include <cstdio>

namespace tte::protocol {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool isNameChar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
           c == '-';
}

std::string pos(std::size_t p) { return std::to_string(p + 1); }

/// Decodes `text` that starts at `offset` of the whole string (for positions in messages).
Result<std::string> decodeValue(std::string_view text, std::size_t offset, bool plusIsSpace) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%') {
            const bool complete = i + 2 < text.size();
            const int hi = complete ? hexValue(text[i + 1]) : -1;
            const int lo = complete ? hexValue(text[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                return fail(Errc::invalidArgument, "bad percent-escape at position " + pos(offset + i));
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (text[i] == '+' && plusIsSpace) {
            out.push_back(' ');
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

Result<QueryParams> parse(std::string_view query, std::string_view separators, bool plusIsSpace) {
    QueryParams params;
    if (query.size() > kMaxQueryLength) return fail(Errc::invalidArgument, "query longer than 4096 bytes");
    if (query.empty()) return params;
    std::size_t start = 0;
    while (start <= query.size()) {
        std::size_t end = query.find_first_of(separators, start);
        if (end == std::string_view::npos) end = query.size();
        const std::string_view part = query.substr(start, end - start);
        if (part.empty()) return fail(Errc::invalidArgument, "empty parameter at position " + pos(start));
        if (params.size() == kMaxQueryParams) return fail(Errc::invalidArgument, "more than 32 parameters");
        const std::size_t eq = part.find('=');
        const std::string_view rawName = part.substr(0, eq);
        if (rawName.empty()) return fail(Errc::invalidArgument, "empty parameter name at position " + pos(start));
        std::string name;
        for (std::size_t i = 0; i < rawName.size(); ++i) {
            if (!isNameChar(rawName[i])) {
                return fail(Errc::invalidArgument, "bad character in parameter name at position " + pos(start + i));
            }
            name.push_back(lower(rawName[i]));
        }
        if (eq == std::string_view::npos) return fail(Errc::invalidArgument, "parameter '" + name + "' has no '='");
        auto value = decodeValue(part.substr(eq + 1), start + eq + 1, plusIsSpace);
        if (!value) return std::unexpected(value.error());
        if (auto ok = params.add(std::move(name), std::move(*value)); !ok) return std::unexpected(ok.error());
        start = end + 1;
    }
    return params;
}

}  // namespace

const std::string* QueryParams::find(std::string_view name) const {
    for (const auto& [n, v] : m_entries) {
        if (n == name) return &v;
    }
    return nullptr;
}

Status QueryParams::add(std::string name, std::string value) {
    if (find(name) != nullptr) return fail(Errc::invalidArgument, "duplicate parameter '" + name + "'");
    m_entries.emplace_back(std::move(name), std::move(value));
    return {};
}

Result<std::string> percentDecode(std::string_view text, bool plusIsSpace) { return decodeValue(text, 0, plusIsSpace); }

Result<QueryParams> parseQuery(std::string_view query) { return parse(query, ",&", false); }

Result<QueryParams> parseFormBody(std::string_view body) { return parse(body, "&", true); }

std::string percentEncode(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (isNameChar(c) || c == '~') {
            out.push_back(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
            out += buf;
        }
    }
    return out;
}

}  // namespace tte::protocol
