// Finding the blinking LED in a recording and reading its frame (led_video.h). Two passes
// over the video. The survey follows the hand's shake (scene_motion.h) and scores every cell
// of the analysis raster by how much the brightness summed over the 5×5 cells around it
// changes from frame to frame, the window moving with the scene (edges that the shake moves
// then cancel; a blinking light does not); the strongest separate spots become candidates.
// The second pass reads each candidate through a few windows that follow the shake, the
// window's sum minus its surrounding ring (so that the exposure's drift cancels), and gives
// each reading with the frames' own times (jitter, variable frame rates) to the protocol's
// receiver, which has the last word; the frames it returns are counted as votes.
#include "tte/introducer/led_video.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "scene_motion.h"
#include "tte/protocol/led.h"

namespace tte::introducer {
namespace {

constexpr int kSurveyRadius = 2;                 // candidate score: change of a 5×5-cell window sum
constexpr std::int64_t kCut = -1;                // a survey window cut by the raster's edge
constexpr int kMaxShake = 12;                    // cells: the largest hand shake followed
constexpr int kMaxExtent = 10;                   // cells: the largest window radius a candidate is read with
constexpr double kExtentShare = 0.15;            // a candidate's extent ends where its score falls below this share
constexpr std::size_t kMaxCandidates = 16;
constexpr int kSeparation = 4;        // cells between two candidates
constexpr double kNoiseMargin = 8.0;  // a candidate's score exceeds the median by this many robust deviations...
constexpr double kMinChange = 1.0;    // ...and by this much (mean |change| of a window sum, in levels)
// The receiver needs at least a gap's 11 bit times and a frame's 152 bits.
constexpr double kShortestSeconds = (11.0 + protocol::kLedFrameBits) / protocol::kLedBitRate;

/// Sums over rectangles of one frame in O(1) (an integral image).
class WindowSums {
public:
    WindowSums(int width, int height) : m_w(width), m_h(height), m_sum(static_cast<std::size_t>(width + 1) * (height + 1)) {}

