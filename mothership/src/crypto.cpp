// The MotherShip's keys (crypto.h).
#include "tte/mothership/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "tte/base/atomic_file.h"
#include "tte/base/hex.h"
#include "tte/hsm/pkcs11_key_store.h"
#include "tte/protocol/otp_hash.h"
#include "tte/server/tls.h"

namespace tte::mothership {

Result<OtpHasher> OtpHasher::fromKey(Secret key) {
    if (key.size() < 32) return fail(Errc::invalidArgument, "OTP-hash key must be at least 32 bytes");
    return OtpHasher(std::move(key));
}

Result<OtpHasher> OtpHasher::fromFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(Errc::io, "cannot read OTP-hash key file " + path);
    std::string text;
    std::getline(in, text);
    Secret guard{std::string_view(text)};
    secureZero(text.data(), text.size());
    auto bytes = fromHex(guard.view(), "OTP-hash key");
    if (!bytes || bytes->size() != 32) {
        if (bytes) secureZero(bytes->data(), bytes->size());
        return fail(Errc::invalidArgument, "OTP-hash key file " + path + " must hold 64 hex digits");
    }
    Secret key{std::span<const std::uint8_t>(*bytes)};
    secureZero(bytes->data(), bytes->size());
    return fromKey(std::move(key));
}

Result<OtpHasher> OtpHasher::fromToken(std::shared_ptr<hsm::KeyStore> store, std::string keyUri) {
    OtpHasher hasher(std::move(store), std::move(keyUri));
    const Secret probe = protocol::otpHashInput(protocol::DevId{0}, protocol::Otp(0));
    if (auto h = hasher.m_store->hmac(hasher.m_keyUri, probe.bytes()); !h)
        return withContext(h.error(), "OTP-hash key " + hasher.m_keyUri);
    return hasher;
}

Result<OtpHasher> OtpHasher::openToken(const std::string& keyUri) {
    hsm::Pkcs11Options options;
    options.tokenUri = keyUri;  // token, module-path and pin-source come from the key's URI
    auto store = hsm::Pkcs11KeyStore::open(options);
    if (!store) return withContext(store.error(), "the OTP-hash key's token");
    return fromToken(std::shared_ptr<hsm::KeyStore>(std::move(*store)), keyUri);
}

Status OtpHasher::check() const {
    if (!inToken()) return {};
    auto h = hash(0, 0);
    if (!h) return std::unexpected(h.error());
    return {};
}

Result<protocol::OtpHash> OtpHasher::hash(std::uint32_t devId, std::uint64_t otp) const {
    if (!m_store) return protocol::otpHash(m_key.bytes(), protocol::DevId{devId}, protocol::Otp(otp));
    const Secret in = protocol::otpHashInput(protocol::DevId{devId}, protocol::Otp(otp));
    auto mac = m_store->hmac(m_keyUri, in.bytes());
    if (!mac || mac->size() != std::tuple_size_v<protocol::OtpHash>) {
        Error e = mac ? Error{Errc::internal, "the token's HMAC is not 32 bytes", "", 0, ""} : mac.error();
        e.message = "OTP-hash key " + m_keyUri + " in the token: " + e.message;
        e.code = Errc::unavailable;
        return std::unexpected(std::move(e));
    }
    protocol::OtpHash out{};
    std::copy(mac->bytes().begin(), mac->bytes().end(), out.begin());
    return out;
}

Result<Secret> OtpHasher::derivedKey(std::string_view label) const {
    const auto in = std::span(reinterpret_cast<const std::uint8_t*>(label.data()), label.size());
    if (m_store) {
        auto mac = m_store->hmac(m_keyUri, in);
        if (!mac || mac->size() != 32) {
            Error e = mac ? Error{Errc::internal, "the token's HMAC is not 32 bytes", "", 0, ""} : mac.error();
            e.message = "OTP-hash key " + m_keyUri + " in the token: " + e.message;
            e.code = Errc::unavailable;
            return std::unexpected(std::move(e));
        }
        return std::move(*mac);
    }
    Secret out(std::size_t{32});
    unsigned int len = 32;
    if (HMAC(EVP_sha256(), m_key.bytes().data(), static_cast<int>(m_key.size()), in.data(), in.size(),
             out.mutableBytes().data(), &len) == nullptr || len != 32) {
        return fail(Errc::internal, "HMAC-SHA256 failed");
    }
    return out;
}

