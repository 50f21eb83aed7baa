// LED trace rendering and decoding (docs/PROTOCOL.md §5).
#include "tte/protocol/led.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace tte::protocol {
namespace {

constexpr double kBitSeconds = 1.0 / kLedBitRate;
constexpr double kGapThresholdBits = 11.0;  // in-frame runs are at most 7 bits, the gap at least 16
constexpr double kHigh = 0.65, kLow = 0.35;  // hysteresis on the normalized brightness

/// Mean level of the repeated line levels over [t0, t1) seconds, bits of `bit` seconds.
double meanLevel(const std::vector<std::uint8_t>& levels, double bit, double t0, double t1) {
    const double total = bit * static_cast<double>(levels.size());
    double on = 0;
    for (double t = t0; t < t1;) {
        const double inCycle = std::fmod(t, total);
        const auto index = std::min(levels.size() - 1, static_cast<std::size_t>(inCycle / bit));
        const double bitEnd = t - inCycle + bit * static_cast<double>(index + 1);
        const double end = std::min(t1, std::max(bitEnd, t + 1e-12));
        if (levels[index] != 0) on += end - t;
        t = end;
    }
    return on / (t1 - t0);
}

struct Edge {
    double time;  // seconds
    bool rising;
};

/// Normalizes the trace and returns its edges with sub-sample times.
Result<std::vector<Edge>> findEdges(std::span<const float> v, double fps) {
    std::vector<float> sorted(v.begin(), v.end());
    std::sort(sorted.begin(), sorted.end());
    const double lo = sorted[sorted.size() / 20];
    const double hi = sorted[sorted.size() - 1 - sorted.size() / 20];
    if (!(hi - lo > 1e-6 * std::max(1.0, std::fabs(hi)))) return fail(Errc::invalidArgument, "LED trace: no contrast");
    std::vector<Edge> edges;
    auto norm = [&](std::size_t i) { return (static_cast<double>(v[i]) - lo) / (hi - lo); };
    bool on = norm(0) > 0.5;
    for (std::size_t i = 1; i < v.size(); ++i) {
        const double x = norm(i);
        if ((!on && x > kHigh) || (on && x < kLow)) {
            on = !on;
            // The 0.5 crossing, linearly between the last sample on the old side and this one.
            std::size_t j = i;
            while (j > 1 && (norm(j - 1) > 0.5) == on) --j;
            const double a = norm(j - 1), b = norm(j);
            const double frac = b != a ? std::clamp((0.5 - a) / (b - a), 0.0, 1.0) : 0.5;
            edges.push_back({(static_cast<double>(j - 1) + frac) / fps, on});
        }
    }
    return edges;
}

/// Decodes the frame that starts at rising edge `first` (after a gap).
Result<LedFrameData> decodeAt(const std::vector<Edge>& edges, std::size_t first, double traceEnd) {
    if (first + 14 >= edges.size()) return fail(Errc::invalidArgument, "LED trace: fewer than 15 edges after the gap");
    const double t0 = edges[first].time;
    double bit = (edges[first + 14].time - t0) / 14.0;
    if (std::fabs(bit - kBitSeconds) > 0.2 * kBitSeconds) {
        return fail(Errc::invalidArgument, "LED trace: bit time " + std::to_string(std::lround(bit * 1000)) +
                                               " ms is not within 20 % of 66.7 ms");
    }
    std::vector<std::uint8_t> bits;
    std::size_t total = 0;  // bit times from t0 to the current edge
    for (std::size_t k = first; bits.size() < kLedMaxLineBits; ++k) {
        const double start = edges[k].time;
        const double end = k + 1 < edges.size() ? edges[k + 1].time : traceEnd;
        const long n = std::lround((end - start) / bit);
        bits.push_back(0);
        for (long i = 1; i < std::min<long>(n, static_cast<long>(kLedMaxLineBits)); ++i) bits.push_back(1);
        if (k + 1 >= edges.size()) break;
        total += static_cast<std::size_t>(std::max<long>(n, 1));
        bit = (edges[k + 1].time - t0) / static_cast<double>(total);  // follows the sender's clock
    }
    std::array<std::uint8_t, kLedFrameSize> frame{};
    std::size_t used = 0;
    switch (unstuffLedBits(bits, frame, used)) {
    case LedFrameError::ok: break;
    case LedFrameError::stuffing: return fail(Errc::invalidArgument, "LED trace: stuffing violation");
    default: return fail(Errc::invalidArgument, "LED trace: frame cut off by the end of the trace");
    }
    LedFrameData data;
    switch (decodeLedFrame(frame, data)) {
    case LedFrameError::ok: return data;
    case LedFrameError::start: return fail(Errc::corrupt, "LED trace: wrong start constant");
    default: return fail(Errc::corrupt, "LED trace: checksum mismatch");
    }
}

}  // namespace

