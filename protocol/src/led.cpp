// LED trace rendering and decoding (docs/PROTOCOL.md §5).
#include "tte/protocol/led.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <utility>

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

/// A trace: brightness samples and when each was taken (seconds, increasing).
struct Samples {
    std::span<const float> value;
    std::span<const double> time;
};

constexpr double kNormalizeWindowSeconds = 1.5;  // each side: twice the longest off run (22 bit times) in all
constexpr double kNormalizeStepSeconds = 0.25;   // the window's percentiles are computed this often

std::unexpected<Error> traceError(LedTraceStage stage, Errc code, const std::string& message) {
    static constexpr const char* kNames[] = {"", "input", "contrast", "gap", "clock", "cut-off", "frame"};
    return failNative(code, "LED trace: " + message, "LED trace", static_cast<int>(stage), kNames[static_cast<int>(stage)]);
}

/// The 5th and 95th percentile of v[from, to).
std::pair<double, double> percentiles(std::span<const float> v, std::size_t from, std::size_t to) {
    std::vector<float> w(v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(to));
    const std::size_t lo = w.size() / 20, hi = w.size() - 1 - w.size() / 20;
    std::nth_element(w.begin(), w.begin() + static_cast<long>(lo), w.end());
    const double low = w[lo];
    std::nth_element(w.begin(), w.begin() + static_cast<long>(hi), w.end());
    return {low, w[hi]};
}

/// Each sample mapped to 0 (off) … 1 (on) by the percentiles of the samples around it:
/// computed every kNormalizeStepSeconds over ±kNormalizeWindowSeconds (shifted to stay inside
/// the trace) and interpolated between. A window whose range is under a quarter of the whole
/// trace's (the LED covered for a while) uses the whole trace's.
Result<std::vector<double>> normalize(const Samples& s) {
    const auto [globalLo, globalHi] = percentiles(s.value, 0, s.value.size());
    if (!(globalHi - globalLo > 1e-6 * std::max(1.0, std::fabs(globalHi)))) {
        return traceError(LedTraceStage::contrast, Errc::invalidArgument, "no contrast");
    }
    const double first = s.time.front(), last = s.time.back();
    const double window = std::min(last - first, 2.0 * kNormalizeWindowSeconds);
    struct Knot {
        double lo, hi;
    };
    std::vector<Knot> knots;  // at first + k · step
    for (double c = first; knots.size() < 2 || c < last + kNormalizeStepSeconds; c += kNormalizeStepSeconds) {
        const double from = std::clamp(c - window / 2, first, last - window);
        const auto i0 = static_cast<std::size_t>(std::lower_bound(s.time.begin(), s.time.end(), from) - s.time.begin());
        const auto i1 = static_cast<std::size_t>(std::upper_bound(s.time.begin(), s.time.end(), from + window) - s.time.begin());
        auto range = i1 > i0 + 1 ? percentiles(s.value, i0, i1) : std::pair(globalLo, globalHi);
        if (range.second - range.first < 0.25 * (globalHi - globalLo)) range = {globalLo, globalHi};
        knots.push_back({range.first, range.second});
    }
    std::vector<double> out(s.value.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        const double at = (s.time[i] - first) / kNormalizeStepSeconds;
        const auto k = std::min(knots.size() - 2, static_cast<std::size_t>(at));
        const double f = std::clamp(at - static_cast<double>(k), 0.0, 1.0);
        const double lo = knots[k].lo + f * (knots[k + 1].lo - knots[k].lo);
        const double hi = knots[k].hi + f * (knots[k + 1].hi - knots[k].hi);
        out[i] = (static_cast<double>(s.value[i]) - lo) / (hi - lo);
    }
    return out;
}

/// The edges of a normalized trace (hysteresis between kLow and kHigh), each at the time
/// its 0.5 crossing is interpolated to.
std::vector<Edge> findEdges(const std::vector<double>& x, std::span<const double> time) {
    std::vector<Edge> edges;
    bool on = x[0] > 0.5;
    for (std::size_t i = 1; i < x.size(); ++i) {
        if ((!on && x[i] > kHigh) || (on && x[i] < kLow)) {
            on = !on;
            // The 0.5 crossing, linearly between the last sample on the old side and this one.
            std::size_t j = i;
            while (j > 1 && (x[j - 1] > 0.5) == on) --j;
            const double a = x[j - 1], b = x[j];
            const double frac = b != a ? std::clamp((0.5 - a) / (b - a), 0.0, 1.0) : 0.5;
            edges.push_back({time[j - 1] + frac * (time[j] - time[j - 1]), on});
        }
    }
    return edges;
}

