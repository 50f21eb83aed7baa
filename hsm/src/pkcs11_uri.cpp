// RFC 7512 parsing and PIN sources.
#include "tte/hsm/pkcs11_uri.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>

#include "tte/protocol/query.h"

namespace tte::hsm {
namespace {

/// RFC 7512 values are percent-encoded: decoded by the project's one decoder (protocol/).
Result<std::string> percentDecode(std::string_view value, std::string_view attribute) {
    auto out = protocol::percentDecode(value);
    if (!out) return withContext(out.error(), "PKCS#11 URI attribute '" + std::string(attribute) + "'");
    return out;
}

struct Parser {
    Pkcs11Uri uri;
    std::set<std::string> seen;

    Status take(std::string_view item, bool query) {
        auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            return fail(Errc::invalidArgument, "PKCS#11 URI: '" + std::string(item) + "' is not name=value");
        }
        std::string name(item.substr(0, eq));
        if (name.starts_with("x-")) return {};  // vendor attribute (RFC 7512 2.3)
        if (!seen.insert(name).second) {
            return fail(Errc::invalidArgument, "PKCS#11 URI: attribute '" + name + "' given twice");
        }
        auto value = percentDecode(item.substr(eq + 1), name);
        if (!value) return std::unexpected(value.error());
        return query ? takeQuery(name, std::move(*value)) : takePath(name, std::move(*value));
    }

    Status takePath(const std::string& name, std::string value) {
        if (name == "token") uri.token = std::move(value);
        else if (name == "manufacturer") uri.manufacturer = std::move(value);
        else if (name == "model") uri.model = std::move(value);
        else if (name == "serial") uri.serial = std::move(value);
        else if (name == "object") uri.object = std::move(value);
        else if (name == "id") uri.id.assign(value.begin(), value.end());
        else if (name == "type") {
            static constexpr std::string_view kTypes[] = {"private", "public", "secret-key", "cert", "data"};
            bool known = false;
            for (auto t : kTypes) known = known || t == value;
            if (!known) {
                return fail(Errc::invalidArgument, "PKCS#11 URI: type '" + value +
                                                       "' is not one of private, public, secret-key, cert, data");
            }
            uri.type = std::move(value);
        } else if (name == "slot-id" || name == "slot-description" || name == "slot-manufacturer") {
            return fail(Errc::invalidArgument, "PKCS#11 URI: '" + name +
                                                   "' is not accepted; choose the token by its label (token=...)");
        } else if (name == "library-manufacturer" || name == "library-description" || name == "library-version") {
            // Module identification: accepted and not needed (the module path is configured).
        } else {
            return fail(Errc::invalidArgument, "PKCS#11 URI: unknown attribute '" + name + "'");
        }
        return {};
    }

    Status takeQuery(const std::string& name, std::string value) {
        if (name == "pin-source") uri.pinSource = std::move(value);
        else if (name == "pin-value") uri.pinValue.emplace(std::string_view(value));
        else if (name == "module-path") uri.modulePath = std::move(value);
        else if (name == "module-name") uri.moduleName = std::move(value);
        else {
            secureZero(value.data(), value.size());
            return fail(Errc::invalidArgument, "PKCS#11 URI: unknown query attribute '" + name + "'");
        }
        secureZero(value.data(), value.size());
        return {};
    }
};

}  // namespace

Result<Pkcs11Uri> parsePkcs11Uri(std::string_view text) {
    constexpr std::string_view kScheme = "pkcs11:";
    if (text.size() < kScheme.size() || text.substr(0, kScheme.size()) != kScheme) {
        // Case-insensitive scheme per RFC 3986.
        std::string head(text.substr(0, kScheme.size()));
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (head != kScheme) {
            return fail(Errc::invalidArgument, "PKCS#11 URI must start with 'pkcs11:'");
        }
    }
    std::string_view rest = text.substr(kScheme.size());
    std::string_view path = rest;
    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        path = rest.substr(0, q);
        query = rest.substr(q + 1);
    }
    Parser parser;
    auto each = [&](std::string_view list, char sep, bool isQuery) -> Status {
        while (!list.empty()) {
            auto cut = list.find(sep);
            auto item = list.substr(0, cut);
            if (!item.empty()) {
                if (auto s = parser.take(item, isQuery); !s) return s;
            }
            if (cut == std::string_view::npos) break;
            list.remove_prefix(cut + 1);
        }
        return {};
    };
    if (auto s = each(path, ';', false); !s) return std::unexpected(s.error());
    if (auto s = each(query, '&', true); !s) return std::unexpected(s.error());
    return std::move(parser.uri);
}

Result<Secret> readPin(std::string_view pinSource) {
    if (pinSource.empty()) {
        return fail(Errc::invalidArgument,
                    "no PIN source: give pin-source=file:PATH in the token URI or a PIN file/variable");
    }
    if (pinSource.starts_with("env:")) {
        std::string name(pinSource.substr(4));
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return fail(Errc::notFound, "PIN variable " + name + " is not set");
        if (*value == '\0') return fail(Errc::invalidArgument, "PIN variable " + name + " is empty");
        return Secret(std::string_view(value));
    }
    std::string path(pinSource.starts_with("file:") ? pinSource.substr(5) : pinSource);
    if (path.starts_with("//")) path.erase(0, 2);  // file:///abs/path
    if (!path.starts_with("/")) {
        return fail(Errc::invalidArgument, "PIN source '" + std::string(pinSource) +
                                               "' is neither file:/absolute/path nor env:NAME");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::notFound, "PIN file " + path + " cannot be opened");
    Secret pin(std::span<const std::uint8_t>{});
    {
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (in.bad()) {
            secureZero(text.data(), text.size());
            return fail(Errc::io, "PIN file " + path + " cannot be read");
        }
        std::size_t n = text.size();
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) --n;  // one line, as written by echo
        pin = Secret(std::string_view(text.data(), n));
        secureZero(text.data(), text.size());
    }
    if (pin.empty()) return fail(Errc::invalidArgument, "PIN file " + path + " is empty");
    return pin;
}

Result<Secret> resolvePin(const Pkcs11Uri& uri, std::string_view fallbackSource,
                          const std::function<void(std::string_view)>& warn) {
    if (uri.pinValue) {
        if (warn) warn("the token URI carries pin-value; use pin-source outside tests");
        if (uri.pinValue->empty()) return fail(Errc::invalidArgument, "pin-value in the token URI is empty");
        return uri.pinValue->clone();
    }
    if (!uri.pinSource.empty()) return readPin(uri.pinSource);
    return readPin(fallbackSource);
}

}  // namespace tte::hsm
