// StrictToml: a CLI11 config reader on toml++ that knows the options of its App.
#include "tte/cli/config_file.h"

#include <sstream>

#include "tte/base/spelling.h"
#include "tte/settings/toml_reader.h"

namespace tte::cli {
namespace {

enum class Kind { flag, list, integer, number, text };

Kind kindOf(const CLI::Option& o) {
    if (o.get_expected_min() == 0) return Kind::flag;
    if (o.get_expected_max() > 1) return Kind::list;
    const std::string full = o.get_type_name();  // "INT", or "INT:INT in [1 - 64]" with a check
    const std::string type = full.substr(0, full.find(':'));
    if (type == "INT" || type == "UINT") return Kind::integer;
    if (type == "FLOAT") return Kind::number;
    return Kind::text;
}

std::string_view expected(Kind k) {
    switch (k) {
        case Kind::flag: return "true or false";
        case Kind::list: return "an array";
        case Kind::integer: return "an integer";
        case Kind::number: return "a number";
        case Kind::text: return "a string";
    }
    return "?";
}

/// A scalar as CLI11 wants it, or nothing when its TOML type does not fit `kind`.
std::optional<std::string> scalar(const toml::node& n, Kind kind) {
    if (kind == Kind::flag && n.is_boolean()) return n.as_boolean()->get() ? "true" : "false";
    if (kind == Kind::integer && n.is_integer()) return std::to_string(n.as_integer()->get());
    if (kind == Kind::number && n.is_number()) {
        std::ostringstream os;
        os.precision(17);
        os << *n.value<double>();
        return os.str();
    }
    if ((kind == Kind::text || kind == Kind::list) && n.is_string()) return n.as_string()->get();
    return std::nullopt;
}

/// The first refusal of the option's own checks (CLI::Range, CLI::IsMember, …), if any.
std::string refusal(CLI::Option& o, std::string value) {
    for (int i = 0;; ++i) {
        CLI::Validator* v = nullptr;
        try {
            v = o.get_validator(i);
        } catch (const CLI::OptionNotFound&) {
            return {};
        }
        std::string copy = value;
        if (std::string why = (*v)(copy); !why.empty()) return why;
    }
}

class StrictToml final : public CLI::Config {
public:
    explicit StrictToml(CLI::App& app) : m_app(app) {}

    std::string to_config(const CLI::App*, bool, bool, std::string) const override { return {}; }

    std::vector<CLI::ConfigItem> from_config(std::istream& in) const override {
        const CLI::Option* config = m_app.get_config_ptr();
        const std::string file = config != nullptr && !config->results().empty() ? config->results().back() : "config";
        std::stringstream text;
        text << in.rdbuf();
        auto root = settings::parse(text.str(), file);
        if (!root) throw ConfigFileError(file, root.error());
        settings::Problems problems(file);
        std::vector<CLI::ConfigItem> items;
        for (const auto& [k, v] : *root) {
            const std::string key(k.str());
            const int line = static_cast<int>(k.source().begin.line);
            CLI::Option* o = option(key);
            if (o == nullptr) {
                problems.add(line, key, std::string(v.is_table() ? "unknown table" : "unknown key") + didYouMean(key, names()));
                continue;
            }
            if (auto item = itemOf(*o, key, v, line, problems)) items.push_back(std::move(*item));
        }
        if (auto s = problems.status(); !s) throw ConfigFileError(file, s.error());
        return items;
    }

private:
    /// The option a key sets: a configurable long option other than --help, --version, --config.
    CLI::Option* option(const std::string& key) const {
        CLI::Option* o = m_app.get_option_no_throw("--" + key);
        if (o == nullptr || !o->get_configurable() || o == m_app.get_config_ptr() || o == m_app.get_help_ptr() ||
            key == "version" || key == "check-config")
            return nullptr;
        return o;
    }

    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const CLI::Option* o : m_app.get_options()) {
            for (const auto& l : o->get_lnames()) {
                if (option(l) != nullptr) out.push_back(l);
            }
        }
        return out;
    }

    static std::optional<CLI::ConfigItem> itemOf(CLI::Option& o, const std::string& key, const toml::node& v, int line,
                                                 settings::Problems& problems) {
        const Kind kind = kindOf(o);
        CLI::ConfigItem item;
        item.name = key;
        if (kind == Kind::list && v.is_array()) {
            for (const auto& e : *v.as_array()) {
                auto s = scalar(e, Kind::text);
                if (!s) {
                    problems.add(line, key, "expected an array of strings, found an array holding " +
                                                std::string(settings::typeName(e.type())));
                    return std::nullopt;
                }
                item.inputs.push_back(*s);
            }
        } else if (auto s = scalar(v, kind)) {
            item.inputs.push_back(*s);
        } else {
            problems.add(line, key, "expected " + std::string(expected(kind)) + ", found " + std::string(settings::typeName(v.type())));
            return std::nullopt;
        }
        for (const auto& input : item.inputs) {
            if (std::string why = refusal(o, input); !why.empty()) {
                problems.add(line, key, why);
                return std::nullopt;
            }
        }
        return item;
    }

    CLI::App& m_app;
};

}  // namespace

CLI::Option* addConfigFile(CLI::App& app, const std::string& help) {
    CLI::Option* o = app.set_config("--config", "", help);
    app.config_formatter(std::make_shared<StrictToml>(app));
    return o;
}

}  // namespace tte::cli
