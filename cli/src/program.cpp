// The command-line convention (program.h): CLI11 parses with its own requirement and extras
// checks switched off, so that this file can look at what was given in a useful order and word
// each usage error as one line that names the real cause.
#include "tte/cli/program.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "tte/base/build_info.h"
#include "tte/base/spelling.h"
#include "tte/cli/config_file.h"

namespace tte::cli {
namespace {

/// What CLI11 would have enforced itself; parse() enforces it after looking at the extras.
struct Requirements {
    std::vector<std::pair<CLI::App*, CLI::Option*>> options;
    struct Commands {
        CLI::App* app;
        std::size_t min;
        std::size_t max;
    };
    std::vector<Commands> commands;

    void relax(CLI::App* app) {
        app->allow_extras();
        for (CLI::Option* o : app->get_options()) {
            if (!o->get_required()) continue;
            // A required positional stays required: CLI11 stops a repeatable option from eating
            // the words it needs (`write --device 1-1.1 FILE`). Missing, it ends the parse with
            // a RequiredError, which parse() words as it words the others.
            if (!o->get_positional()) o->required(false);
            options.emplace_back(app, o);
        }
        if (app->get_require_subcommand_min() > 0) {
            commands.push_back({app, app->get_require_subcommand_min(), app->get_require_subcommand_max()});
            app->require_subcommand(std::size_t{0}, app->get_require_subcommand_max());
        }
        for (CLI::App* sub : allCommands(app)) relax(sub);
    }
    /// Puts the requirements back (the help text shows them).
    void restore() {
        for (auto& [app, o] : options) o->required(true);
        for (auto& c : commands) c.app->require_subcommand(c.min, c.max);
    }
    static std::vector<CLI::App*> allCommands(CLI::App* app) {
        return app->get_subcommands([](CLI::App*) { return true; });
    }
};

std::string oneLine(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\n') out += "; ";
        else if (c != '\r') out += c;
    }
    while (out.ends_with("; ")) out.resize(out.size() - 2);
    return out;
}

/// CLI11's "--flash: 1 required TEXT missing" as "--flash needs a value (TEXT)"; others unchanged.
std::string reworded(const CLI::ParseError& e) {
    const std::string m = oneLine(e.what());
    const auto colon = m.find(": ");
    const auto required = m.find(" required ");
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) == nullptr || colon == std::string::npos ||
        required == std::string::npos || !m.ends_with(" missing"))
        return m;
    const std::string type = m.substr(required + 10, m.size() - 8 - required - 10);
    return m.substr(0, colon) + " needs a value (" + type + ")";
}

/// The parsed chain: the program, then each subcommand given, outermost first.
std::vector<CLI::App*> parsedChain(CLI::App& app) {
    std::vector<CLI::App*> chain{&app};
    for (;;) {
        auto subs = chain.back()->get_subcommands();
        if (subs.empty()) return chain;
        chain.push_back(subs.front());
    }
}

std::string commandPath(const std::vector<CLI::App*>& chain, std::size_t upTo) {
    std::string path;
    for (std::size_t i = 1; i <= upTo && i < chain.size(); ++i) path += (path.empty() ? "" : " ") + chain[i]->get_name();
    return path;
}

std::string seeHelp(const std::vector<CLI::App*>& chain, std::size_t upTo) {
    const std::string path = commandPath(chain, upTo);
    return " (see " + chain.front()->get_name() + (path.empty() ? "" : " " + path) + " --help)";
}

