// Table and JSON-lines output for bench/ programs.
#include "report.h"

#include <cstdio>
#include <cstring>
#include <cstdlib>

namespace tte::bench {
namespace {

std::string jsonString(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "\"";
}

}  // namespace

Options parseOptions(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--json") == 0) {
            o.json = true;
        } else if (std::strcmp(argv[i], "--smoke") == 0) {
            o.smoke = true;
        } else if (std::strcmp(argv[i], "--help") == 0) {
            std::printf("usage: %s [--json] [--smoke]\n", argv[0]);
            std::exit(0);
        } else {
            std::fprintf(stderr, "%s: unknown argument %s\n", argv[0], argv[i]);
            std::exit(2);
        }
    }
    return o;
}

void print(const std::vector<Figure>& figures, const Options& options) {
    if (options.json) {
        for (const auto& f : figures) {
            std::printf("{\"figure\": %s, \"value\": %.6g, \"unit\": %s, \"bound\": %s, \"bound_value\": %.6g, "
                        "\"ratio\": %.4g, \"target\": %.4g}\n",
                        jsonString(f.figure).c_str(), f.value, jsonString(f.unit).c_str(),
                        jsonString(f.bound).c_str(), f.boundValue, f.ratio, f.target);
        }
        return;
    }
    std::printf("%-40s %14s %-8s %-36s %14s %8s %8s\n", "figure", "value", "unit", "bound", "bound value",
                "ratio", "target");
    for (const auto& f : figures) {
        std::printf("%-40s %14.6g %-8s %-36s %14.6g %8.4g %8.4g\n", f.figure.c_str(), f.value, f.unit.c_str(),
                    f.bound.c_str(), f.boundValue, f.ratio, f.target);
    }
}

}  // namespace tte::bench
