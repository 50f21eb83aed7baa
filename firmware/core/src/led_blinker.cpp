// The LED frame in time (docs/PROTOCOL.md §5): 15 bit/s from a millisecond clock.
#include "tte/device/led_blinker.h"

namespace tte::device {
namespace {
constexpr std::uint64_t kBitRate = 15;  // draft 5.1
}

LedBlinker::LedBlinker(std::span<const std::uint8_t> levels, std::uint64_t startMs)
    : m_levels(levels), m_startMs(startMs) {}

std::uint64_t LedBlinker::bitStartMs(std::uint64_t index) const { return m_startMs + index * 1000 / kBitRate; }

LedEvent LedBlinker::next() {
    if (m_levels.empty()) {
        return {LedEvent::Kind::gap, false, bitStartMs(m_bit)};
    }
    for (;;) {
        const std::size_t position = m_bit % m_levels.size();
        const bool on = m_levels[position] != 0;
        const std::uint64_t at = bitStartMs(m_bit);
        if (position == 0 && m_gapPending) {
            if (m_on) {  // the frame ended with the LED on: switch it off for the gap first
                m_on = false;
                return {LedEvent::Kind::edge, false, at};
            }
            m_gapPending = false;
            return {LedEvent::Kind::gap, false, at};
        }
        if (on != m_on) {
            m_on = on;
            ++m_bit;
            m_gapPending = true;
            return {LedEvent::Kind::edge, on, at};
        }
        ++m_bit;
        m_gapPending = true;
    }
}

}  // namespace tte::device