    void load(const std::vector<std::uint8_t>& value) {
        for (int y = 0; y < m_h; ++y) {
            std::int64_t row = 0;
            for (int x = 0; x < m_w; ++x) {
                row += value[static_cast<std::size_t>(y) * m_w + x];
                at(x + 1, y + 1) = at(x + 1, y) + row;
            }
        }
    }
    /// Sum over the square of radius `r` around (x, y), clipped to the raster; `cells` is its area.
    [[nodiscard]] std::int64_t square(int x, int y, int r, int& cells) const {
        const int x0 = std::clamp(x - r, 0, m_w), y0 = std::clamp(y - r, 0, m_h);
        const int x1 = std::clamp(x + r + 1, 0, m_w), y1 = std::clamp(y + r + 1, 0, m_h);
        cells = (x1 - x0) * (y1 - y0);
        return at(x1, y1) - at(x0, y1) - at(x1, y0) + at(x0, y0);
    }
    /// The sum of the square of radius `r` around every cell (x + dx, y + dy), into `out` at
    /// (x, y); `cut` where the square is not wholly inside the raster.
    void windows(int dx, int dy, int r, std::vector<std::int64_t>& out, std::int64_t cut) const {
        const int side = 2 * r + 1;
        for (int y = 0; y < m_h; ++y) {
            std::int64_t* o = &out[static_cast<std::size_t>(y) * m_w];
            const int y0 = y + dy - r;
            if (y0 < 0 || y0 + side > m_h) {
                std::fill(o, o + m_w, cut);
                continue;
            }
            const std::int64_t* top = &m_sum[static_cast<std::size_t>(y0) * (m_w + 1)];
            const std::int64_t* bottom = &m_sum[static_cast<std::size_t>(y0 + side) * (m_w + 1)];
            const int xFirst = std::max(0, r - dx), xEnd = std::min(m_w, m_w - side + 1 + r - dx);
            std::fill(o, o + std::max(0, std::min(xFirst, m_w)), cut);
            for (int x = xFirst; x < xEnd; ++x) {
                const int x0 = x + dx - r;
                o[x] = bottom[x0 + side] - bottom[x0] - top[x0 + side] + top[x0];
            }
            if (xEnd < m_w) std::fill(o + std::max(0, xEnd), o + m_w, cut);
        }
    }
    /// As square() around a point between cells, interpolated bilinearly.
    [[nodiscard]] double square(double x, double y, int r, double& cells) const {
        const int x0 = static_cast<int>(std::floor(x)), y0 = static_cast<int>(std::floor(y));
        const double fx = x - x0, fy = y - y0;
        double sum = 0;
        cells = 0;
        for (int dy = 0; dy <= 1; ++dy) {
            for (int dx = 0; dx <= 1; ++dx) {
                const double w = (dx != 0 ? fx : 1 - fx) * (dy != 0 ? fy : 1 - fy);
                int n = 0;
                sum += w * static_cast<double>(square(x0 + dx, y0 + dy, r, n));
                cells += w * n;
            }
        }
        return sum;
    }

private:
    std::int64_t& at(int x, int y) { return m_sum[static_cast<std::size_t>(y) * (m_w + 1) + x]; }
    [[nodiscard]] std::int64_t at(int x, int y) const { return m_sum[static_cast<std::size_t>(y) * (m_w + 1) + x]; }
    int m_w, m_h;
    std::vector<std::int64_t> m_sum;
};

struct Survey {
    std::vector<double> times;                  // of every frame read
    std::vector<SceneMotion::Shift> shifts;     // of the scene in every frame against the first
    SceneMotion::Shift meanShift;               // where the scene is on average
    std::vector<double> change;                 // per cell: sum over frames of |Δ window sum|, shake followed
};

struct Candidate {
    int x = 0, y = 0;  // cell in the first frame
    double atX = 0, atY = 0;  // where it is on average, in cells (the scene shakes)
    double score = 0;
    int extent = 1;  // radius in cells within which the score stays high: the LED and how far it moves
};

/// One candidate read with one window: brightness per frame.
struct Probe {
    const Candidate* candidate = nullptr;
    int radius = 0;
    std::vector<float> brightness;
};

void report(const LedVideoOptions& options, double share) {
    if (options.progress) options.progress(std::clamp(share, 0.0, 1.0));
}

/// The first pass: frame times, the scene's shake, and the change score of every cell (the
/// window follows the scene to the nearest cell, so that edges moved by the shake cancel).
Result<Survey> survey(VideoSource& video, const LedVideoOptions& options) {
    const VideoInfo& info = video.info();
    const auto cells = static_cast<std::size_t>(info.gridWidth) * static_cast<std::size_t>(info.gridHeight);
    const double expected = info.durationSeconds > 0 ? std::min(info.durationSeconds, options.maxSeconds) : options.maxSeconds;
    Survey s;
    s.change.assign(cells, 0.0);
    WindowSums sums(info.gridWidth, info.gridHeight);
    SceneMotion motion(info.gridWidth, info.gridHeight, kMaxShake);
    std::vector<std::int64_t> previous(cells), current(cells);
    VideoFrame frame;
    for (;;) {
        auto more = video.next(frame);
        if (!more) return std::unexpected(more.error());
        if (!*more || frame.seconds > options.maxSeconds) break;
        sums.load(frame.value);
        const SceneMotion::Shift shift = motion.track(frame.value);
        const int sx = static_cast<int>(std::lround(shift.x)), sy = static_cast<int>(std::lround(shift.y));
        sums.windows(sx, sy, kSurveyRadius, current, kCut);
        if (!s.times.empty()) {
            for (std::size_t i = 0; i < cells; ++i) {
                if (current[i] != kCut && previous[i] != kCut) s.change[i] += static_cast<double>(std::llabs(current[i] - previous[i]));
            }
        }
        std::swap(previous, current);
        s.times.push_back(frame.seconds);
        s.shifts.push_back(shift);
        s.meanShift.x += shift.x;
        s.meanShift.y += shift.y;
        if (s.times.size() % 16 == 0) report(options, 0.5 * frame.seconds / expected);
    }
    if (!s.times.empty()) {
        s.meanShift.x /= static_cast<double>(s.times.size());
        s.meanShift.y /= static_cast<double>(s.times.size());
    }
    return s;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

/// The radius around `c` at which the score (above `floor`) falls under kExtentShare of its peak.
int extentOf(const std::vector<double>& score, double floor, const Candidate& c, int w, int h) {
    const double peak = c.score - floor;
    for (int r = 1; r < kMaxExtent; ++r) {
        double sum = 0;
        int cells = 0;
        for (int y = c.y - r; y <= c.y + r; ++y) {
            for (int x = c.x - r; x <= c.x + r; ++x) {
                if ((std::abs(x - c.x) != r && std::abs(y - c.y) != r) || x < 0 || y < 0 || x >= w || y >= h) continue;
                sum += std::max(0.0, score[static_cast<std::size_t>(y) * w + x] - floor);
                ++cells;
            }
        }
        if (cells == 0 || sum / cells < kExtentShare * peak) return r;
    }
    return kMaxExtent;
}

/// The strongest separate local maxima of the change score that stand out of the noise.
std::vector<Candidate> candidates(const Survey& s, const VideoInfo& info) {
    const double frames = static_cast<double>(std::max<std::size_t>(s.times.size(), 2) - 1);
    std::vector<double> score(s.change.size());
    for (std::size_t i = 0; i < score.size(); ++i) score[i] = s.change[i] / frames;
    const double middle = median(score);
    std::vector<double> deviation(score.size());
    for (std::size_t i = 0; i < score.size(); ++i) deviation[i] = std::fabs(score[i] - middle);
    const double threshold = middle + std::max(kNoiseMargin * 1.4826 * median(deviation), kMinChange);
    const int w = info.gridWidth, h = info.gridHeight;
    auto at = [&](int x, int y) { return score[static_cast<std::size_t>(y) * w + x]; };
    std::vector<Candidate> peaks;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const double v = at(x, y);
            if (v <= threshold) continue;
            bool peak = true;
            for (int dy = -1; dy <= 1 && peak; ++dy) {
                for (int dx = -1; dx <= 1 && peak; ++dx) {
                    const int nx = x + dx, ny = y + dy;
                    if ((dx != 0 || dy != 0) && nx >= 0 && ny >= 0 && nx < w && ny < h && at(nx, ny) > v) peak = false;
                }
            }
            if (peak) peaks.push_back({.x = x, .y = y, .score = v});
        }
    }
    std::sort(peaks.begin(), peaks.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    std::vector<Candidate> chosen;
    for (const Candidate& p : peaks) {
        const bool separate = std::none_of(chosen.begin(), chosen.end(), [&](const Candidate& c) {
            return std::abs(c.x - p.x) < kSeparation && std::abs(c.y - p.y) < kSeparation;
        });
        if (separate) chosen.push_back(p);
        if (chosen.size() == kMaxCandidates) break;
    }
    for (Candidate& c : chosen) {
        c.extent = extentOf(score, middle, c, w, h);
        c.atX = c.x + s.meanShift.x;
        c.atY = c.y + s.meanShift.y;
    }
    return chosen;
}

/// The second pass: each candidate's brightness in each window, per frame of the survey; the
/// windows follow the scene's shake (to a fraction of a cell).
Result<std::vector<Probe>> readProbes(VideoSource& video, const std::string& name, const std::vector<Candidate>& chosen,
                                      const Survey& s, const LedVideoOptions& options) {
    const std::size_t frames = s.times.size();
    if (auto st = video.rewind(); !st) return std::unexpected(st.error());
    const VideoInfo& info = video.info();
    std::vector<Probe> probes;
    for (const Candidate& c : chosen) {
        // The window the score suggests first, then small ones (a tiny LED in a busy scene)
        // and a larger one (a shaking hand).
        std::vector<int> radii;
        for (int r : {c.extent, 1, 2, c.extent + 2}) {
            if (std::find(radii.begin(), radii.end(), r) == radii.end()) radii.push_back(r);
        }
        for (int r : radii) probes.push_back({&c, r, std::vector<float>(frames)});
    }
    WindowSums sums(info.gridWidth, info.gridHeight);
    VideoFrame frame;
    for (std::size_t k = 0; k < frames; ++k) {
        auto more = video.next(frame);
        if (!more) return std::unexpected(more.error());
        if (!*more) return fail(Errc::io, name + ": the video gave fewer frames on its second reading (did the file change?)");
        sums.load(frame.value);
        for (Probe& p : probes) {
            const double x = p.candidate->x + s.shifts[k].x, y = p.candidate->y + s.shifts[k].y;
            double inner = 0, outer = 0, area = 0;
            const double window = sums.square(x, y, p.radius, area);
            const double ring = sums.square(x, y, p.radius + 3, outer) - sums.square(x, y, p.radius + 1, inner);
            const double background = outer > inner + 0.5 ? ring / (outer - inner) : 0.0;
            p.brightness[k] = static_cast<float>(window - background * area);
        }
        if (k % 16 == 0) report(options, 0.5 + 0.5 * static_cast<double>(k) / static_cast<double>(frames));
    }
    return probes;
}

/// Frames whose time does not come after the previous frame's (a broken or edited file) are
/// left out; the rest go to the receiver with their own times, at their mean rate.
struct Timing {
    std::vector<std::size_t> frames;  // the frames used, in order
    double fps = 0;
    double seconds = 0;
};

Timing timing(const std::vector<double>& times) {
    Timing t;
    for (std::size_t k = 0; k < times.size(); ++k) {
        if (t.frames.empty() || times[k] > times[t.frames.back()]) t.frames.push_back(k);
    }
    if (t.frames.size() < 2) return t;
    // The mean rate: frame times rounded to a container's milliseconds alternate 33 and 34 ms.
    const double span = times[t.frames.back()] - times[t.frames.front()];
    t.fps = static_cast<double>(t.frames.size() - 1) / span;
    t.seconds = span + 1.0 / t.fps;
    return t;
}

std::string decimal(double v, int digits = 1) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", digits, v);
    return text;
}

/// Where a probe read the LED, in the video's pixels.
LedSpot spotOf(const Probe& p, const VideoInfo& info) {
    return {(p.candidate->atX + 0.5) * info.cell, (p.candidate->atY + 0.5) * info.cell, (2 * p.radius + 1) * info.cell};
}

/// "x=X y=Y": the pixel at the centre of a probe's window.
std::string where(const Probe& p, const VideoInfo& info) {
    const LedSpot spot = spotOf(p, info);
    return "x=" + std::to_string(static_cast<long>(std::floor(spot.x))) + " y=" + std::to_string(static_cast<long>(std::floor(spot.y)));
}

std::unexpected<Error> tooShort(const std::string& name, const Timing& t) {
    return fail(Errc::invalidArgument, name + ": the recording is " + decimal(t.seconds) + " s long (" +
                                           std::to_string(t.frames.size()) + (t.frames.size() == 1 ? " frame" : " frames") +
                                           "); LED enrollment needs at least " + std::to_string(kLedVideoSeconds) +
                                           " s of the blinking LED (two transmissions of up to " +
                                           decimal(protocol::kLedTransmissionSeconds) + " s)");
}

/// The error for a recording in which no candidate gave a valid frame.
std::unexpected<Error> noFrame(const std::string& name, const VideoInfo& info, const Timing& t, const Probe* best,
                               const Error& why) {
    const auto stage = protocol::ledTraceStage(why);
    const std::string seen = std::to_string(t.frames.size()) + " frames (" + decimal(t.seconds) + " s)";
    if (stage == protocol::LedTraceStage::frame) {
        return fail(Errc::corrupt,
                    name + ": LED found at " + where(*best, info) + " but no valid frame in " + seen + ": " + why.message);
    }
    if (stage == protocol::LedTraceStage::cutOff || (stage >= protocol::LedTraceStage::gap && t.seconds < kLedVideoSeconds)) {
        return tooShort(name, t);
    }
    return fail(Errc::invalidArgument, name + ": no blinking LED found in " + seen + ": the spot that changes most, at " +
                                           where(*best, info) + ", does not blink the LED frame (" + why.message + ")");
}

/// A frame read from the video, and by how many probes.
struct Vote {
    protocol::LedFrameData frame;
    int count = 0;
    const Probe* probe = nullptr;  // the first that read it
};

struct ReadFrames {
    std::vector<Vote> votes;
    const Probe* failed = nullptr;  // the failure that came furthest, for the message
    Error why;
};

/// Every probe's trace through the receiver. The draft's checksum has 8 bits: a frame read
/// wrongly passes it 1 time in 256, so the frames read count as votes and a tie between
/// different frames is no answer.
ReadFrames readFrames(const std::vector<Probe>& probes, const std::vector<double>& allTimes, const Timing& t) {
    std::vector<double> times;
    for (std::size_t k : t.frames) times.push_back(allTimes[k]);
    std::vector<float> trace(times.size());
    ReadFrames out;
    for (const Probe& p : probes) {
        for (std::size_t i = 0; i < t.frames.size(); ++i) trace[i] = p.brightness[t.frames[i]];
        auto frame = protocol::decodeLedSamples(trace, times);
        if (frame) {
            auto same = std::find_if(out.votes.begin(), out.votes.end(), [&](const Vote& v) {
                return v.frame.msId == frame->msId && v.frame.devId == frame->devId && v.frame.otp == frame->otp;
            });
            if (same == out.votes.end()) out.votes.push_back({*frame, 1, &p});
            else ++same->count;
        } else if (out.failed == nullptr || protocol::ledTraceStage(frame.error()) > protocol::ledTraceStage(out.why)) {
            out.failed = &p;
            out.why = frame.error();
        }
    }
    return out;
}

}  // namespace

