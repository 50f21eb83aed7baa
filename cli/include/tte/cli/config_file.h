// `--config FILE` for a program whose configuration file holds its long options as keys
// (tte-controller): CLI11 reads the file, a flag on the command line wins over it, and
// tte::settings' strictness applies – a key that is no option, a value of the wrong TOML type
// or one the option's check refuses is a problem `FILE:LINE: key: reason`.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "tte/base/error.h"

namespace tte::cli {

/// Adds `--config FILE` to `app`, read strictly. Call after adding the options the file may
/// set. parse() reports the file's problems: the first one as a usage error, or all of them
/// with --check-config (addCheckConfig()).
CLI::Option* addConfigFile(CLI::App& app, const std::string& help);

/// The problems of a configuration file read through addConfigFile(), as CLI11 sees them.
class ConfigFileError : public CLI::ConfigError {
public:
    ConfigFileError(std::string file, tte::Error error)
        : CLI::ConfigError(error.message), m_file(std::move(file)), m_error(std::move(error)) {}
    [[nodiscard]] const std::string& file() const { return m_file; }
    [[nodiscard]] const tte::Error& error() const { return m_error; }

private:
    std::string m_file;
    tte::Error m_error;
};

}  // namespace tte::cli
