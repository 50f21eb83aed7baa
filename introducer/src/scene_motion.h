// Following a hand-held camera's shake (led_video.cpp): the translation of the whole scene
// against the first frame, found by matching the frames' column and row brightness profiles
// (the sums down each column and along each row). Sums over whole rows and columns average
// the sensor noise away, a small blinking LED moves them little, and matching profiles costs
// a few thousand operations a frame instead of the millions of a 2-D search.
#pragma once

#include <cstdint>
#include <vector>

namespace tte::introducer {

class SceneMotion {
public:
    /// `maxShift`: the largest shift, in cells, looked for on each axis.
    SceneMotion(int width, int height, int maxShift);

    struct Shift {
        double x = 0, y = 0;  ///< the scene moved by this many cells (right, down) since the first frame
    };

    /// The shift of `value` (width × height, row by row) against the first frame tracked.
    Shift track(const std::vector<std::uint8_t>& value);

private:
    int m_width, m_height, m_maxShift;
    bool m_haveReference = false;
    std::vector<double> m_referenceColumns, m_referenceRows, m_columns, m_rows;
};

}  // namespace tte::introducer
