// Shared bits of the label tests: the shipped templates and sample labels.
#pragma once

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "tte/base/hex.h"
#include "tte/labels/label_content.h"
#include "tte/labels/label_template.h"

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

// The Enrollment URL as docs/PROTOCOL.md §2 builds it.
inline std::string enrollmentUrl(std::uint64_t otp, std::uint32_t devId) {
    return "https://tte-000001.net/.well-known/tte?otp=" + toHex(otp, 16) + ",devid=" + toHex(devId, 8);
}

// The box URL of docs/PROTOCOL.md §3.
inline std::string boxUrl(const std::string& secretHex, std::uint32_t first, std::uint32_t last) {
    return "https://tte-000001.net/.well-known/tte-box?secret=" + secretHex + ",first=" + toHex(first, 8) +
           ",last=" + toHex(last, 8);
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
    b.url = Secret(boxUrl("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 0x2a, 0x4f));
    b.box = 3;
    b.firstDevId = 0x2a;
    b.lastDevId = 0x4f;
    b.msHost = "tte-000001.net";
    b.lot = "L2026-47-A";
    b.date = "2026-11-23";
    return b;
}

}  // namespace tte::labels::testing
