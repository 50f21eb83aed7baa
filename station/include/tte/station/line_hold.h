// The line hold: the one place where the station stops starting boards because of a fault of
// the line, not of a board – the printer, the HSM token, the lot's Dev ID quota, the MotherShip
// out of reach too long – and goes on by itself once the fault clears. Boards already in the
// pipeline wait where they are: nothing is failed, no Dev ID is burned. Every change is
// journalled (`held`, `resumed`) and goes to one observer (the CLI's line, the GUI's banner).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/clock.h"
#include "tte/base/error.h"

namespace tte::station {

class Journal;

/// Why the line holds (the `reason` of the journal's `held` and `resumed` entries).
enum class HoldReason {
    printer,     ///< the label printer cannot print: stopped, out of labels, unreachable, a job overdue or lost twice
    token,       ///< the HSM token is absent, its session lost, or it refuses the login (PIN)
    quota,       ///< the lot's Dev ID quota is used up (until the MotherShip grants more)
    mothership,  ///< uploads to the MotherShip have failed longer than mothership.hold_after_s
};
std::string_view holdReasonName(HoldReason reason);

/// The line as the operator should see it.
struct LineState {
    bool held = false;
    HoldReason reason = HoldReason::printer;
    std::string problem;   ///< e.g. "printer tte-labels is out of labels"
    std::string action;    ///< the one thing to do, e.g. "load a roll"
    bool byItself = true;  ///< the line goes on by itself once the fault clears
    std::chrono::system_clock::time_point since;  ///< when the line began to hold

    /// One line: "Printer tte-labels is out of labels – load a roll; the line goes on by
    /// itself", or "" when the line runs.
    [[nodiscard]] std::string text() const;
};

class LineHold {
public:
    using Observer = std::function<void(const LineState&)>;

    /// `journal` and `clock` must outlive this object.
    LineHold(Journal& journal, Clock& clock) : m_journal(journal), m_clock(clock) {}

    /// Holds the line for `cause`, a name its holder releases it by (e.g. "printer",
    /// "label 0000002a"); holding it again replaces its words. The line shows its oldest
    /// cause. Journals `held` {reason, problem, action, at} when what the line shows changes.
    /// Errors: the journal's (the line holds all the same; a `held` the journal could not
    /// take, e.g. while the token that signs it is away, is journalled before the `resumed`).
    Status hold(const std::string& cause, HoldReason reason, std::string problem, std::string action,
                bool byItself = true);
    /// Releases `cause` (nothing if it is not held). When no cause is left the line runs
    /// again: `resumed` {reason, problem, held_s} is journalled. Errors: the journal's.
    Status release(const std::string& cause);

    [[nodiscard]] LineState state() const;
    [[nodiscard]] bool held() const;

    /// Blocks while the line is held, until it runs again or `*stop` is set.
    void waitWhileHeld(const std::atomic<bool>* stop) const;

    /// Waits until the line runs, then calls `start` (starting a board: its allocation) before
    /// any hold can begin, so that the journal never shows a board started after `held`.
    /// Returns what `start` returns, or Errc::cancelled when `*stop` is set while it waits.
    Status whenRunning(const std::atomic<bool>* stop, const std::function<Status()>& start);

    /// The operator says a fault the line cannot see clear (a job lost twice) is dealt with.
    void operatorResume();
    /// How often operatorResume() was called: a holder compares it with the count it began with.
    [[nodiscard]] std::uint64_t operatorResumes() const;

    /// Called (on the thread that changed it, under the hold's lock: it must not call back)
    /// whenever what the line shows changes.
    void setObserver(Observer o);

private:
    struct Cause {
        std::string name;
        LineState state;
    };
    /// Journals and reports the line's new state if it differs from what was shown. Locked.
    Status publish();

    Journal& m_journal;
    Clock& m_clock;
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_changed;
    std::vector<Cause> m_causes;  // oldest first
    LineState m_shown;
    std::uint64_t m_resumes = 0;
    bool m_heldUnwritten = false;  // the shown hold could not be journalled (the token could not sign)
    Observer m_observer;
};

}  // namespace tte::station
