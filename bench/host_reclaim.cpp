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

void addKdamondSchemes(const fs::path& kdamond, const std::string& kName, std::vector<PageoutScheme>& out) {
    if (word(kdamond / "state").value_or("") != "on") return;
    for (const auto& ctx : numbered(kdamond / "contexts", "nr_contexts")) {
        const fs::path intervals = ctx / "monitoring_attrs" / "intervals";
        const double sampleUs = number(intervals / "sample_us").value_or(0);
        const double aggrUs = number(intervals / "aggr_us").value_or(0);
        const auto schemes = numbered(ctx / "schemes", "nr_schemes");
        for (std::size_t s = 0; s < schemes.size(); ++s) {
            const fs::path& scheme = schemes[s];
            if (word(scheme / "action").value_or("") != "pageout") continue;
            PageoutScheme p;
            p.name = "DAMON kdamond " + kName + ", scheme " + std::to_string(s);
            // The age counts aggregation intervals; nr_accesses the samples per interval that
            // found the region used.
            const double ageMin = number(scheme / "access_pattern" / "age" / "min").value_or(0);
            p.minIdleSeconds = ageMin * aggrUs / 1e6;
            const auto accessMax = number(scheme / "access_pattern" / "nr_accesses" / "max");
            if (accessMax && sampleUs > 0 && aggrUs >= sampleUs)
                p.accessLimit = "used in at most " + shortNumber(*accessMax) + " of " + shortNumber(aggrUs / sampleUs) +
                                " samples per " + shortNumber(aggrUs / 1e6) + " s";
            const double bytes = number(scheme / "quotas" / "bytes").value_or(0);
            const double resetMs = number(scheme / "quotas" / "reset_interval_ms").value_or(0);
            if (bytes > 0 && resetMs > 0) p.quotaMiBPerSecond = bytes / (1 << 20) / (resetMs / 1000);
            p.filters = filtersOf(scheme);
            out.push_back(std::move(p));
        }
    }
}

}  // namespace

std::vector<PageoutScheme> pageoutSchemes(const fs::path& sys) {
    std::vector<PageoutScheme> out;
    const fs::path kdamonds = sys / "kernel" / "mm" / "damon" / "admin" / "kdamonds";
    const auto all = numbered(kdamonds, "nr_kdamonds");
    for (std::size_t k = 0; k < all.size(); ++k) addKdamondSchemes(all[k], std::to_string(k), out);
    const fs::path reclaim = sys / "module" / "damon_reclaim" / "parameters";
    if (word(reclaim / "enabled").value_or("N") == "Y") {
        PageoutScheme p;
        p.name = "damon_reclaim";
        p.minIdleSeconds = number(reclaim / "min_age").value_or(0) / 1e6;
        const double bytes = number(reclaim / "quota_sz").value_or(0);
        const double resetMs = number(reclaim / "quota_reset_interval_ms").value_or(0);
        if (bytes > 0 && resetMs > 0) p.quotaMiBPerSecond = bytes / (1 << 20) / (resetMs / 1000);
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
    const fs::path kdamonds = sys / "kernel" / "mm" / "damon" / "admin" / "kdamonds";
    for (const auto& kdamond : numbered(kdamonds, "nr_kdamonds")) {
        if (word(kdamond / "state").value_or("") != "on") continue;
        {
            std::ofstream state(kdamond / "state");
            if (!(state << "update_schemes_stats" << std::flush)) return std::nullopt;
        }
        for (const auto& ctx : numbered(kdamond / "contexts", "nr_contexts"))
            for (const auto& scheme : numbered(ctx / "schemes", "nr_schemes")) {
                if (word(scheme / "action").value_or("") != "pageout") continue;
                const auto applied = number(scheme / "stats" / "sz_applied");
                if (!applied) return std::nullopt;
                total = total.value_or(0) + *applied;
            }
    }
    const fs::path reclaim = sys / "module" / "damon_reclaim" / "parameters";
    if (word(reclaim / "enabled").value_or("N") == "Y") {
        const auto reclaimed = number(reclaim / "bytes_reclaimed_regions");
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