/// The sender's bit clock, fitted (least squares) to edges at known bit positions:
/// time = phase + position · bit. Every edge's timing error (noise, the camera's shutter,
/// frame-time jitter) is averaged into the fit instead of adding up along the frame.
class BitClock {
public:
    void add(double position, double time) {
        m_n += 1;
        m_p += position;
        m_pp += position * position;
        m_t += time;
        m_pt += position * time;
    }
    [[nodiscard]] double bit() const { return (m_n * m_pt - m_p * m_t) / (m_n * m_pp - m_p * m_p); }
    [[nodiscard]] double phase() const { return (m_t - bit() * m_p) / m_n; }
    /// The bit position of an edge at `time`.
    [[nodiscard]] long position(double time) const { return std::lround((time - phase()) / bit()); }

private:
    double m_n = 0, m_p = 0, m_pp = 0, m_t = 0, m_pt = 0;
};

/// Decodes the frame that starts at rising edge `first` (after a gap). The start constant's
/// fifteen 0 bits put an edge at each of bit positions 0…14; every later edge is placed at the
/// position the clock fitted to the edges before it predicts, and joins the fit. Each bit's
/// level is then read from the sample nearest to its centre on the final clock, and the
/// levels give the bits (NRZI). An edge's 0.5 crossing comes out early by half the camera's
/// exposure, and so does the fitted clock: the sample taken at a bit's fitted centre is the
/// one whose exposure is centred in the bit.
Result<LedFrameData> decodeAt(const std::vector<double>& x, std::span<const double> time, const std::vector<Edge>& edges,
                              std::size_t first) {
    if (first + 14 >= edges.size()) {
        return traceError(LedTraceStage::clock, Errc::invalidArgument, "fewer than 15 edges after the gap");
    }
    BitClock clock;
    for (std::size_t i = 0; i < 15; ++i) clock.add(static_cast<double>(i), edges[first + i].time);
    if (std::fabs(clock.bit() - kBitSeconds) > 0.2 * kBitSeconds) {
        return traceError(LedTraceStage::clock, Errc::invalidArgument,
                          "bit time " + std::to_string(std::lround(clock.bit() * 1000)) + " ms is not within 20 % of 66.7 ms");
    }
    long last = 14;
    for (std::size_t k = first + 15; k < edges.size(); ++k) {
        const long at = std::max(clock.position(edges[k].time), last + 1);
        if (at >= static_cast<long>(kLedMaxLineBits)) break;
        clock.add(static_cast<double>(at), edges[k].time);  // follows the sender's clock
        last = at;
    }
    const double end = time.back() + 0.5 * (time.back() - time[time.size() - 2]);
    std::vector<std::uint8_t> bits;
    bool level = false;  // the gap before the frame
    for (std::size_t i = 0; i < kLedMaxLineBits; ++i) {
        const double centre = clock.phase() + (static_cast<double>(i) + 0.5) * clock.bit();
        if (centre > end) break;
        auto k = static_cast<std::size_t>(std::lower_bound(time.begin(), time.end(), centre) - time.begin());
        if (k == time.size() || (k > 0 && centre - time[k - 1] < time[k] - centre)) --k;
        const bool on = x[k] > 0.5;
        bits.push_back(on == level ? 1 : 0);
        level = on;
    }
    std::array<std::uint8_t, kLedFrameSize> frame{};
    std::size_t used = 0;
    switch (unstuffLedBits(bits, frame, used)) {
    case LedFrameError::ok: break;
    case LedFrameError::stuffing: return traceError(LedTraceStage::frame, Errc::invalidArgument, "stuffing violation");
    default: return traceError(LedTraceStage::cutOff, Errc::invalidArgument, "frame cut off by the end of the trace");
    }
    LedFrameData data;
    switch (decodeLedFrame(frame, data)) {
    case LedFrameError::ok: return data;
    case LedFrameError::start: return traceError(LedTraceStage::frame, Errc::corrupt, "wrong start constant");
    default: return traceError(LedTraceStage::frame, Errc::corrupt, "checksum mismatch");
    }
}

}  // namespace

