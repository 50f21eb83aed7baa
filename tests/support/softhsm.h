// Test support: a SoftHSM token of a test's own – hsm::createSoftHsmSite in a directory
// (softhsm2.conf, random PINs in files, SOFTHSM2_CONF set for this process) and a store open
// on it. The one way the suites make a token.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "tte/hsm/pkcs11_key_store.h"
#include "tte/hsm/softhsm_site.h"

namespace tte::test {

/// The PKCS#11 module under test: $TTE_PKCS11_MODULE, else SoftHSM's default path.
std::string pkcs11Module();

class SoftHsmToken {
public:
    /// Makes the site in `dir` with token `label` and, with `openStore`, opens a store on it;
    /// error() says what failed.
    SoftHsmToken(const std::filesystem::path& dir, const std::string& label, bool openStore = true);
    SoftHsmToken(const SoftHsmToken&) = delete;
    SoftHsmToken& operator=(const SoftHsmToken&) = delete;

    /// "" when the token is ready, else what failed.
    [[nodiscard]] const std::string& error() const { return m_error; }
    [[nodiscard]] const hsm::SoftHsmSite& site() const { return m_site; }
    /// The store opened on the token (null when error() is not empty).
    [[nodiscard]] hsm::Pkcs11KeyStore* store() const { return m_store.get(); }
    /// Another store on the same token.
    [[nodiscard]] Result<std::unique_ptr<hsm::Pkcs11KeyStore>> open() const;
    /// Closes the store (a test that wants the token to itself).
    void close() { m_store.reset(); }

private:
    hsm::SoftHsmSite m_site;
    std::unique_ptr<hsm::Pkcs11KeyStore> m_store;
    std::string m_error;
};

}  // namespace tte::test
