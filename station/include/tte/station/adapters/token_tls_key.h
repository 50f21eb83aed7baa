// The station's identity key as a TLS client key that never leaves the token: an OpenSSL
// EVP_PKEY (P-256) holding only the public key, whose ECDSA signatures are made by
// hsm::KeyStore::sign in the HSM. libcurl's TLS stack uses it for the mutual-TLS handshake
// with the MotherShip (DESIGN "Keys": station identity key, token object, non-extractable).
#pragma once

#include <memory>
#include <string>

#include "tte/base/error.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace tte::hsm {
class KeyStore;
}

namespace tte::station {

class TokenTlsKey {
public:
    /// Makes the key for the signing key `keyUri` in `store`; `store` must outlive the key and
    /// every TLS context that uses it. Errors: from KeyStore::publicKey (notFound, unavailable),
    /// invalidArgument when the key is not a P-256 EC key.
    static Result<std::shared_ptr<TokenTlsKey>> open(hsm::KeyStore& store, std::string keyUri);
    ~TokenTlsKey();
    TokenTlsKey(const TokenTlsKey&) = delete;
    TokenTlsKey& operator=(const TokenTlsKey&) = delete;

    /// The key for SSL_CTX_use_PrivateKey (the context takes its own reference).
    [[nodiscard]] EVP_PKEY* pkey() const { return m_pkey; }
    /// Number of signatures the token made for TLS handshakes (for tests and metrics).
    [[nodiscard]] unsigned long signatures() const;

    struct Context;

private:
    explicit TokenTlsKey(std::unique_ptr<Context> context);
    std::unique_ptr<Context> m_context;
    EVP_PKEY* m_pkey = nullptr;
};

}  // namespace tte::station
