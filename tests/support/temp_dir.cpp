// TempDir (temp_dir.h).
#include "support/temp_dir.h"

#include <stdlib.h>

#include <stdexcept>

namespace tte::test {

TempDir::TempDir(const std::string& what) {
    std::string tmpl = (std::filesystem::temp_directory_path() / ("tte-" + what + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    m_path = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

}  // namespace tte::test