std::vector<std::string> commandNames(CLI::App* app) {
    std::vector<std::string> names;
    for (const CLI::App* sub : Requirements::allCommands(app)) names.push_back(sub->get_name());
    return names;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

/// The first thing CLI11 could not place: an unknown option, command or argument.
std::optional<std::string> extrasProblem(CLI::App& app, const std::vector<CLI::App*>& chain) {
    const auto extras = app.remaining(true);
    if (extras.empty()) return std::nullopt;
    const std::string& word = extras.front();
    CLI::App* where = chain.back();
    if (word.size() > 1 && word.front() == '-') {
        const std::string name = word.substr(0, word.find('='));
        std::vector<std::string> known;
        for (const CLI::App* a : chain) {
            for (const CLI::Option* o : a->get_options()) {
                for (const auto& l : o->get_lnames()) known.push_back("--" + l);
            }
        }
        return "unknown option '" + name + "'" + didYouMean(name, known) + seeHelp(chain, chain.size());
    }
    auto names = commandNames(where);
    if (!names.empty() && where->get_subcommands().empty())
        return "unknown command '" + word + "'" + didYouMean(word, names) + "; commands: " + joined(names);
    return "unexpected argument '" + word + "'" + seeHelp(chain, chain.size());
}

constexpr const char* kCheckConfig = "--check-config";

bool checkingConfig(CLI::App& app) {
    const CLI::Option* o = app.get_option_no_throw(kCheckConfig);
    return o != nullptr && o->count() > 0;
}

/// The first requirement not met along the parsed chain, outermost first (--check-config needs
/// no command).
std::optional<std::string> missingProblem(const Requirements& r, const std::vector<CLI::App*>& chain) {
    const bool noCommandNeeded = checkingConfig(*chain.front());
    for (std::size_t i = 0; i < chain.size(); ++i) {
        const std::string path = commandPath(chain, i);
        const std::string prefix = path.empty() ? "" : path + ": ";
        for (const auto& [app, o] : r.options) {
            if (app != chain[i] || o->count() > 0) continue;
            if (o->get_lnames().empty() && o->get_snames().empty())
                return prefix + "missing argument '" + o->get_name() + "'" + seeHelp(chain, i);
            return prefix + "missing " + o->get_name() + seeHelp(chain, i);
        }
        for (const auto& c : r.commands) {
            if (c.app == chain[i] && !noCommandNeeded && chain[i]->get_subcommands().size() < c.min)
                return prefix + "missing command: one of " + joined(commandNames(chain[i])) + seeHelp(chain, i);
        }
    }
    return std::nullopt;
}

}  // namespace

std::string versionLine(std::string_view program) {
    return std::string(program) + " " + kVersion + " (git " + kGitRevision + ", " + kBuildType + ")";
}

void setUp(CLI::App& app, std::string_view program) {
    app.name(std::string(program));
    app.set_version_flag("--version", versionLine(program), "print the version, git revision and build type, and exit");
}

CLI::Option* addCheckConfig(CLI::App& app, bool& flag) {
    return app.add_flag(kCheckConfig, flag, "check the configuration file: print 'FILE: ok' or every problem, start nothing");
}

std::optional<int> parse(CLI::App& app, int argc, const char* const* argv) {
    Requirements r;
    r.relax(&app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        r.restore();
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        r.restore();
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const ConfigFileError& e) {
        r.restore();
        if (checkingConfig(app)) return checkConfigResult(e.file(), std::unexpected(e.error()));
        return configFailed(app.get_name(), e.error());
    } catch (const CLI::RequiredError& e) {  // a required positional: what was given comes first
        r.restore();
        const auto chain = parsedChain(app);
        if (auto p = extrasProblem(app, chain)) return usage(app.get_name(), *p);
        if (auto p = missingProblem(r, chain)) return usage(app.get_name(), *p);
        return usage(app.get_name(), reworded(e) + seeHelp(chain, chain.size()));
    } catch (const CLI::ParseError& e) {
        r.restore();
        return usage(app.get_name(), reworded(e) + seeHelp(parsedChain(app), parsedChain(app).size()));
    }
    r.restore();
    const auto chain = parsedChain(app);
    if (auto p = extrasProblem(app, chain)) return usage(app.get_name(), *p);
    if (auto p = missingProblem(r, chain)) return usage(app.get_name(), *p);
    return std::nullopt;
}

int fail(std::string_view program, std::string_view reason) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(), oneLine(reason).c_str());
    std::fflush(stderr);
    return kExitFailure;
}

int fail(std::string_view program, const Error& error) { return fail(program, error.toString()); }

int usage(std::string_view program, std::string_view reason) {
    fail(program, reason);
    return kExitUsage;
}

int configFailed(std::string_view program, const Error& error) {
    std::vector<std::string> lines;
    for (std::size_t at = 0; at < error.message.size();) {
        const auto end = std::min(error.message.find('\n', at), error.message.size());
        if (end > at) lines.push_back(error.message.substr(at, end - at));
        at = end + 1;
    }
    if (lines.empty()) lines.push_back(error.toString());
    if (lines.size() > 1)
        lines.front() += " (and " + std::to_string(lines.size() - 1) + " more: see " + std::string(program) + " --check-config)";
    return usage(program, lines.front());
}

int checkConfigResult(const std::string& file, const Status& loaded) {
    if (loaded) {
        std::printf("%s: ok\n", file.c_str());
        std::fflush(stdout);
        return kExitOk;
    }
    std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
    std::fflush(stderr);
    return kExitUsage;
}

}  // namespace tte::cli
