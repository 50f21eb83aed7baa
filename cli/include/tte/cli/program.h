// The command-line convention every TTE program follows (README "Command-line convention"):
//   --help and --version (version, git revision, build type) print on stdout and exit 0;
//   exit 0 success, 1 failure, 2 usage error (bad flags, or a bad configuration file),
//   and each program's documented extra codes (3 and up);
//   every error is one line `PROGRAM: reason` on stderr.
// CLI11 parses; this file makes its errors follow the convention, so no main() repeats it.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "tte/base/error.h"

namespace tte::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// `PROGRAM VERSION (git REVISION, BUILD-TYPE)`, e.g.
/// `tte-flash 0.1.0 (git 5b9d329a1c2e-dirty, Debug+asan+ubsan)`.
std::string versionLine(std::string_view program);

/// Names `app` after the program and adds `--version`. Call before adding other options.
void setUp(CLI::App& app, std::string_view program);

/// Adds `--check-config`: check the configuration file, print `FILE: ok` or its problems, start
/// nothing. Given, it stands alone: parse() does not ask for a command.
CLI::Option* addCheckConfig(CLI::App& app, bool& flag);

/// Parses argv with `app` (set up with setUp()). Returns the exit code the program should return
/// now – 0 after --help or --version (printed on stdout), 2 after a usage error (one line on
/// stderr: an unknown option or command with a "did you mean", a bad or missing value, a
/// missing required option or command, each naming the subcommand it belongs to) – or nothing
/// when the program should go on. Unknown options and arguments are found before missing ones,
/// so `--bogus` is named as what is wrong, not a required option the user did not get to.
std::optional<int> parse(CLI::App& app, int argc, const char* const* argv);

/// Prints `PROGRAM: reason` (one line: newlines in `reason` become "; ") on stderr; returns 1.
int fail(std::string_view program, std::string_view reason);
/// As fail() with error.toString().
int fail(std::string_view program, const Error& error);
/// Prints `PROGRAM: reason` on stderr; returns 2 (a usage error found after parsing).
int usage(std::string_view program, std::string_view reason);

/// A configuration file that failed to load: its first problem as one line on stderr
/// (`PROGRAM: FILE:LINE: key: reason`, plus "(and N more: PROGRAM --check-config …)" when
/// there are more); returns 2. Configuration loaders report one problem per line.
int configFailed(std::string_view program, const Error& error);

/// What --check-config prints for a loaded configuration: `FILE: ok` on stdout and 0, or every
/// problem on its own line on stderr (`FILE:LINE: key: reason`) and 2.
int checkConfigResult(const std::string& file, const Status& loaded);

}  // namespace tte::cli
