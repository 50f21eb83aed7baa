// The two-sample Kolmogorov–Smirnov test: do two samples come from the same distribution?
// Used on response times measured interleaved in one run, so slow phases of a loaded machine
// hit both samples alike and only a difference between the two code paths remains.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace tte::test {

struct KsResult {
    double d = 0;  ///< the largest distance between the two empirical distribution functions
    double p = 1;  ///< probability of a distance at least d when both come from one distribution
};

/// Kolmogorov's limit distribution Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}: P(√n·D > λ).
inline double kolmogorovQ(double lambda) {
    if (lambda < 0.2) return 1.0;  // the series converges slowly there and Q is 1 to 1e-15
    double sum = 0;
    for (int k = 1; k <= 100; ++k) {
        const double term = std::exp(-2.0 * k * k * lambda * lambda);
        sum += (k % 2 == 1 ? term : -term);
        if (term < 1e-300) break;
    }
    return std::clamp(2.0 * sum, 0.0, 1.0);
}

/// D and its p-value, with Stephens' small-sample correction of λ (as in Numerical Recipes'
/// kstwo): λ = (√nₑ + 0.12 + 0.11/√nₑ)·D, nₑ = nm/(n+m). Ties are handled: D is taken only
/// between distinct values. Empty samples give d = 0, p = 1.
inline KsResult ksTwoSample(std::vector<double> a, std::vector<double> b) {
    if (a.empty() || b.empty()) return {};
    std::ranges::sort(a);
    std::ranges::sort(b);
    const double n = static_cast<double>(a.size()), m = static_cast<double>(b.size());
    std::size_t i = 0, j = 0;
    double d = 0;
    while (i < a.size() && j < b.size()) {
        const double x = std::min(a[i], b[j]);
        while (i < a.size() && a[i] == x) ++i;
        while (j < b.size() && b[j] == x) ++j;
        d = std::max(d, std::abs(static_cast<double>(i) / n - static_cast<double>(j) / m));
    }
    const double ne = std::sqrt(n * m / (n + m));
    return {d, kolmogorovQ((ne + 0.12 + 0.11 / ne) * d)};
}

/// The median of a sample (the mean of the middle two for an even count); 0 when empty.
inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::ranges::sort(v);
    const std::size_t h = v.size() / 2;
    return v.size() % 2 == 1 ? v[h] : (v[h - 1] + v[h]) / 2;
}

}  // namespace tte::test
