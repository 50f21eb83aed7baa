// The MotherShip's log: one line per event on stderr, either as text
// (`2026-11-23T07:31:02.123456Z level=info event=http method=GET …`) or, with
// `log_format = "json"`, as one JSON object per line whose fields are the event's
// `key=value` pairs (`{"time":"…","level":"info","event":"http","method":"GET",…}`).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "tte/base/error.h"

namespace tte::mothership {

/// A logger writing to stderr in `format` ("text" or "json") from `level` up.
/// Errors: invalidArgument (unknown format or level).
Result<std::shared_ptr<spdlog::logger>> makeLogger(const std::string& name, const std::string& level,
                                                   const std::string& format);

/// One event line as JSON: `key=value` and `key="quoted value"` pairs become fields (digits
/// only: numbers); a message that is not such pairs becomes the field "message".
std::string logLineJson(std::string_view time, std::string_view level, std::string_view logger,
                        std::string_view message);

}  // namespace tte::mothership
