// The MotherShip's keys (crypto.h).
#include "tte/mothership/crypto.h"

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
