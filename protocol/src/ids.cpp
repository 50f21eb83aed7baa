// MS ID, host name, Dev ID, Dev URN and OTP (docs/PROTOCOL.md §1).
#include "tte/protocol/ids.h"

#include <cstdio>

#include "tte/base/hex.h"
#include "tte/base/secret.h"

namespace tte::protocol {
namespace {

bool isProductChar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_';
}

Status checkProduct(std::string_view product) {
    if (product.empty() || product.size() > 32) {
        return fail(Errc::invalidArgument, "Dev URN: product must be 1-32 of [A-Za-z0-9._]");
    }
    for (char c : product) {
        if (!isProductChar(c)) return fail(Errc::invalidArgument, "Dev URN: product must be 1-32 of [A-Za-z0-9._]");
    }
    return {};
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

}  // namespace

std::string quoteForError(std::string_view text) {
    constexpr std::size_t kMax = 64;
    std::string out = "'";
    for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
            out.push_back(static_cast<char>(c));
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    if (text.size() > kMax) out += "...";
    return out + "'";
}

Result<MsId> makeMsId(std::uint32_t value, MsIdUse use) {
    if ((value >> 24) != 0) {
        return fail(Errc::outOfRange, "MS ID 0x" + toHex(value, 8) + ": the high byte must be 0 (draft 3.4)");
    }
    if (value == 0 && use == MsIdUse::operational) {
        return fail(Errc::invalidArgument, "MS ID 0 is reserved for examples");
    }
    return MsId{value};
}

std::string msHostName(MsId id) {
    std::string digits = toHex(id.value & 0xFFFFFFU, 6);
    for (char& c : digits) {
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    }
    return "tte-" + digits + ".net";
}

Result<MsId> parseMsHostName(std::string_view host, MsIdUse use) {
    const bool shape = host.size() == 14 && equalsIgnoreCase(host.substr(0, 4), "tte-") &&
                       equalsIgnoreCase(host.substr(10), ".net");
    auto value = shape ? parseHexInt(host.substr(4, 6), 6, "MS ID") : Result<std::uint64_t>(0);
    if (!shape || !value) {
        return fail(Errc::invalidArgument,
                    "MotherShip host name: expected tte-<6 hex digits>.net, got " + quoteForError(host));
    }
    return makeMsId(static_cast<std::uint32_t>(*value), use);
}

std::string DevId::hex() const { return toHex(value, 8); }

Result<DevId> parseDevId(std::string_view hex) {
    auto v = parseHexInt(hex, 8, "devid");
    if (!v) return std::unexpected(v.error());
    return DevId{static_cast<std::uint32_t>(*v)};
}

Otp::~Otp() { secureZero(&m_value, sizeof m_value); }

std::optional<Otp> Otp::fromBytes(std::span<const std::uint8_t> bytes) {
    if (bytes.size() != 8) return std::nullopt;
    std::uint64_t v = 0;
    for (std::uint8_t b : bytes) v = (v << 8) | b;
    Otp otp(v);
    secureZero(&v, sizeof v);
    return otp;
}

std::string Otp::hex() const { return toHex(m_value, 16); }

Result<Otp> parseOtp(std::string_view hex) {
    auto v = parseHexInt(hex, 16, "otp");
    if (!v) return std::unexpected(v.error());
    Otp otp(*v);
    secureZero(&*v, sizeof *v);
    return otp;
}

std::optional<Psk> Psk::fromBytes(std::span<const std::uint8_t> bytes) {
    if (bytes.size() != kSize) return std::nullopt;
    bool allZero = true;
    for (std::uint8_t b : bytes) allZero = allZero && b == 0;
    if (allZero) return std::nullopt;
    Psk psk;
    std::copy(bytes.begin(), bytes.end(), psk.m_bytes.begin());
    return psk;
}

Psk::~Psk() { secureZero(m_bytes.data(), m_bytes.size()); }

std::string Psk::hex() const { return toHex(std::span<const std::uint8_t>(m_bytes)); }

bool operator==(const Psk& a, const Psk& b) { return constantTimeEqual(a.m_bytes, b.m_bytes); }

Result<Psk> parsePsk(std::string_view hex, std::string_view what) {
    if (hex.size() != 2 * Psk::kSize) {
        return fail(Errc::invalidArgument,
                    std::string(what) + ": expected 64 hex digits, got " + std::to_string(hex.size()));
    }
    auto bytes = fromHex(hex, what);
    if (!bytes) return std::unexpected(bytes.error());
    auto psk = Psk::fromBytes(*bytes);
    secureZero(bytes->data(), bytes->size());
    if (!psk) return fail(Errc::invalidArgument, std::string(what) + ": all zero");
    return *psk;
}

Result<DevUrn> parseDevUrn(std::string_view text) {
    constexpr std::string_view kPrefix = "urn:dev:ops:";
    if (text.size() > 127) return fail(Errc::invalidArgument, "Dev URN: longer than 127 bytes");
    if (!text.starts_with(kPrefix)) return fail(Errc::invalidArgument, "Dev URN: expected prefix urn:dev:ops:");
    std::string_view rest = text.substr(kPrefix.size());
    std::size_t i = 0;
    std::uint64_t pen = 0;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
        pen = pen * 10 + static_cast<std::uint64_t>(rest[i] - '0');
        if (pen > 0xFFFFFFFFULL) return fail(Errc::invalidArgument, "Dev URN: PEN exceeds 32 bits");
        ++i;
    }
    if (i == 0 || (i > 1 && rest[0] == '0') || i >= rest.size() || rest[i] != '-') {
        return fail(Errc::invalidArgument, "Dev URN: PEN must be decimal without a leading zero");
    }
    rest = rest.substr(i + 1);
    const std::size_t dash = rest.find('-');
    if (dash == std::string_view::npos) return fail(Errc::invalidArgument, "Dev URN: missing '-' after the product");
    if (auto ok = checkProduct(rest.substr(0, dash)); !ok) return std::unexpected(ok.error());
    const std::string_view serialText = rest.substr(dash + 1);
    if (serialText.size() < 8 || serialText.size() > 16) {
        return fail(Errc::invalidArgument, "Dev URN: serial must be 8-16 hex digits");
    }
    auto serial = parseHexInt(serialText, static_cast<int>(serialText.size()), "serial");
    if (!serial) return fail(Errc::invalidArgument, "Dev URN: serial must be 8-16 hex digits");
    DevUrn urn{static_cast<std::uint32_t>(pen), std::string(rest.substr(0, dash)), *serial, std::string(text)};
    for (std::size_t k = urn.text.size() - serialText.size(); k < urn.text.size(); ++k) urn.text[k] = lower(urn.text[k]);
    return urn;
}

Result<DevUrn> makeDevUrn(std::uint32_t pen, std::string_view product, DevId devId) {
    if (pen == 0) return fail(Errc::invalidArgument, "Dev URN: PEN 0 is not assigned");
    if (auto ok = checkProduct(product); !ok) return std::unexpected(ok.error());
    std::string text = "urn:dev:ops:" + std::to_string(pen) + "-" + std::string(product) + "-" + devId.hex();
    return DevUrn{pen, std::string(product), devId.value, std::move(text)};
}

}  // namespace tte::protocol
