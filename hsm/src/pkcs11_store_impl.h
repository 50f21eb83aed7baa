// The state behind Pkcs11KeyStore, shared by its source files. Private.
#pragma once

#include <memory>
#include <string>

#include "pkcs11_module.h"
#include "pkcs11_session.h"
#include "tte/hsm/pkcs11_key_store.h"

namespace tte::hsm {

struct Pkcs11KeyStore::Impl {
    std::unique_ptr<detail::Module> module;      // destroyed last
    std::unique_ptr<detail::SessionPool> pool;

    /// The object label of a key URI on this store's token.
    /// Errors: invalidArgument (bad URI, no object), notFound (URI names another token).
    Result<std::string> labelOf(std::string_view keyUri) const;
    /// A session for one operation (and the module lock when the module cannot lock).
    Result<detail::Session> session() { return pool->acquire(); }
};

namespace detail {

/// DER of the P-256 curve OID (prime256v1), the CKA_EC_PARAMS of every key made here.
inline constexpr std::uint8_t kP256Params[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

/// The SubjectPublicKeyInfo of an EC public key object (from its CKA_EC_POINT).
Result<Bytes> spkiOfPublicKey(Session& session, CK_OBJECT_HANDLE publicKey, std::string_view what);

/// ECDSA (CKM_ECDSA) over a 32-byte digest with `key`; DER signature.
Result<Bytes> ecdsaSign(Session& session, CK_OBJECT_HANDLE key, std::span<const std::uint8_t> digest,
                        std::string_view what);

}  // namespace detail
}  // namespace tte::hsm
