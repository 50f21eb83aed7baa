// Drives the LED frame of draft 5.1 (docs/PROTOCOL.md §5) in time: the line levels from
// protocol::ledLineLevels() (gap + NRZI frame) played at 15 bit/s from a millisecond clock,
// repeating. Bit i of the stream starts at start + floor(i·1000/15) ms, so the rate has no
// drift. Portable: the firmware applies the events to its GPIO, tests to a recorder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tte::device {

struct LedEvent {
    enum class Kind : std::uint8_t {
        gap,   ///< a transmission starts: the LED is off for the gap (16 bit times) from here
        edge,  ///< the LED changes to `on`
    };
    Kind kind = Kind::gap;
    bool on = false;
    std::uint64_t atMs = 0;
};

class LedBlinker {
public:
    /// `levels`: one transmission (must outlive the blinker; empty means nothing to show).
    LedBlinker(std::span<const std::uint8_t> levels, std::uint64_t startMs);

    /// The next event in time order: each transmission yields an edge to off first when the
    /// LED is on, then a gap event, then one edge per level change.
    LedEvent next();

    /// Start time of bit `index` of the endless stream.
    [[nodiscard]] std::uint64_t bitStartMs(std::uint64_t index) const;

private:
    std::span<const std::uint8_t> m_levels;
    std::uint64_t m_startMs;
    std::uint64_t m_bit = 0;  ///< next bit of the stream to look at
    bool m_on = false;
    bool m_gapPending = true;
};

}  // namespace tte::device
