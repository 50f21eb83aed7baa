// A private SoftHSM token per test: temp dir, own softhsm2.conf (SOFTHSM2_CONF set for the
// test), random PINs; raw PKCS#11 access to check the adapter from outside; pkcs11-tool run
// on a pseudo-terminal so the PIN is typed, never passed on argv.
#pragma once

#include <p11-kit/pkcs11.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/softhsm.h"
#include "support/temp_dir.h"
#include "tte/hsm/pkcs11_key_store.h"
#include "tte/hsm/softhsm_site.h"

namespace tte::hsm::test {

/// The PKCS#11 module under test: $TTE_PKCS11_MODULE or SoftHSM's default path.
std::string modulePath();

class SoftHsmTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    /// Opens a store on this test's token.
    Result<std::unique_ptr<Pkcs11KeyStore>> open() const;
    /// The function list of the module (already initialized by a store that is open).
    CK_FUNCTION_LIST* rawModule();
    /// The slot holding this test's token (needs an open store).
    CK_SLOT_ID rawSlot();
    /// `pkcs11-tool --list-objects --login` on this token; the PIN is typed on a pty.
    std::string listObjectsWithTool();
    /// Makes the token's directory refuse new files; false (and a reason) if impossible here.
    bool makeTokenDirectoryReadOnly(std::string& why);

    std::unique_ptr<tte::test::TempDir> m_tmpDir;
    std::string m_tmp;
    SoftHsmSite m_site;
    std::string m_lockedDir;
    void* m_dl = nullptr;
};

}  // namespace tte::hsm::test
