// The real KeyStore: any PKCS#11 v2.40 module loaded with dlopen (SoftHSM by default),
// one token chosen by its label, logged in with a PIN from a file or an environment
// variable. Sessions are pooled: each operation borrows one session for itself, so two
// threads never share a session (PKCS#11 v2.40 §6.6.2) and up to N threads work at once.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tte/hsm/key_store.h"

namespace tte::hsm {

/// The module path Debian's softhsm2 package installs.
inline constexpr std::string_view kDefaultModulePath = "/usr/lib/softhsm/libsofthsm2.so";

/// How to reach the token.
struct Pkcs11Options {
    std::string modulePath{kDefaultModulePath};  ///< the URI's module-path, when given, wins
    std::string tokenUri = "pkcs11:token=tte-station";  ///< RFC 7512; token= is required
    std::string pinSource;  ///< "file:PATH" or "env:NAME", used when the URI has no pin-source
    /// A PIN the operator typed (sign-in dialog, terminal); wins over pinSource. Not kept by
    /// the options: open() takes its own copy.
    const Secret* pin = nullptr;
    /// Receives warnings (e.g. a pin-value in the URI). Default: a line on stderr.
    std::function<void(std::string_view)> warn;
};

class Pkcs11KeyStore final : public KeyStore {
public:
    /// Loads the module, initializes it (CKF_OS_LOCKING_OK; a module that cannot lock is
    /// used serialized), finds the token by label and logs in.
    /// Errors: invalidArgument (bad URI, no token label, bad PIN source), notFound (module
    /// file missing or not a PKCS#11 module, no token with that label – the message lists
    /// the labels present – or PIN file missing), unauthenticated (CKR_PIN_INCORRECT, ...),
    /// permissionDenied (CKR_PIN_LOCKED), every other CK_RV with its name.
    static Result<std::unique_ptr<Pkcs11KeyStore>> open(const Pkcs11Options& options);
    ~Pkcs11KeyStore() override;

    Pkcs11KeyStore(const Pkcs11KeyStore&) = delete;
    Pkcs11KeyStore& operator=(const Pkcs11KeyStore&) = delete;

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

    /// The label of the token this store serves.
    [[nodiscard]] const std::string& tokenLabel() const;
    /// Sessions this store has open (idle and in use).
    [[nodiscard]] std::size_t openSessions() const;
    /// True when every call is serialized here: the module could not lock for itself, or it
    /// is p11-kit's client, which must have one call at a time (docs/HSM.md).
    [[nodiscard]] bool serialized() const;

    struct Impl;

private:
    Status storeHmacKey(std::string_view keyUri, const Secret* value);
    explicit Pkcs11KeyStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

/// What the token says about its user login (C_GetTokenInfo flags, PKCS#11 v2.40 §3.2).
struct TokenLoginState {
    bool loginRequired = true;  ///< CKF_LOGIN_REQUIRED: keys are used only after a PIN login
    bool countLow = false;      ///< CKF_USER_PIN_COUNT_LOW: a wrong PIN was entered since the last good one
    bool finalTry = false;      ///< CKF_USER_PIN_FINAL_TRY: one more wrong PIN locks it
    bool locked = false;        ///< CKF_USER_PIN_LOCKED
};
/// Asks the token labelled `label` of `modulePath` for its login flags; needs no PIN.
/// Errors: notFound (module, token), CK_RV errors.
Result<TokenLoginState> tokenLoginState(const std::string& modulePath, std::string_view label);

/// One sentence for a login the token refused with `e` (CKR_PIN_INCORRECT, CKR_PIN_LOCKED,
/// ...), with what the token tells of the tries left (`state`, asked after the refusal):
/// "the PIN is wrong; the token says one more wrong PIN locks it".
std::string loginRefusal(const Error& e, const std::optional<TokenLoginState>& state);

/// Initializes the module's free token slot with `label` and `soPin`, then sets the user PIN
/// (C_InitToken, C_Login as SO, C_InitPIN). For SoftHSM the token directory comes from
/// SOFTHSM2_CONF. Errors: notFound (module missing, no free slot), alreadyExists (a token
/// with that label exists), invalidArgument (label over 32 bytes, empty PIN), CK_RV errors.
Status initToken(const std::string& modulePath, std::string_view label, const Secret& soPin,
                 const Secret& userPin);

}  // namespace tte::hsm