std::array<std::uint8_t, kLedFrameSize> encodeLedFrame(const LedFrameData& data) {
    return encodeLedFrame(data.msId, data.devId, data.otp);
}

std::vector<std::uint8_t> ledLevels(const LedFrameData& data) {
    std::array<std::uint8_t, kLedMaxLineBits> line{};
    const std::size_t n = ledLineLevels(encodeLedFrame(data), line);
    return {line.begin(), line.begin() + static_cast<long>(n)};
}

Result<LedFrameData> parseLedFrame(std::span<const std::uint8_t> bytes) {
    LedFrameData data;
    switch (decodeLedFrame(bytes, data)) {
    case LedFrameError::ok: return data;
    case LedFrameError::start: return fail(Errc::corrupt, "LED frame: wrong start constant");
    case LedFrameError::checksum: return fail(Errc::corrupt, "LED frame: checksum mismatch");
    default:
        return fail(Errc::invalidArgument, "LED frame: " + std::to_string(bytes.size()) + " bytes, expected 19");
    }
}

std::vector<float> renderLedTrace(const LedFrameData& data, const LedRenderOptions& o) {
    const std::vector<std::uint8_t> levels = ledLevels(data);
    const std::size_t n = levels.size();
    const double bit = kBitSeconds / (1.0 + o.clockError);
    const double duration = bit * static_cast<double>(n) * o.repeats - o.startSeconds;
    const auto samples = static_cast<std::size_t>(std::max(0.0, std::floor(duration * o.fps)));
    std::mt19937 rng(o.seed);
    std::normal_distribution<double> noise(0.0, o.noise > 0 ? o.noise : 1.0);
    std::vector<float> out(samples);
    for (std::size_t k = 0; k < samples; ++k) {
        const double t0 = o.startSeconds + static_cast<double>(k) / o.fps;
        const double level = meanLevel(levels, bit, t0, t0 + 1.0 / o.fps) + (o.noise > 0 ? noise(rng) : 0.0);
        out[k] = static_cast<float>(o.offBrightness + (o.onBrightness - o.offBrightness) * level);
    }
    return out;
}

Result<LedFrameData> decodeLedTrace(std::span<const float> v, double fps) {
    if (!(fps >= 24.0 && fps <= 1000.0)) return fail(Errc::invalidArgument, "LED trace: fps must be 24-1000");
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!std::isfinite(v[i])) {
            return fail(Errc::invalidArgument, "LED trace: sample " + std::to_string(i) + " is not a number");
        }
    }
    const auto need = static_cast<std::size_t>(std::ceil((kGapThresholdBits + kLedFrameBits) * kBitSeconds * fps));
    if (v.size() < need) {
        return fail(Errc::invalidArgument, "LED trace: too short for a frame (" + std::to_string(v.size()) +
                                               " samples, need at least " + std::to_string(need) + ")");
    }
    auto edges = findEdges(v, fps);
    if (!edges) return std::unexpected(edges.error());
    const double traceEnd = static_cast<double>(v.size()) / fps;
    Result<LedFrameData> last = fail(Errc::invalidArgument, "LED trace: no gap of 16 bit times found");
    double offSince = 0.0;  // the trace may start inside a gap
    for (std::size_t i = 0; i < edges->size(); ++i) {
        const Edge& e = (*edges)[i];
        if (!e.rising) {
            offSince = e.time;
            continue;
        }
        if (e.time - offSince < kGapThresholdBits * kBitSeconds) continue;
        last = decodeAt(*edges, i, traceEnd);
        if (last) return last;
    }
    return last;
}

}  // namespace tte::protocol
