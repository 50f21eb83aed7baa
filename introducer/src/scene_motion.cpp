// The scene's shift from profile matching (scene_motion.h).
#include "scene_motion.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tte::introducer {
namespace {

/// Scales `v` to the mean and spread of `like`, so that an exposure change does not look like motion.
void matchLevels(std::vector<double>& v, const std::vector<double>& like) {
    auto stats = [](const std::vector<double>& x) {
        double mean = 0, var = 0;
        for (double a : x) mean += a;
        mean /= static_cast<double>(x.size());
        for (double a : x) var += (a - mean) * (a - mean);
        return std::pair(mean, std::sqrt(var / static_cast<double>(x.size())));
    };
    const auto [mean, spread] = stats(v);
    const auto [likeMean, likeSpread] = stats(like);
    const double gain = spread > 0 ? likeSpread / spread : 1.0;
    for (double& a : v) a = likeMean + (a - mean) * gain;
}

/// Mean absolute difference between reference[i] and current[i + shift] where both exist.
double cost(const std::vector<double>& reference, const std::vector<double>& current, int shift) {
    const int n = static_cast<int>(reference.size());
    double sum = 0;
    int count = 0;
    for (int i = std::max(0, -shift); i < std::min(n, n - shift); ++i) {
        sum += std::fabs(reference[static_cast<std::size_t>(i)] - current[static_cast<std::size_t>(i + shift)]);
        ++count;
    }
    return count > 0 ? sum / count : std::numeric_limits<double>::max();
}

/// The shift (to a fraction of a cell) that matches `current` best to `reference`.
double bestShift(const std::vector<double>& reference, std::vector<double>& current, int maxShift) {
    matchLevels(current, reference);
    const int limit = std::min(maxShift, static_cast<int>(reference.size()) / 4);
    std::vector<double> costs;
    int best = -limit;
    for (int s = -limit; s <= limit; ++s) {
        costs.push_back(cost(reference, current, s));
        if (costs.back() < costs[static_cast<std::size_t>(best + limit)]) best = s;
    }
    if (best == -limit || best == limit) return best;
    // A parabola through the best cost and its neighbours.
    const double a = costs[static_cast<std::size_t>(best + limit - 1)], b = costs[static_cast<std::size_t>(best + limit)],
                 c = costs[static_cast<std::size_t>(best + limit + 1)];
    const double curve = a - 2 * b + c;
    return best + (curve > 0 ? std::clamp(0.5 * (a - c) / curve, -0.5, 0.5) : 0.0);
}

}  // namespace

SceneMotion::SceneMotion(int width, int height, int maxShift)
    : m_width(width), m_height(height), m_maxShift(maxShift), m_columns(static_cast<std::size_t>(width)),
      m_rows(static_cast<std::size_t>(height)) {}

SceneMotion::Shift SceneMotion::track(const std::vector<std::uint8_t>& value) {
    std::fill(m_columns.begin(), m_columns.end(), 0.0);
    std::fill(m_rows.begin(), m_rows.end(), 0.0);
    for (int y = 0; y < m_height; ++y) {
        const std::uint8_t* row = &value[static_cast<std::size_t>(y) * static_cast<std::size_t>(m_width)];
        double sum = 0;
        for (int x = 0; x < m_width; ++x) {
            m_columns[static_cast<std::size_t>(x)] += row[x];
            sum += row[x];
        }
        m_rows[static_cast<std::size_t>(y)] = sum;
    }
    if (!m_haveReference) {
        m_referenceColumns = m_columns;
        m_referenceRows = m_rows;
        m_haveReference = true;
        return {};
    }
    return {bestShift(m_referenceColumns, m_columns, m_maxShift), bestShift(m_referenceRows, m_rows, m_maxShift)};
}

}  // namespace tte::introducer
