// closestName(): optimal string alignment distance over lower-cased names.
#include "tte/base/spelling.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace tte {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::size_t distance(const std::string& a, const std::string& b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[n][m];
}

}  // namespace

std::optional<std::string> closestName(std::string_view word, std::span<const std::string> candidates) {
    const std::string w = lower(word);
    const std::size_t allowed = w.size() <= 4 ? 1 : w.size() <= 8 ? 2 : 3;
    std::optional<std::string> best;
    std::size_t bestDistance = allowed + 1;
    for (const auto& c : candidates) {
        if (c == word) continue;
        const std::size_t d = distance(w, lower(c));  // 0 for a name that differs only in case
        if (d < bestDistance) {
            bestDistance = d;
            best = c;
        }
    }
    return best;
}

std::string didYouMean(std::string_view word, std::span<const std::string> candidates) {
    auto best = closestName(word, candidates);
    return best ? " (did you mean '" + *best + "'?)" : std::string();
}

}  // namespace tte
