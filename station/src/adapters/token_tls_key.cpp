// TokenTlsKey: an EC_KEY with its own EC_KEY_METHOD whose sign operations call the token.
// OpenSSL 3 treats an EC key with a non-default method as a "foreign" legacy key and keeps it
// off the providers, so every TLS signature (TLS 1.2 CertificateVerify, TLS 1.3 likewise)
// reaches sign_sig() below. The EC_KEY_METHOD API is deprecated in OpenSSL 3 but remains the
// supported way for a key whose private half lives elsewhere without writing a provider (it
// is what libp11's engine does); this file alone silences the deprecation.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "tte/station/adapters/token_tls_key.h"

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <atomic>

#include "tte/hsm/key_store.h"

namespace tte::station {

struct TokenTlsKey::Context {
    hsm::KeyStore& store;
    std::string keyUri;
    EC_KEY_METHOD* method = nullptr;
    std::atomic<unsigned long> signatures{0};
};

namespace {

/// The ex_data slot that ties an EC_KEY to its Context (one index per process, by OpenSSL's design).
int contextIndex() {
    static const int index = EC_KEY_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

/// ECDSA over the digest in the token. A digest longer than the P-256 order is cut to its
/// leftmost 32 bytes, which is what ECDSA itself does (SEC 1, 4.1.3 step 5); a shorter one
/// (SHA-1, SHA-224) is refused – the TLS contexts offer only ECDSA+SHA256.
ECDSA_SIG* signSig(const unsigned char* digest, int length, const BIGNUM*, const BIGNUM*, EC_KEY* key) {
    auto* c = static_cast<TokenTlsKey::Context*>(EC_KEY_get_ex_data(key, contextIndex()));
    if (!c || length < 32) return nullptr;
    auto der = c->store.sign(c->keyUri, std::span<const std::uint8_t>(digest, 32));
    if (!der) return nullptr;
    const unsigned char* p = der->data();
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der->size()));
    if (sig) c->signatures.fetch_add(1, std::memory_order_relaxed);
    return sig;
}

int sign(int, const unsigned char* digest, int length, unsigned char* out, unsigned int* outLength, const BIGNUM* kinv,
         const BIGNUM* r, EC_KEY* key) {
    ECDSA_SIG* sig = signSig(digest, length, kinv, r, key);
    if (!sig) return 0;
    unsigned char* p = out;
    const int n = i2d_ECDSA_SIG(sig, &p);
    ECDSA_SIG_free(sig);
    if (n <= 0) return 0;
    *outLength = static_cast<unsigned int>(n);
    return 1;
}

}  // namespace

TokenTlsKey::TokenTlsKey(std::unique_ptr<Context> context) : m_context(std::move(context)) {}

TokenTlsKey::~TokenTlsKey() {
    EVP_PKEY_free(m_pkey);
    if (m_context && m_context->method) EC_KEY_METHOD_free(m_context->method);
}

unsigned long TokenTlsKey::signatures() const { return m_context->signatures.load(std::memory_order_relaxed); }

Result<std::shared_ptr<TokenTlsKey>> TokenTlsKey::open(hsm::KeyStore& store, std::string keyUri) {
    auto spki = store.publicKey(keyUri);
    if (!spki) return withContext(spki.error(), "station identity key");
    const unsigned char* p = spki->data();
    EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki->size()));
    EC_KEY* ec = pub ? EVP_PKEY_get1_EC_KEY(pub) : nullptr;
    EVP_PKEY_free(pub);
    if (!ec || EC_GROUP_get_curve_name(EC_KEY_get0_group(ec)) != NID_X9_62_prime256v1) {
        EC_KEY_free(ec);
        return fail(Errc::invalidArgument, "station identity key " + keyUri + " is not a P-256 EC key");
    }
    std::shared_ptr<TokenTlsKey> key(new TokenTlsKey(std::make_unique<Context>(store, std::move(keyUri))));
    Context& c = *key->m_context;
    c.method = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
    int (*defaultSetup)(EC_KEY*, BN_CTX*, BIGNUM**, BIGNUM**) = nullptr;
    EC_KEY_METHOD_get_sign(EC_KEY_OpenSSL(), nullptr, &defaultSetup, nullptr);
    EC_KEY_METHOD_set_sign(c.method, sign, defaultSetup, signSig);
    key->m_pkey = EVP_PKEY_new();
    if (!c.method || !key->m_pkey || EC_KEY_set_method(ec, c.method) != 1 || EC_KEY_set_ex_data(ec, contextIndex(), &c) != 1 ||
        EVP_PKEY_assign_EC_KEY(key->m_pkey, ec) != 1) {
        EC_KEY_free(ec);
        return fail(Errc::internal, "station identity key: OpenSSL cannot wrap the token key");
    }
    return key;
}

}  // namespace tte::station
