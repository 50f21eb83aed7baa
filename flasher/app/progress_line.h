// The progress display of tte-flash on stderr: on a terminal one line redrawn in place with
// every slot's phase and percentage; otherwise one line per slot and phase change (logs).
#pragma once

#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "tte/flasher/flasher.h"

namespace tte::flasher::app {

class ProgressLine {
public:
    explicit ProgressLine(std::FILE* out);
    /// Thread-safe; called from the slot threads.
    void update(const std::string& slot, const Progress& progress);
    /// Ends the redrawn line (terminal) before results are printed.
    void finish();

private:
    void redraw();

    std::FILE* m_out;
    bool m_tty;
    std::mutex m_mutex;
    std::map<std::string, Progress> m_slots;
};

}  // namespace tte::flasher::app
