// Files that are either the old or the new content, never half of each: write to a temp
// file beside the target, fsync it, rename over the target, fsync the directory.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "tte/base/error.h"

namespace tte {

/// Replaces `path` atomically with `data`, created with `mode` (0600 by default: such files
/// may carry OTPs or keys). Errors: io (errno kept).
Status writeFileAtomic(const std::filesystem::path& path, std::string_view data, unsigned mode = 0600);

/// The whole file. Errors: notFound (no such file), io.
Result<std::string> readWholeFile(const std::filesystem::path& path);

}  // namespace tte