Result<LedVideoResult> findLedFrame(VideoSource& video, const std::string& name, const LedVideoOptions& options) {
    report(options, 0.0);
    auto s = survey(video, options);
    if (!s) return std::unexpected(s.error());
    const Timing t = timing(s->times);
    if (t.frames.size() < 2 || t.seconds < kShortestSeconds) return tooShort(name, t);
    if (t.fps < kLedVideoMinFps) {
        return fail(Errc::invalidArgument, name + ": " + decimal(t.fps) +
                                               " frames/s is too slow: the LED sends 15 bit/s, record at " +
                                               decimal(kLedVideoMinFps, 0) + " frames/s or more");
    }
    const VideoInfo& info = video.info();
    const std::vector<Candidate> chosen = candidates(*s, info);
    if (chosen.empty()) {
        return fail(Errc::invalidArgument, name + ": no blinking LED found in " + std::to_string(t.frames.size()) +
                                               " frames (" + decimal(t.seconds) +
                                               " s): nothing in view changes its brightness more than the camera's noise");
    }
    auto probes = readProbes(video, name, chosen, *s, options);
    if (!probes) return std::unexpected(probes.error());
    auto read = readFrames(*probes, s->times, t);
    if (read.votes.empty()) return noFrame(name, info, t, read.failed, read.why);
    std::sort(read.votes.begin(), read.votes.end(), [](const Vote& a, const Vote& b) { return a.count > b.count; });
    const Vote& top = read.votes.front();
    if (read.votes.size() > 1 && read.votes[1].count == top.count) {
        return fail(Errc::corrupt, name + ": LED found at " + where(*top.probe, info) + " but " +
                                       std::to_string(read.votes.size()) +
                                       " different frames were read from it: record again, holding the camera steady");
    }
    report(options, 1.0);
    return LedVideoResult{top.frame, spotOf(*top.probe, info), t.seconds, t.fps, t.frames.size()};
}

Result<LedVideoResult> readLedVideo(const std::filesystem::path& file, const LedVideoOptions& options) {
    auto video = openVideoFile(file);
    if (!video) return std::unexpected(video.error());
    return findLedFrame(**video, file.string(), options);
}

}  // namespace tte::introducer
