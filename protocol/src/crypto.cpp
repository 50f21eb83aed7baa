// SHA-256, HMAC-SHA256, base64 and ECDSA-SHA256 verification through OpenSSL 3.
#include "crypto.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <stdexcept>

#include "tte/base/hex.h"

namespace tte::protocol {
namespace {

struct Free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
    void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

// DER prefix of a P-256 SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { id-ecPublicKey,
// prime256v1 }, BIT STRING (0 unused bits) } followed by the 65-byte point.
constexpr std::uint8_t kSpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                                        0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
                                        0x07, 0x03, 0x42, 0x00};
constexpr std::size_t kPointSize = 65;

/// A P-256 public key from its point, checked to lie on the curve (key import, not DER decoding).
Ptr<EVP_PKEY> keyFromPoint(std::span<const std::uint8_t> point) {
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<std::uint8_t*>(point.data()),
                                          point.size()),
        OSSL_PARAM_construct_end()};
    Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* key = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        ERR_clear_error();
        return nullptr;
    }
    return Ptr<EVP_PKEY>(key);
}

Ptr<EVP_PKEY> keyFromSpki(std::span<const std::uint8_t> spkiDer) {
    if (auto point = p256PointOfSpki(spkiDer); !point.empty()) return keyFromPoint(point);
    const unsigned char* p = spkiDer.data();
    Ptr<EVP_PKEY> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spkiDer.size())));
    if (!key || p != spkiDer.data() + spkiDer.size()) {
        ERR_clear_error();
        return nullptr;
    }
    return key;
}

int base64Value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

Sha256 sha256(std::span<const std::uint8_t> data) {
    Sha256 out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size()) {
        throw std::runtime_error("OpenSSL SHA-256 failed");  // only on out-of-memory
    }
    return out;
}

Sha256 sha256(std::string_view text) {
    return sha256(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string sha256Hex(std::span<const std::uint8_t> data) { return toHex(sha256(data)); }

std::string sha256Hex(std::string_view text) { return toHex(sha256(text)); }

std::string base64Encode(std::span<const std::uint8_t> data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

Result<std::vector<std::uint8_t>> base64Decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return fail(Errc::invalidArgument, "base64: length " + std::to_string(text.size()) + " is not a multiple of 4");
    }
    const std::size_t pad = text.size() - std::min(text.size(), text.find_last_not_of('=') + 1);
    if (pad > 2) return fail(Errc::invalidArgument, "base64: padding inside the text");
    for (std::size_t i = 0; i < text.size() - pad; ++i) {
        if (text[i] == '=') return fail(Errc::invalidArgument, "base64: padding inside the text");
        if (base64Value(text[i]) < 0) {
            return fail(Errc::invalidArgument, "base64: " + std::string(1, text[i]) + " at position " +
                                                   std::to_string(i + 1) + " is not a base64 character");
        }
    }
    std::vector<std::uint8_t> out(text.size() / 4 * 3 + 1);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) return fail(Errc::invalidArgument, "base64: not base64");  // checked above; kept for OpenSSL's word
    out.resize(static_cast<std::size_t>(n) - pad);  // EVP_DecodeBlock counts the padding as zero bytes
    // One text per byte string: bits after the last byte must be zero ("Zh==" is not 'f').
    if (pad > 0 && (base64Value(text[text.size() - pad - 1]) & (pad == 1 ? 0x03 : 0x0F)) != 0) {
        return fail(Errc::invalidArgument, "base64: stray bits before the padding");
    }
    return out;
}

Result<std::vector<std::uint8_t>> p256SpkiFromPoint(std::span<const std::uint8_t> point) {
    if (point.size() != kPointSize || point[0] != 0x04) {
        return fail(Errc::invalidArgument, "a P-256 public key must be a 65-byte uncompressed point, got " +
                                               std::to_string(point.size()) + " bytes");
    }
    if (!keyFromPoint(point)) return fail(Errc::invalidArgument, "the public key is not a point on P-256");
    std::vector<std::uint8_t> spki(std::begin(kSpkiPrefix), std::end(kSpkiPrefix));
    spki.insert(spki.end(), point.begin(), point.end());
    return spki;
}

std::span<const std::uint8_t> p256PointOfSpki(std::span<const std::uint8_t> spkiDer) {
    if (spkiDer.size() != sizeof kSpkiPrefix + kPointSize ||
        !std::equal(std::begin(kSpkiPrefix), std::end(kSpkiPrefix), spkiDer.begin())) {
        return {};
    }
    return spkiDer.subspan(sizeof kSpkiPrefix);
}

Status verifyEcdsaSha256(std::span<const std::uint8_t> spkiDer, std::span<const std::uint8_t> message,
                         std::span<const std::uint8_t> derSignature) {
    Ptr<EVP_PKEY> key = keyFromSpki(spkiDer);
    if (!key) return fail(Errc::invalidArgument, "the public key is not a DER SubjectPublicKeyInfo");
    Ptr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
        const unsigned long e = ERR_get_error();
        ERR_clear_error();
        return failNative(Errc::internal, "cannot start a signature check", "OpenSSL", static_cast<std::int64_t>(e));
    }
    const int ok = EVP_DigestVerify(ctx.get(), derSignature.data(), derSignature.size(), message.data(), message.size());
    ERR_clear_error();
    if (ok != 1) return fail(Errc::unauthenticated, "the ECDSA-SHA256 signature does not verify");
    return {};
}

namespace detail {

Digest hmacSha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
    static constexpr std::uint8_t kEmpty = 0;
    Digest out{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
             data.empty() ? &kEmpty : data.data(), data.size(), out.data(), &len) == nullptr ||
        len != out.size()) {
        throw std::runtime_error("OpenSSL HMAC-SHA256 failed");  // only on out-of-memory
    }
    return out;
}

}  // namespace detail
}  // namespace tte::protocol
