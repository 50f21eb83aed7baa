// Text and JSON log lines (logging.h).
#include "tte/mothership/logging.h"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <optional>
#include <set>

namespace tte::mothership {
namespace {

/// `key=value key2="a b"` → fields in order; nothing when the text is not such pairs.
std::optional<nlohmann::ordered_json> parsePairs(std::string_view text) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == ' ') {
            ++i;
            continue;
        }
        const std::size_t eq = text.find('=', i);
        if (eq == std::string_view::npos || eq == i) return std::nullopt;
        const std::string key(text.substr(i, eq - i));
        if (key.find_first_of(" \"") != std::string::npos) return std::nullopt;
        std::string value;
        bool quoted = false;
        i = eq + 1;
        if (i < text.size() && text[i] == '"') {
            quoted = true;
            const std::size_t close = text.find('"', i + 1);
            if (close == std::string_view::npos) return std::nullopt;
            value = text.substr(i + 1, close - i - 1);
            i = close + 1;
            if (i < text.size() && text[i] != ' ') return std::nullopt;
        } else {
            const std::size_t end = std::min(text.find(' ', i), text.size());
            value = text.substr(i, end - i);
            i = end;
        }
        const bool number = !quoted && !value.empty() && value.size() < 19 &&
                            value.find_first_not_of("0123456789") == std::string::npos;
        if (number) out[key] = std::stoll(value);
        else out[key] = value;
    }
    return out;
}

class JsonFormatter final : public spdlog::formatter {
public:
    explicit JsonFormatter(std::string logger) : m_logger(std::move(logger)) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto since = msg.time.time_since_epoch();
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since - secs).count();
        const std::time_t t = secs.count();
        std::tm utc{};
        gmtime_r(&t, &utc);
        char time[40];
        const std::size_t n = std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%S", &utc);
        std::snprintf(time + n, sizeof time - n, ".%06lldZ", static_cast<long long>(micros));
        const auto level = spdlog::level::to_string_view(msg.level);
        const std::string line = logLineJson(time, std::string_view(level.data(), level.size()), m_logger,
                                             std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(line.data(), line.data() + line.size());
        dest.push_back('\n');
    }

    [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>(m_logger);
    }

private:
    std::string m_logger;
};

}  // namespace

std::string logLineJson(std::string_view time, std::string_view level, std::string_view logger,
                        std::string_view message) {
    nlohmann::ordered_json line{{"time", time}, {"level", level}, {"logger", logger}};
    if (auto fields = parsePairs(message)) {
        for (auto& [k, v] : fields->items()) {
            if (!line.contains(k)) line[k] = v;
        }
    } else {
        line["message"] = message;
    }
    // Invalid UTF-8 (a peer's bytes in a message) is replaced, never a throw.
    return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<std::shared_ptr<spdlog::logger>> makeLogger(const std::string& name, const std::string& level,
                                                   const std::string& format) {
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (!levels.contains(level))
        return fail(Errc::invalidArgument,
                    "log level '" + level + "' is not one of trace, debug, info, warn, error, critical, off");
    if (format != "text" && format != "json")
        return fail(Errc::invalidArgument, "log format '" + format + "' is not text or json");
    auto log = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
    if (format == "json") log->set_formatter(std::make_unique<JsonFormatter>(name));
    else log->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
    log->set_level(spdlog::level::from_str(level));
    log->flush_on(spdlog::level::info);
    return log;
}

}  // namespace tte::mothership
