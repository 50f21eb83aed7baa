// Shared bits of the label tests: the shipped templates and sample labels.
#pragma once

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "tte/base/hex.h"
#include "tte/labels/label_content.h"
#include "tte/labels/label_template.h"
#include "tte/protocol/box.h"
#include "tte/protocol/enrollment_url.h"

namespace tte::labels::testing {

inline std::string sourceDir() {
    const char* dir = std::getenv("TTE_SOURCE_DIR");
    return dir != nullptr ? dir : TTE_TEST_SOURCE_DIR;
}

inline LabelTemplates shippedTemplates() {
    auto t = loadLabelTemplates(sourceDir() + "/config/labels.toml");
    if (!t) ADD_FAILURE() << t.error().toString();
    return t ? std::move(*t) : LabelTemplates{};
}

// The Enrollment URL as tte::protocol builds it (docs/PROTOCOL.md §2).
inline std::string enrollmentUrl(std::uint64_t otp, std::uint32_t devId, std::uint32_t msId = 1) {
    return protocol::buildEnrollmentUrl({protocol::MsId{msId}, protocol::Otp(otp), protocol::DevId{devId}});
}

// The box URL of docs/PROTOCOL.md §3, from a box secret derived as §4 says.
inline std::string boxUrl(std::uint32_t boxNumber, std::uint32_t first, std::uint32_t last) {
    const std::vector<std::uint8_t> lotKey(32, 0x5a);
    auto url = protocol::buildBoxUrl({protocol::MsId{1}, protocol::deriveBoxSecret(lotKey, boxNumber),
                                      protocol::DevId{first}, protocol::DevId{last}});
    if (!url) ADD_FAILURE() << url.error().toString();
    return url ? *url : std::string();
}

inline DeviceLabel sampleDevice(std::uint32_t devId = 0x0000002a, std::uint64_t otp = 0x123456789abcdef0) {
    DeviceLabel d;
    d.url = Secret(enrollmentUrl(otp, devId));
    d.devId = devId;
    d.msHost = "tte-000001.net";
    d.lot = "L2026-47-A";
    d.date = "2026-11-23";
    return d;
}

inline BoxLabel sampleBox() {
    BoxLabel b;
    b.url = Secret(boxUrl(3, 0x2a, 0x4f));
    b.box = 3;
    b.firstDevId = 0x2a;
    b.lastDevId = 0x4f;
    b.msHost = "tte-000001.net";
    b.lot = "L2026-47-A";
    b.date = "2026-11-23";
    return b;
}

}  // namespace tte::labels::testing
