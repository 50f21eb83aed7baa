// Parsing and checking of request parameters (params.h).
#include "params.h"

#include <arpa/inet.h>

#include <algorithm>

#include "tte/base/hex.h"

namespace tte::mothership {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::pair<std::string_view, std::string_view> splitTarget(std::string_view target) {
    const auto q = target.find('?');
    if (q == std::string_view::npos) return {target, {}};
    return {target.substr(0, q), target.substr(q + 1)};
}

namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

Result<std::string> percentDecode(std::string_view s, bool form) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) return fail(Errc::invalidArgument, "bad %-escape in parameters");
            const int hi = hexValue(s[i + 1]);
            const int lo = hexValue(s[i + 2]);
            if (hi < 0 || lo < 0) return fail(Errc::invalidArgument, "bad %-escape in parameters");
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (form && s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

const std::string* find(const Params& p, const char* name) {
    auto it = p.find(name);
    return it == p.end() ? nullptr : &it->second;
}

}  // namespace

Status parseParams(std::string_view text, bool form, Params& out) {
    std::size_t start = 0;
    while (start <= text.size() && !text.empty()) {
        std::size_t end = text.find_first_of(form ? "&" : ",&", start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view part = text.substr(start, end - start);
        if (!part.empty()) {
            const auto eq = part.find('=');
            if (eq == std::string_view::npos)
                return fail(Errc::invalidArgument, "parameter '" + std::string(part.substr(0, 32)) + "' has no value");
            auto name = percentDecode(part.substr(0, eq), form);
            auto value = percentDecode(part.substr(eq + 1), form);
            if (!name) return std::unexpected(name.error());
            if (!value) return std::unexpected(value.error());
            const std::string key = lower(*name);
            if (out.contains(key)) return fail(Errc::invalidArgument, "parameter " + key + " is given twice");
            out.emplace(key, std::move(*value));
        }
        start = end + 1;
        if (end == text.size()) break;
    }
    return {};
}

Status onlyKnown(const Params& p, std::string_view allowed) {
    for (const auto& [name, value] : p) {
        const std::string padded = "," + std::string(allowed) + ",";
        if (padded.find("," + name + ",") == std::string::npos)
            return fail(Errc::invalidArgument, "unknown parameter " + name.substr(0, 32));
    }
    return {};
}

Result<std::uint64_t> requireOtp(const Params& p) {
    const auto* v = find(p, "otp");
    if (!v || v->empty()) return fail(Errc::invalidArgument, "parameter otp is missing");
    return parseHexInt(*v, 16, "parameter otp");
}

Result<std::uint32_t> requireDevId(const Params& p) {
    const auto* v = find(p, "devid");
    if (!v || v->empty()) return fail(Errc::invalidArgument, "parameter devid is missing");
    auto id = parseHexInt(*v, 8, "parameter devid");
    if (!id) return std::unexpected(id.error());
    return static_cast<std::uint32_t>(*id);
}

Result<ControllerAddress> requireController(const Params& p) {
    ControllerAddress c;
    const auto* ip = find(p, "cip");
    if (!ip || ip->empty()) return fail(Errc::invalidArgument, "parameter cip is missing");
    unsigned char buf[16];
    if (inet_pton(AF_INET, ip->c_str(), buf) != 1 && inet_pton(AF_INET6, ip->c_str(), buf) != 1)
        return fail(Errc::invalidArgument, "parameter cip: not an IPv4 or IPv6 address");
    c.ip = *ip;
    const auto* port = find(p, "cport");
    if (!port || port->empty()) return fail(Errc::invalidArgument, "parameter cport is missing");
    if (port->size() > 5 || !std::all_of(port->begin(), port->end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        return fail(Errc::invalidArgument, "parameter cport: not a decimal port number");
    const int n = std::stoi(*port);
    if (n < 1 || n > 65535) return fail(Errc::invalidArgument, "parameter cport: must be 1 to 65535");
    c.port = static_cast<std::uint16_t>(n);
    const auto* fp = find(p, "cfingerprint");
    if (!fp || fp->empty()) return fail(Errc::invalidArgument, "parameter cfingerprint is missing");
    if (fp->size() != 64)
        return fail(Errc::invalidArgument, "parameter cfingerprint: expected 64 hex digits, found " + std::to_string(fp->size()));
    auto bytes = fromHex(*fp, "parameter cfingerprint");
    if (!bytes) return std::unexpected(bytes.error());
    c.fingerprint = lower(*fp);
    return c;
}

Result<std::string> optionalDescription(const Params& p) {
    const auto* d = find(p, "description");
    if (!d) return std::string();
    if (d->size() > 200) return fail(Errc::invalidArgument, "parameter description: longer than 200 bytes");
    for (std::size_t i = 0; i < d->size();) {
        const auto c = static_cast<unsigned char>((*d)[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > d->size() || (c < 0x20 && c != '\t') || c == 0x7f)
            return fail(Errc::invalidArgument, "parameter description: not printable UTF-8");
        for (std::size_t k = 1; k < len; ++k) {
            if ((static_cast<unsigned char>((*d)[i + k]) >> 6) != 2)
                return fail(Errc::invalidArgument, "parameter description: not printable UTF-8");
        }
        i += len;
    }
    return *d;
}

Result<std::uint32_t> devIdOfUrn(std::string_view urn) {
    constexpr std::string_view prefix = "urn:dev:ops:";
    if (urn.size() > 127 || !urn.starts_with(prefix)) return fail(Errc::invalidArgument, "urn: not urn:dev:ops:…");
    const std::string_view rest = urn.substr(prefix.size());
    const auto d1 = rest.find('-');
    const auto d2 = rest.rfind('-');
    if (d1 == std::string_view::npos || d1 == d2) return fail(Errc::invalidArgument, "urn: expected <PEN>-<product>-<serial>");
    const std::string_view pen = rest.substr(0, d1), product = rest.substr(d1 + 1, d2 - d1 - 1),
                           serial = rest.substr(d2 + 1);
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (pen.empty() || pen.size() > 10 || !std::all_of(pen.begin(), pen.end(), digit) || (pen.size() > 1 && pen[0] == '0'))
        return fail(Errc::invalidArgument, "urn: PEN must be decimal without a leading zero");
    const auto productChar = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_'; };
    if (product.empty() || product.size() > 32 || !std::all_of(product.begin(), product.end(), productChar))
        return fail(Errc::invalidArgument, "urn: product must be 1-32 of A-Z a-z 0-9 . _");
    if (serial.size() < 8 || serial.size() > 16) return fail(Errc::invalidArgument, "urn: serial must be 8-16 hex digits");
    auto low = parseHexInt(serial.substr(serial.size() - 8), 8, "urn serial");
    auto all = fromHex(serial.size() % 2 ? std::string("0") + std::string(serial) : std::string(serial), "urn serial");
    if (!low || !all) return fail(Errc::invalidArgument, "urn: serial must be 8-16 hex digits");
    return static_cast<std::uint32_t>(*low);
}

}  // namespace tte::mothership
