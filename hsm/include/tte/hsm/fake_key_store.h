// An in-memory KeyStore for unit tests (library tte::hsm_fake). It keeps the rules of the
// real token: keys are found by PKCS#11 URI on one named token, token keys never show their
// value, device keys are destroyed after export, and every secret is computed with OpenSSL
// exactly as the token would. Failures can be injected.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "tte/hsm/key_store.h"

namespace tte::hsm {

class FakeKeyStore final : public KeyStore {
public:
    /// A fake token labelled `tokenLabel` (URIs naming another token are refused with notFound).
    explicit FakeKeyStore(std::string tokenLabel = "tte-station");
    ~FakeKeyStore() override;

    Result<Secret> random(std::size_t size) override;
    Result<Bytes> createSigningKey(std::string_view keyUri) override;
    Result<Bytes> publicKey(std::string_view keyUri) override;
    Result<Bytes> sign(std::string_view keyUri, std::span<const std::uint8_t> digest) override;
    Result<Bytes> selfSignedCertificate(std::string_view keyUri, const CertificateSpec& spec) override;
    Status createHmacKey(std::string_view keyUri) override;
    Status importHmacKey(std::string_view keyUri, const Secret& key) override;
    Result<Secret> hmac(std::string_view keyUri, std::span<const std::uint8_t> data) override;
    Result<std::vector<Secret>> deriveBulkOtps(std::string_view lotKeyUri, std::uint32_t boxNumber,
                                               std::span<const std::uint32_t> devIds) override;
    Result<DeviceKey> generateDeviceKey(const CertificateSpec& certificate) override;
    Result<std::vector<KeyInfo>> listKeys() override;


    /// The next call of any operation fails with `error` (once).
    void failNext(Error error);

    /// Keys stored in the fake token (a key pair counts once; device keys are never kept).
    [[nodiscard]] std::size_t objectCount() const;

    /// Device keys generated so far (all of them already destroyed in the fake).
    [[nodiscard]] std::size_t deviceKeysGenerated() const;

private:
    struct Object;
    Result<std::string> labelOf(std::string_view keyUri) const;
    std::optional<Error> takeInjected();
    Result<const Object*> find(std::string_view keyUri, KeyKind kind) const;

    std::string m_token;
    mutable std::mutex m_mutex;
    std::map<std::string, std::unique_ptr<Object>> m_objects;  // by label
    std::optional<Error> m_injected;
    std::size_t m_deviceKeys = 0;
};

}  // namespace tte::hsm