LedTraceStage ledTraceStage(const Error& error) {
    if (error.domain != "LED trace" || error.nativeCode < static_cast<int>(LedTraceStage::input) ||
        error.nativeCode > static_cast<int>(LedTraceStage::frame)) {
        return LedTraceStage::input;
    }
    return static_cast<LedTraceStage>(error.nativeCode);
}

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

namespace {

/// Finds the gaps and decodes the frame after each (decodeLedSamples() without the checks).
Result<LedFrameData> decodeChecked(const Samples& s) {
    const auto normalized = normalize(s);
    if (!normalized) return std::unexpected(normalized.error());
    const std::vector<Edge> edges = findEdges(*normalized, s.time);
    Result<LedFrameData> best = traceError(LedTraceStage::gap, Errc::invalidArgument, "no gap of 16 bit times found");
    double offSince = s.time.front();  // the trace may start inside a gap
    for (std::size_t i = 0; i < edges.size(); ++i) {
        const Edge& e = edges[i];
        if (!e.rising) {
            offSince = e.time;
            continue;
        }
        if (e.time - offSince < kGapThresholdBits * kBitSeconds) continue;
        auto attempt = decodeAt(*normalized, s.time, edges, i);
        if (attempt) return attempt;
        if (ledTraceStage(attempt.error()) >= ledTraceStage(best.error())) best = std::move(attempt);
    }
    return best;
}

Status checkValues(std::span<const float> v) {
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!std::isfinite(v[i])) {
            return traceError(LedTraceStage::input, Errc::invalidArgument, "sample " + std::to_string(i) + " is not a number");
        }
    }
    return {};
}

}  // namespace

Result<LedFrameData> decodeLedTrace(std::span<const float> v, double fps) {
    if (!(fps >= 24.0 && fps <= 1000.0)) return traceError(LedTraceStage::input, Errc::invalidArgument, "fps must be 24-1000");
    if (auto st = checkValues(v); !st) return std::unexpected(st.error());
    const auto need = static_cast<std::size_t>(std::ceil((kGapThresholdBits + kLedFrameBits) * kBitSeconds * fps));
    if (v.size() < need) {
        return traceError(LedTraceStage::input, Errc::invalidArgument,
                          "too short for a frame (" + std::to_string(v.size()) + " samples, need at least " +
                              std::to_string(need) + ")");
    }
    std::vector<double> time(v.size());
    for (std::size_t i = 0; i < time.size(); ++i) time[i] = static_cast<double>(i) / fps;
    return decodeChecked({v, time});
}

Result<LedFrameData> decodeLedSamples(std::span<const float> v, std::span<const double> time) {
    if (v.size() != time.size()) {
        return traceError(LedTraceStage::input, Errc::invalidArgument,
                          std::to_string(v.size()) + " samples but " + std::to_string(time.size()) + " times");
    }
    if (auto st = checkValues(v); !st) return std::unexpected(st.error());
    for (std::size_t i = 0; i < time.size(); ++i) {
        if (!std::isfinite(time[i]) || (i > 0 && !(time[i] > time[i - 1]))) {
            return traceError(LedTraceStage::input, Errc::invalidArgument,
                              "sample " + std::to_string(i) + " is not later than the one before");
        }
    }
    const double need = (kGapThresholdBits + kLedFrameBits) * kBitSeconds;
    const double seconds = time.empty() ? 0.0 : time.back() - time.front();
    if (time.size() < 2 || seconds < need) {
        char text[96];
        std::snprintf(text, sizeof text, "too short for a frame (%.1f s, need at least %.1f s)", seconds, need);
        return traceError(LedTraceStage::input, Errc::invalidArgument, text);
    }
    const double rate = static_cast<double>(time.size() - 1) / seconds;
    if (rate < 24.0) {
        char text[96];
        std::snprintf(text, sizeof text, "%.1f samples per second, need at least 24", rate);
        return traceError(LedTraceStage::input, Errc::invalidArgument, text);
    }
    return decodeChecked({v, time});
}

}  // namespace tte::protocol
