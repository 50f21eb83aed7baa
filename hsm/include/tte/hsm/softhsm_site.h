// A SoftHSM token in a directory of its own: DIR/softhsm2.conf, DIR/tokens/, a random SO PIN
// in DIR/so-pin and the user PIN in DIR/user-pin (both mode 0600). Used by `tte-hsm init`,
// the demo, the integration tests and the benchmark.
#pragma once

#include <string>

#include "tte/base/error.h"
#include "tte/hsm/pkcs11_key_store.h"

namespace tte::hsm {

struct SoftHsmSiteOptions {
    std::string dir;                       ///< created if missing
    std::string label = "tte-station";     ///< token label
    std::string userPinFile;               ///< default DIR/user-pin; an existing file's PIN is used as is
    std::string modulePath{kDefaultModulePath};
};

struct SoftHsmSite {
    std::string dir;
    std::string confPath;     ///< DIR/softhsm2.conf – export as SOFTHSM2_CONF
    std::string tokenDir;     ///< DIR/tokens
    std::string userPinFile;
    std::string soPinFile;    ///< DIR/so-pin
    std::string label;

    /// Options for Pkcs11KeyStore::open on this site's token (PIN from userPinFile).
    [[nodiscard]] Pkcs11Options storeOptions(const std::string& modulePath = std::string(kDefaultModulePath)) const;
};

/// Creates the site and initializes its token. Sets SOFTHSM2_CONF in this process's
/// environment to the new conf (SoftHSM reads it in C_Initialize), so call it before any
/// store of this module is open. Errors: alreadyExists (DIR/softhsm2.conf or DIR/so-pin
/// exists), io (cannot create a file or directory, with errno text), invalidArgument (bad
/// label), errors of initToken().
Result<SoftHsmSite> createSoftHsmSite(const SoftHsmSiteOptions& options);

}  // namespace tte::hsm
