// Where tte-provision takes the token's PIN when the station config names no pin_file: a file
// (--pin-file), an open file descriptor (--pin-fd, for scripts), or the terminal without echo.
// Never argv, never a log.
#pragma once

#include <string>

#include "tte/base/error.h"
#include "tte/base/secret.h"

namespace tte::station::app {

struct PinInput {
    std::string file;  ///< --pin-file
    int fd = -1;       ///< --pin-fd
};

/// The PIN from `in`, or asked on the terminal (`prompt` on /dev/tty, echo off) when neither
/// is given. One line; the trailing newline is dropped.
/// Errors: invalidArgument (empty PIN), io (unreadable file or descriptor), unavailable (no
/// terminal to ask on: give --pin-file or --pin-fd).
Result<Secret> readPin(const PinInput& in, const std::string& prompt);

}  // namespace tte::station::app
