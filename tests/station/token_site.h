// A station token for integration tests: a SoftHSM token labelled "tte-station" in a temp dir
// of its own (hsm::createSoftHsmSite, random PINs) and a store open on it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "station/site.h"
#include "tte/hsm/pkcs11_key_store.h"
#include "tte/hsm/softhsm_site.h"

namespace tte::station::testing {

class StationTokenTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = makeTempDir();
        auto site = hsm::createSoftHsmSite({dir + "/softhsm", "tte-station", "", std::string(hsm::kDefaultModulePath)});
        ASSERT_TRUE(site) << site.error().toString();
        auto s = hsm::Pkcs11KeyStore::open(site->storeOptions());
        ASSERT_TRUE(s) << s.error().toString();
        store = std::move(*s);
    }
    void TearDown() override {
        store.reset();
        std::filesystem::remove_all(dir);
    }

    std::string dir;
    std::unique_ptr<hsm::Pkcs11KeyStore> store;
};

}  // namespace tte::station::testing
