// SHA-256, base64 and ECDSA verification through OpenSSL 3.
#include "tte/station/crypto.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

#include "tte/base/hex.h"

namespace tte::station {

std::string sha256Hex(std::span<const std::uint8_t> data) {
    std::uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
    return toHex(std::span<const std::uint8_t>(digest, length));
}

std::string sha256Hex(std::string_view text) {
    return sha256Hex(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string base64Encode(std::span<const std::uint8_t> data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                                  static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

Result<std::vector<std::uint8_t>> base64Decode(std::string_view text) {
    if (text.size() % 4 != 0) return fail(Errc::invalidArgument, "base64 length is not a multiple of 4");
    std::vector<std::uint8_t> out(text.size() / 4 * 3 + 1);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) return fail(Errc::invalidArgument, "not base64");
    std::size_t size = static_cast<std::size_t>(n);
    for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;  // padding
    out.resize(size);
    return out;
}

Status verifySignature(std::span<const std::uint8_t> spkiDer, std::span<const std::uint8_t> data,
                       std::span<const std::uint8_t> signatureDer) {
    const unsigned char* p = spkiDer.data();
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spkiDer.size())),
                                                            &EVP_PKEY_free);
    if (!key) return fail(Errc::invalidArgument, "station public key is not a DER SubjectPublicKeyInfo");
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1)
        return fail(Errc::internal, "cannot initialise signature verification");
    const int rc = EVP_DigestVerify(ctx.get(), signatureDer.data(), signatureDer.size(), data.data(), data.size());
    if (rc == 1) return {};
    const unsigned long err = ERR_get_error();
    ERR_clear_error();
    char reason[256] = "signature mismatch";
    if (err != 0) ERR_error_string_n(err, reason, sizeof reason);
    return failNative(Errc::unauthenticated, "signature does not verify", "OpenSSL", static_cast<std::int64_t>(err),
                      reason);
}

}  // namespace tte::station
