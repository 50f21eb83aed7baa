// Test support: a fresh private directory per test, removed with everything in it.
#pragma once

#include <filesystem>
#include <string>

namespace tte::test {

class TempDir {
public:
    /// Makes $TMPDIR/tte-<what>-XXXXXX (mode 0700). Throws std::runtime_error when it cannot.
    explicit TempDir(const std::string& what = "test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    /// `path()/name` as a string.
    [[nodiscard]] std::string file(const std::string& name) const { return (m_path / name).string(); }

private:
    std::filesystem::path m_path;
};

}  // namespace tte::test
