// StationKeys through the token (see hsm_keys.h).
#include "tte/station/adapters/hsm_keys.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>

#include "tte/hsm/key_store.h"
#include "tte/protocol/fingerprint.h"

namespace tte::station {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

class HsmStationKeys final : public StationKeys {
public:
    HsmStationKeys(hsm::KeyStore& store, HsmKeyNames names, Clock& clock, PkeyPtr fileKey)
        : m_store(store), m_names(std::move(names)), m_clock(clock), m_fileKey(std::move(fileKey)) {}

    Result<Secret> newOtp() override { return m_store.randomOtp(); }

    Result<Secret> bulkOtp(std::uint32_t box, std::uint32_t devId) override {
        const std::uint32_t ids[] = {devId};
        auto otps = m_store.deriveBulkOtps(m_names.lotKeyUri, box, ids);
        if (!otps) return std::unexpected(otps.error());
        return std::move((*otps)[0]);
    }

    Result<Secret> boxSecret(std::uint32_t box) override { return m_store.deriveBoxSecret(m_names.lotKeyUri, box); }

    Result<DeviceKey> newDeviceKey(std::string_view urn) override {
        hsm::CertificateSpec spec;
        spec.commonName = std::string(urn);
        spec.notBefore = m_clock.wallNow();
        auto key = m_store.generateDeviceKey(spec);
        if (!key) return std::unexpected(key.error());
        DeviceKey out;
        out.privateScalar = std::move(key->privateScalar);
        out.certificateDer = std::move(key->certificateDer);
        out.fingerprint = protocol::fingerprintOfSpki(key->spkiDer);
        return out;
    }

    Result<Secret> newPsk() override { return m_store.random(32); }

    Result<std::vector<std::uint8_t>> sign(std::span<const std::uint8_t> data) override {
        if (!m_fileKey) return m_store.signSha256(m_names.identityKeyUri, data);
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
        std::size_t len = 0;
        if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, m_fileKey.get()) != 1 ||
            EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) != 1)
            return fail(Errc::internal, "station identity key: cannot sign");
        std::vector<std::uint8_t> sig(len);
        if (EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) != 1)
            return fail(Errc::internal, "station identity key: cannot sign");
        sig.resize(len);
        return sig;
    }

    Result<std::vector<std::uint8_t>> stationPublicKey() override {
        if (!m_fileKey) return m_store.publicKey(m_names.identityKeyUri);
        unsigned char* der = nullptr;
        const int n = i2d_PUBKEY(m_fileKey.get(), &der);
        if (n <= 0) return fail(Errc::internal, "station identity key: no public key");
        std::vector<std::uint8_t> out(der, der + n);
        OPENSSL_free(der);
        return out;
    }

    Result<Secret> queueMask(std::string_view itemId, std::size_t size) override {
        std::vector<std::uint8_t> msg = {'t', 't', 'e', '-', 'q', 'u', 'e', 'u', 'e', 0};
        msg.insert(msg.end(), itemId.begin(), itemId.end());
        auto mac = m_store.hmac(m_names.queueKeyUri, msg);
        if (!mac) return std::unexpected(mac.error());
        if (size > mac->size()) return fail(Errc::invalidArgument, "queue mask longer than 32 bytes");
        return Secret(mac->bytes().first(size));
    }

    Status check() override {
        // A new session logs in again (the pool drops a broken one): an HMAC with the queue
        // key needs the token, its login and its objects.
        static constexpr std::uint8_t kProbe[] = {'t', 't', 'e', '-', 'c', 'h', 'e', 'c', 'k'};
        auto mac = m_store.hmac(m_names.queueKeyUri, kProbe);
        if (!mac) return std::unexpected(mac.error());
        return {};
    }

private:
    hsm::KeyStore& m_store;
    HsmKeyNames m_names;
    Clock& m_clock;
    PkeyPtr m_fileKey;
};

}  // namespace

Result<std::unique_ptr<StationKeys>> makeHsmStationKeys(hsm::KeyStore& store, HsmKeyNames names, Clock& clock) {
    PkeyPtr key(nullptr, &EVP_PKEY_free);
    if (names.identityKeyUri.empty()) {
        FILE* f = std::fopen(names.identityKeyFile.c_str(), "r");
        if (!f) return fail(Errc::io, "station key: cannot read " + names.identityKeyFile);
        key.reset(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
        std::fclose(f);
        if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC)
            return fail(Errc::invalidArgument, "station key: " + names.identityKeyFile + " is not a PEM EC private key");
    }
    return std::unique_ptr<StationKeys>(new HsmStationKeys(store, std::move(names), clock, std::move(key)));
}

}  // namespace tte::station
