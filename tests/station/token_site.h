// A station token for integration tests: a SoftHSM token labelled "tte-station" in a temp dir
// of its own (test::SoftHsmToken) and a store open on it.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "support/softhsm.h"
#include "support/temp_dir.h"

namespace tte::station::testing {

class StationTokenTest : public ::testing::Test {
protected:
    void SetUp() override {
        token = std::make_unique<test::SoftHsmToken>(tmp.path() / "softhsm", "tte-station");
        ASSERT_EQ(token->error(), "");
        store = token->store();
    }
    void TearDown() override { token.reset(); }

    test::TempDir tmp{"station-token"};
    std::string dir = tmp.path().string();
    std::unique_ptr<test::SoftHsmToken> token;
    hsm::Pkcs11KeyStore* store = nullptr;
};

}  // namespace tte::station::testing
