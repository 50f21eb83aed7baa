// SoftHsmToken (softhsm.h).
#include "support/softhsm.h"

#include <cstdlib>

namespace tte::test {

std::string pkcs11Module() {
    const char* env = std::getenv("TTE_PKCS11_MODULE");
    return env != nullptr && *env != '\0' ? env : std::string(hsm::kDefaultModulePath);
}

SoftHsmToken::SoftHsmToken(const std::filesystem::path& dir, const std::string& label, bool openStore) {
    hsm::SoftHsmSiteOptions options;
    options.dir = dir.string();
    options.label = label;
    options.modulePath = pkcs11Module();
    auto site = hsm::createSoftHsmSite(options);
    if (!site) {
        m_error = site.error().toString();
        return;
    }
    m_site = *site;
    if (!openStore) return;
    auto store = open();
    if (!store) {
        m_error = store.error().toString();
        return;
    }
    m_store = std::move(*store);
}

Result<std::unique_ptr<hsm::Pkcs11KeyStore>> SoftHsmToken::open() const {
    return hsm::Pkcs11KeyStore::open(m_site.storeOptions(pkcs11Module()));
}

}  // namespace tte::test
