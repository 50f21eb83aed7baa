// Box URL and bulk OTP derivation (docs/PROTOCOL.md §3, §4).
#include "tte/protocol/box.h"

#include <array>

#include "crypto.h"
#include "tte/base/hex.h"
#include "tte_url.h"

namespace tte::protocol {
namespace {

/// `label` ‖ value (4 bytes big-endian): the HMAC inputs of §4.
template <std::size_t N>
std::array<std::uint8_t, N - 1 + 4> labelled(const char (&label)[N], std::uint32_t value) {
    std::array<std::uint8_t, N - 1 + 4> in{};
    for (std::size_t i = 0; i + 1 < N; ++i) in[i] = static_cast<std::uint8_t>(label[i]);
    for (std::size_t i = 0; i < 4; ++i) in[N - 1 + i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
    return in;
}

Status checkRange(DevId first, DevId last) {
    if (first.value > last.value) {
        return fail(Errc::invalidArgument, "first " + first.hex() + " is after last " + last.hex());
    }
    const std::uint64_t count = std::uint64_t{last.value} - first.value + 1;
    if (count > kMaxBoxDevices) {
        return fail(Errc::invalidArgument, std::to_string(count) + " devices, at most 65536 in a box");
    }
    return {};
}

Result<DevId> parseBound(const QueryParams& params, std::string_view name) {
    auto text = detail::requiredParam(params, name);
    if (!text) return std::unexpected(text.error());
    auto v = parseHexInt(*text, 8, name);
    if (!v) return std::unexpected(v.error());
    return DevId{static_cast<std::uint32_t>(*v)};
}

Result<Secret> parseSecret(const QueryParams& params) {
    auto text = detail::requiredParam(params, "secret");
    if (!text) return std::unexpected(text.error());
    if (text->size() != 2 * kBoxSecretSize) {
        return fail(Errc::invalidArgument, "secret: expected 64 hex digits, got " + std::to_string(text->size()));
    }
    auto bytes = fromHex(*text, "secret");
    if (!bytes) return std::unexpected(bytes.error());
    Secret secret{std::span<const std::uint8_t>(*bytes)};
    secureZero(bytes->data(), bytes->size());
    return secret;
}

}  // namespace

Result<std::string> buildBoxUrl(const BoxUrl& box) {
    if (box.secret.size() != kBoxSecretSize) {
        return fail(Errc::invalidArgument,
                    "box URL: secret must be 32 bytes, got " + std::to_string(box.secret.size()));
    }
    if (auto ok = checkRange(box.first, box.last); !ok) return withContext(ok.error(), "box URL");
    return "https://" + msHostName(box.ms) + std::string(kBoxPath) + "?secret=" + toHex(box.secret.bytes()) +
           ",first=" + box.first.hex() + ",last=" + box.last.hex();
}

Result<BoxUrl> parseBoxUrl(std::string_view url, MsIdUse use) {
    auto parts = detail::splitTteUrl(url, kBoxPath, "box URL", use);
    if (!parts) return std::unexpected(parts.error());
    const QueryParams& params = parts->params;
    if (auto ok = detail::onlyKnownParams(params, {"secret", "first", "last"}, {}); !ok) {
        return withContext(ok.error(), "box URL");
    }
    auto secret = parseSecret(params);
    if (!secret) return withContext(secret.error(), "box URL");
    auto first = parseBound(params, "first");
    if (!first) return withContext(first.error(), "box URL");
    auto last = parseBound(params, "last");
    if (!last) return withContext(last.error(), "box URL");
    if (auto ok = checkRange(*first, *last); !ok) return withContext(ok.error(), "box URL");
    return BoxUrl{parts->ms, std::move(*secret), *first, *last};
}

Secret deriveBoxSecret(std::span<const std::uint8_t> lotKey, std::uint32_t boxNumber) {
    auto mac = detail::hmacSha256(lotKey, labelled("tte-box", boxNumber));
    Secret secret{std::span<const std::uint8_t>(mac)};
    secureZero(mac.data(), mac.size());
    return secret;
}

Otp deriveBulkOtp(std::span<const std::uint8_t> boxSecret, DevId devId) {
    auto mac = detail::hmacSha256(boxSecret, labelled("tte-otp", devId.value));
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | mac[i];
    secureZero(mac.data(), mac.size());
    Otp otp(v);
    secureZero(&v, sizeof v);
    return otp;
}

}  // namespace tte::protocol
