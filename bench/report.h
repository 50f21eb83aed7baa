// The common output of every bench/ program: a table for people, or with --json one
// object per figure (../shared/INTERFACES.md, "Benchmarks").
#pragma once

#include <string>
#include <vector>

namespace tte::bench {

/// One measured figure against a bound measured in the same run.
struct Figure {
    std::string figure;     ///< what was measured, e.g. "claims/s sqlite"
    double value = 0;       ///< our figure
    std::string unit;       ///< "ops/s", "ms", ...
    std::string bound;      ///< what the bound is, e.g. "raw sqlite commits/s"
    double boundValue = 0;  ///< the bound's figure, measured in this run
    double ratio = 0;       ///< value / boundValue (or as the figure defines)
    double target = 0;      ///< the goal for the ratio
};

/// Command line shared by the benches: --json, --smoke (tiny run for CI).
struct Options {
    bool json = false;
    bool smoke = false;
};
Options parseOptions(int argc, char** argv);

/// Prints the figures as a table or as JSON lines to stdout.
void print(const std::vector<Figure>& figures, const Options& options);

}  // namespace tte::bench
