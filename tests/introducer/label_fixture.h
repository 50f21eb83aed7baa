// Test support: real label images (tte::labels with the project's templates) for a URL.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tte/labels/label_template.h"
#include "tte/labels/layout.h"
#include "tte/labels/render.h"

namespace tte::test {

inline std::filesystem::path sourceDir() {
    const char* dir = std::getenv("TTE_SOURCE_DIR");
    return dir ? dir : ".";
}

enum class LabelFormat { png, pdf };

/// Writes a device label carrying `url` to `file`; returns false (with the reason in `why`) on failure.
inline bool writeDeviceLabel(const std::string& url, std::uint32_t devId, const std::filesystem::path& file, LabelFormat format,
                             std::string& why) {
    auto templates = labels::loadLabelTemplates(sourceDir() / "config" / "labels.toml");
    if (!templates) return why = templates.error().toString(), false;
    labels::DeviceLabel label{Secret(url), devId, "tte-000001.net", "LOT-1", "2026-11-23"};
    auto layout = labels::layoutDeviceLabel(templates->device, label);
    if (!layout) return why = layout.error().toString(), false;
    Result<std::vector<std::uint8_t>> bytes = std::vector<std::uint8_t>();
    if (format == LabelFormat::pdf) {
        bytes = labels::renderPdf(*layout);
    } else {
        auto raster = labels::renderRaster(*layout);
        if (!raster) return why = raster.error().toString(), false;
        bytes = labels::encodePng(*raster);
    }
    if (!bytes) return why = bytes.error().toString(), false;
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
    return true;
}

/// Writes a box label carrying `url` to `file` as PNG.
inline bool writeBoxLabel(const std::string& url, std::uint32_t first, std::uint32_t last, const std::filesystem::path& file,
                          std::string& why) {
    auto templates = labels::loadLabelTemplates(sourceDir() / "config" / "labels.toml");
    if (!templates) return why = templates.error().toString(), false;
    labels::BoxLabel label{Secret(url), 1, first, last, "tte-000001.net", "LOT-1", "2026-11-23"};
    auto layout = labels::layoutBoxLabel(templates->box, label);
    if (!layout) return why = layout.error().toString(), false;
    auto raster = labels::renderRaster(*layout);
    if (!raster) return why = raster.error().toString(), false;
    auto bytes = labels::encodePng(*raster);
    if (!bytes) return why = bytes.error().toString(), false;
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
    return true;
}

}  // namespace tte::test
