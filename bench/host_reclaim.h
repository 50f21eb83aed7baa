// The kernel's proactive reclaim on the bench's machine: DAMON-based schemes that page out
// memory nobody has used for a while, even with memory free (Documentation/admin-guide/mm/
// damon/usage.rst and reclaim.rst). The page cache a registry lives in is such memory: on a
// machine that runs one, a page that no lookup touched for the scheme's minimum age goes back
// to the disk, and the next lookup that needs it waits for a read. registry_bench names the
// schemes it finds and how much they paged out between its measurements (host_reclaim.cpp).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tte::bench {

/// One running scheme that pages memory out.
struct PageoutScheme {
    std::string name;           ///< e.g. "DAMON kdamond 0, scheme 0" or "damon_reclaim"
    double minIdleSeconds = 0;  ///< how long a region must have looked unused before it goes
    std::string accessLimit;    ///< e.g. "used in at most 1 of 10 samples per 5 s" (may be empty)
    double quotaMiBPerSecond = 0;  ///< the most it pages out per second; 0: no quota
    std::string filters;        ///< e.g. "reject anon, allow unmapped" (may be empty)
};

/// The running pageout schemes under `sys` (the tree mounted at /sys): every `pageout` scheme
/// of a kdamond whose state is "on" (kernel/mm/damon/admin) and the damon_reclaim module when
/// it is enabled (module/damon_reclaim/parameters). None when the kernel has no DAMON or runs
/// no such scheme; what cannot be read counts as not running.
std::vector<PageoutScheme> pageoutSchemes(const std::filesystem::path& sys = "/sys");

/// One sentence that names `schemes` and what they do to a registry's pages ("" for none).
std::string describe(const std::vector<PageoutScheme>& schemes);

/// The bytes the running pageout schemes under `sys` have paged out so far. A kdamond's counts
/// are refreshed by writing "update_schemes_stats" to its state file, which takes root; none
/// when that is refused or nothing runs.
std::optional<double> pagedOutBytes(const std::filesystem::path& sys = "/sys");

/// What the schemes paged out between the calls of since(), for a line per measurement.
class PageoutMeter {
public:
    /// Counts from now; `previous` names what a later call counts from, e.g. "the previous
    /// lookup pass".
    explicit PageoutMeter(std::string previous, std::filesystem::path sys = "/sys");
    /// E.g. "; proactive reclaim paged out 4.21 GB of the machine's memory since the bench
    /// started" (first call) or "… since the previous lookup pass"; "" when nothing runs or the
    /// kernel does not tell.
    std::string since();

private:
    std::string m_previous;
    std::filesystem::path m_sys;
    std::optional<double> m_last;
    bool m_first = true;
};

}  // namespace tte::bench
