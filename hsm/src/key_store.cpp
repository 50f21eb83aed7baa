// The non-virtual helpers of KeyStore: they are the same for every store.
#include "tte/hsm/key_store.h"

#include "tte/hsm/x509.h"
#include "tte/protocol/crypto.h"

namespace tte::hsm {
namespace {

Bytes labelledBe4(std::string_view label, std::uint32_t value) {
    Bytes out(label.begin(), label.end());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(value >> shift));
    return out;
}

}  // namespace

Bytes boxSecretMessage(std::uint32_t boxNumber) { return labelledBe4("tte-box", boxNumber); }

Bytes bulkOtpMessage(std::uint32_t devId) { return labelledBe4("tte-otp", devId); }

std::string_view keyKindName(KeyKind kind) {
    switch (kind) {
    case KeyKind::signingKey: return "ec-private";
    case KeyKind::publicKey: return "ec-public";
    case KeyKind::hmacKey: return "hmac";
    case KeyKind::other: return "other";
    }
    return "other";
}

Result<Bytes> KeyStore::signSha256(std::string_view keyUri, std::span<const std::uint8_t> message) {
    return sign(keyUri, protocol::sha256(message));
}

Result<Secret> KeyStore::deriveBoxSecret(std::string_view lotKeyUri, std::uint32_t boxNumber) {
    return hmac(lotKeyUri, boxSecretMessage(boxNumber));  // PROTOCOL.md §4
}

}  // namespace tte::hsm