namespace {

constexpr std::size_t kNonce = 12, kTag = 16;

std::vector<std::uint8_t> pskAad(std::uint32_t devId, PskRole role) {
    const std::string label = std::string("tte-psk") + (role == PskRole::device ? "device" : "controller");
    std::vector<std::uint8_t> aad(label.begin(), label.end());
    for (int shift = 24; shift >= 0; shift -= 8) aad.push_back(static_cast<std::uint8_t>(devId >> shift));
    return aad;
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

Result<std::string> wrapPsk(const OtpHasher& hasher, std::uint32_t devId, PskRole role, const protocol::Psk& psk) {
    auto key = hasher.derivedKey("tte-psk-wrap-key");
    if (!key) return std::unexpected(key.error());
    std::vector<std::uint8_t> out(kNonce + protocol::Psk::kSize + kTag);
    if (RAND_bytes(out.data(), static_cast<int>(kNonce)) != 1) return fail(Errc::internal, "no random nonce");
    const auto aad = pskAad(devId, role);
    CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int len = 0;
    const bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key->bytes().data(), out.data()) == 1 &&
                    EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
                    EVP_EncryptUpdate(ctx.get(), out.data() + kNonce, &len, psk.bytes().data(),
                                      static_cast<int>(protocol::Psk::kSize)) == 1 &&
                    EVP_EncryptFinal_ex(ctx.get(), out.data() + kNonce + len, &len) == 1 &&
                    EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTag),
                                        out.data() + kNonce + protocol::Psk::kSize) == 1;
    if (!ok) return fail(Errc::internal, "AES-256-GCM failed");
    return toHex(out);
}

Result<protocol::Psk> unwrapPsk(const OtpHasher& hasher, std::uint32_t devId, PskRole role, std::string_view wrapped) {
    auto bytes = wrapped.size() == 2 * (kNonce + protocol::Psk::kSize + kTag) ? fromHex(wrapped, "wrapped PSK")
                                                                               : Result<std::vector<std::uint8_t>>();
    if (!bytes || bytes->empty()) return fail(Errc::corrupt, "wrapped PSK: not 120 hex digits");
    auto key = hasher.derivedKey("tte-psk-wrap-key");
    if (!key) return std::unexpected(key.error());
    const auto aad = pskAad(devId, role);
    Secret plain(protocol::Psk::kSize);
    CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int len = 0;
    const bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key->bytes().data(), bytes->data()) == 1 &&
                    EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
                    EVP_DecryptUpdate(ctx.get(), plain.mutableBytes().data(), &len, bytes->data() + kNonce,
                                      static_cast<int>(protocol::Psk::kSize)) == 1 &&
                    EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTag),
                                        bytes->data() + kNonce + protocol::Psk::kSize) == 1 &&
                    EVP_DecryptFinal_ex(ctx.get(), plain.mutableBytes().data() + len, &len) == 1;
    auto psk = ok ? protocol::Psk::fromBytes(plain.bytes()) : std::nullopt;
    if (!psk) return fail(Errc::corrupt, "wrapped PSK: does not authenticate (another key, device or role)");
    return *psk;
}

Status writeNewKeyFile(const std::string& path, bool overwrite) {
    struct stat st {};
    if (!overwrite && ::stat(path.c_str(), &st) == 0) return fail(Errc::alreadyExists, path + " exists already");
    Secret key(32);
    if (RAND_bytes(key.mutableBytes().data(), 32) != 1) return failNative(Errc::internal, "RAND_bytes failed", "OpenSSL", 0);
    std::string hex = toHex(key.bytes()) + "\n";
    auto written = writeFileAtomic(path, hex, 0600);
    secureZero(hex.data(), hex.size());
    return written;
}

Status writeSelfSignedP256(const std::string& keyPath, const std::string& certPath, const std::string& commonName,
                           int days) {
    auto identity = server::makeSelfSignedP256(commonName, days);
    if (!identity) return std::unexpected(identity.error());
    if (auto s = writeFileAtomic(keyPath, identity->keyPem.view(), 0600); !s) return s;
    return writeFileAtomic(certPath, identity->certPem, 0644);
}

}  // namespace tte::mothership
