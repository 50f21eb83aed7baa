// The kernel's proactive reclaim, read from sysfs (host_reclaim.h). The files are the DAMON
// sysfs interface (Documentation/admin-guide/mm/damon/usage.rst): kdamonds/<k>/state,
// contexts/<c>/monitoring_attrs/intervals/{sample_us,aggr_us},
// schemes/<s>/{action,access_pattern,quotas,stats}, and the filters, which kernels before
// 6.15 keep in filters/ and later ones in core_filters/ and ops_filters/; and the damon_reclaim
// module's parameters (Documentation/admin-guide/mm/damon/reclaim.rst).
#include "host_reclaim.h"

#include <cstdio>
#include <fstream>
#include <utility>

namespace tte::bench {

namespace fs = std::filesystem;

namespace {

/// The first word of a sysfs file; none when it cannot be read.
std::optional<std::string> word(const fs::path& file) {
    std::ifstream in(file);
    std::string w;
    if (!(in >> w)) return std::nullopt;
    return w;
}

std::optional<double> number(const fs::path& file) {
    const auto w = word(file);
    if (!w) return std::nullopt;
    try {
        std::size_t used = 0;
        const double v = std::stod(*w, &used);
        if (used != w->size()) return std::nullopt;
        return v;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

/// The entries 0 … nr-1 of a DAMON directory that counts them in nr_<what>.
std::vector<fs::path> numbered(const fs::path& dir, const char* nrFile) {
    std::vector<fs::path> out;
    const auto n = number(dir / nrFile);
    for (int i = 0; n && i < static_cast<int>(*n); ++i) out.push_back(dir / std::to_string(i));
    return out;
}

std::string filtersOf(const fs::path& scheme) {
    std::string out;
    for (const char* dir : {"filters", "core_filters", "ops_filters"}) {
        for (const auto& f : numbered(scheme / dir, "nr_filters")) {
            const auto type = word(f / "type");
            if (!type) continue;
            // A filter that matches decides (allow or reject); "matching N" inverts the match.
            const bool allow = word(f / "allow").value_or("N") == "Y";
            const bool matching = word(f / "matching").value_or("Y") == "Y";
            out += (out.empty() ? "" : ", ") + std::string(allow ? "allow " : "reject ") + (matching ? "" : "non-") +
                   *type;
        }
    }
    return out;
}

/// A number as %g prints it: "60", "128", "0.5".
std::string shortNumber(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

/// The kdamonds under `sys` whose state is "on".
std::vector<fs::path> runningKdamonds(const fs::path& sys) {
    std::vector<fs::path> out;
    for (auto& kdamond : numbered(sys / "kernel" / "mm" / "damon" / "admin" / "kdamonds", "nr_kdamonds"))
        if (word(kdamond / "state").value_or("") == "on") out.push_back(std::move(kdamond));
    return out;
}

/// A pageout scheme of a kdamond: its context, its directory and its number in the context.
struct SchemeDir {
    fs::path context;
    fs::path scheme;
    std::size_t index;
};

std::vector<SchemeDir> pageoutSchemesOf(const fs::path& kdamond) {
    std::vector<SchemeDir> out;
    for (const auto& ctx : numbered(kdamond / "contexts", "nr_contexts")) {
        const auto schemes = numbered(ctx / "schemes", "nr_schemes");
        for (std::size_t s = 0; s < schemes.size(); ++s)
            if (word(schemes[s] / "action").value_or("") == "pageout") out.push_back({ctx, schemes[s], s});
    }
    return out;
}

/// The damon_reclaim module's parameters, when the module is there and enabled.
std::optional<fs::path> enabledReclaimModule(const fs::path& sys) {
    fs::path parameters = sys / "module" / "damon_reclaim" / "parameters";
    if (word(parameters / "enabled").value_or("N") != "Y") return std::nullopt;
    return parameters;
}

/// A quota of `bytes` per `resetMs` milliseconds in MiB/s; 0 for none.
double mibPerSecond(const fs::path& bytes, const fs::path& resetMs) {
    const double b = number(bytes).value_or(0), ms = number(resetMs).value_or(0);
    return b > 0 && ms > 0 ? b / (1 << 20) / (ms / 1000) : 0;
}

PageoutScheme describedScheme(const fs::path& kdamond, const SchemeDir& at) {
    const fs::path intervals = at.context / "monitoring_attrs" / "intervals";
    const double sampleUs = number(intervals / "sample_us").value_or(0);
    const double aggrUs = number(intervals / "aggr_us").value_or(0);
    PageoutScheme p;
    p.name = "DAMON kdamond " + kdamond.filename().string() + ", scheme " + std::to_string(at.index);
    // The age counts aggregation intervals; nr_accesses the samples per interval that found
    // the region used.
    p.minIdleSeconds = number(at.scheme / "access_pattern" / "age" / "min").value_or(0) * aggrUs / 1e6;
    const auto accessMax = number(at.scheme / "access_pattern" / "nr_accesses" / "max");
    if (accessMax && sampleUs > 0 && aggrUs >= sampleUs)
        p.accessLimit = "used in at most " + shortNumber(*accessMax) + " of " + shortNumber(aggrUs / sampleUs) +
                        " samples per " + shortNumber(aggrUs / 1e6) + " s";
    p.quotaMiBPerSecond = mibPerSecond(at.scheme / "quotas" / "bytes", at.scheme / "quotas" / "reset_interval_ms");
    p.filters = filtersOf(at.scheme);
    return p;
}

}  // namespace

std::vector<PageoutScheme> pageoutSchemes(const fs::path& sys) {
    std::vector<PageoutScheme> out;
    for (const auto& kdamond : runningKdamonds(sys))
        for (const auto& at : pageoutSchemesOf(kdamond)) out.push_back(describedScheme(kdamond, at));
    if (const auto reclaim = enabledReclaimModule(sys)) {
        PageoutScheme p;
        p.name = "damon_reclaim";
        p.minIdleSeconds = number(*reclaim / "min_age").value_or(0) / 1e6;
        p.quotaMiBPerSecond = mibPerSecond(*reclaim / "quota_sz", *reclaim / "quota_reset_interval_ms");
        out.push_back(std::move(p));
    }
    return out;
}

std::string describe(const std::vector<PageoutScheme>& schemes) {
    if (schemes.empty()) return "";
    std::string out =
        "this machine's kernel pages out memory that has looked unused for a while, even with memory free (";
    for (std::size_t i = 0; i < schemes.size(); ++i) {
        const auto& p = schemes[i];
        out += (i ? "; " : "") + p.name + ": after " + shortNumber(p.minIdleSeconds) + " s";
        if (!p.accessLimit.empty()) out += " " + p.accessLimit;
        if (p.quotaMiBPerSecond > 0) out += ", up to " + shortNumber(p.quotaMiBPerSecond) + " MiB/s";
        if (!p.filters.empty()) out += ", filters: " + p.filters;
    }
    return out + "): registry pages that no lookup touched for that long leave the page cache, and the lookup "
                 "that needs one next reads it from the disk";
}

std::optional<double> pagedOutBytes(const fs::path& sys) {
    std::optional<double> total;
    for (const auto& kdamond : runningKdamonds(sys)) {
        {
            std::ofstream state(kdamond / "state");
            if (!(state << "update_schemes_stats" << std::flush)) return std::nullopt;
        }
        for (const auto& at : pageoutSchemesOf(kdamond)) {
            const auto applied = number(at.scheme / "stats" / "sz_applied");
            if (!applied) return std::nullopt;
            total = total.value_or(0) + *applied;
        }
    }
    if (const auto reclaim = enabledReclaimModule(sys)) {
        const auto reclaimed = number(*reclaim / "bytes_reclaimed_regions");
        if (!reclaimed) return std::nullopt;
        total = total.value_or(0) + *reclaimed;
    }
    return total;
}

PageoutMeter::PageoutMeter(std::string previous, fs::path sys)
    : m_previous(std::move(previous)), m_sys(std::move(sys)), m_last(pagedOutBytes(m_sys)) {}

std::string PageoutMeter::since() {
    const auto now = pagedOutBytes(m_sys);
    const auto last = std::exchange(m_last, now);
    const bool first = std::exchange(m_first, false);
    if (!now || !last) return "";
    char text[160];
    std::snprintf(text, sizeof text, "; proactive reclaim paged out %.2f GB of the machine's memory since %s",
                  (*now - *last) / 1e9, first ? "the bench started" : m_previous.c_str());
    return text;
}

}  // namespace tte::bench
