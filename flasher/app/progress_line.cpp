// TTY-aware progress line.
#include "progress_line.h"

#include <unistd.h>

namespace tte::flasher::app {

ProgressLine::ProgressLine(std::FILE* out) : m_out(out), m_tty(::isatty(::fileno(out)) == 1) {}

void ProgressLine::update(const std::string& slot, const Progress& progress) {
    std::lock_guard lock(m_mutex);
    auto it = m_slots.find(slot);
    const bool phaseChanged = it == m_slots.end() || it->second.phase != progress.phase;
    m_slots[slot] = progress;
    if (m_tty) {
        redraw();
    } else if (phaseChanged) {
        std::fprintf(m_out, "%s: %s\n", slot.c_str(), std::string(phaseName(progress.phase)).c_str());
    }
}

void ProgressLine::redraw() {
    std::string line = "\r";
    for (const auto& [slot, p] : m_slots) {
        const int pct = p.total == 0 ? 100 : static_cast<int>(p.done * 100 / p.total);
        if (m_slots.size() == 1) {
            const int filled = pct / 5;
            line += slot + " " + std::string(phaseName(p.phase)) + " [" + std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(20 - filled), ' ') + "] " + std::to_string(pct) + "%";
        } else {
            line += slot + " " + std::string(phaseName(p.phase)).substr(0, 4) + " " + std::to_string(pct) + "%  ";
        }
    }
    line += "\x1b[K";  // clear the rest of the line
    std::fputs(line.c_str(), m_out);
    std::fflush(m_out);
}

void ProgressLine::finish() {
    std::lock_guard lock(m_mutex);
    if (m_tty && !m_slots.empty()) std::fputs("\n", m_out);
}

}  // namespace tte::flasher::app
