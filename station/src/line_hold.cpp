// The line hold (see line_hold.h).
#include "tte/station/line_hold.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "tte/station/journal.h"

namespace tte::station {
namespace {

bool sameShown(const LineState& a, const LineState& b) {
    return a.held == b.held && a.reason == b.reason && a.problem == b.problem && a.action == b.action;
}

}  // namespace

std::string_view holdReasonName(HoldReason reason) {
    switch (reason) {
        case HoldReason::printer: return "printer";
        case HoldReason::token: return "token";
        case HoldReason::quota: return "quota";
        case HoldReason::mothership: return "mothership";
    }
    return "?";
}

std::string LineState::text() const {
    if (!held) return {};
    std::string out = problem;
    if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    out += " \u2013 " + action;
    if (byItself) out += "; the line goes on by itself";
    return out;
}

Status LineHold::hold(const std::string& cause, HoldReason reason, std::string problem, std::string action,
                      bool byItself) {
    std::lock_guard lock(m_mutex);
    auto it = std::find_if(m_causes.begin(), m_causes.end(), [&](const Cause& c) { return c.name == cause; });
    LineState s{true, reason, std::move(problem), std::move(action), byItself, m_clock.wallNow()};
    if (it == m_causes.end()) {
        m_causes.push_back({cause, std::move(s)});
    } else {
        s.since = it->state.since;
        it->state = std::move(s);
    }
    return publish();
}

Status LineHold::release(const std::string& cause) {
    std::lock_guard lock(m_mutex);
    auto it = std::find_if(m_causes.begin(), m_causes.end(), [&](const Cause& c) { return c.name == cause; });
    if (it == m_causes.end()) return {};
    m_causes.erase(it);
    return publish();
}

Status LineHold::publish() {
    LineState next;
    if (!m_causes.empty()) {
        next = m_causes.front().state;
        next.since = m_shown.held ? m_shown.since : next.since;  // held since the line first stopped
    }
    if (sameShown(next, m_shown)) return {};
    Result<JournalEntry> e = fail(Errc::internal, "unreachable");
    if (next.held) {
        e = m_journal.append("held", std::nullopt,
                             {{"reason", holdReasonName(next.reason)}, {"problem", next.problem},
                              {"action", next.action}, {"at", rfc3339(m_clock.wallNow())}});
        // A journal that cannot sign (the token is the fault) gets the hold when it can again.
        m_heldUnwritten = !e;
    } else {
        if (m_heldUnwritten) {
            auto late = m_journal.append("held", std::nullopt,
                                         {{"reason", holdReasonName(m_shown.reason)}, {"problem", m_shown.problem},
                                          {"action", m_shown.action}, {"at", rfc3339(m_shown.since)},
                                          {"journalled_at", rfc3339(m_clock.wallNow())}});
            m_heldUnwritten = !late;
        }
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(m_clock.wallNow() - m_shown.since).count();
        e = m_journal.append("resumed", std::nullopt,
                             {{"reason", holdReasonName(m_shown.reason)}, {"problem", m_shown.problem},
                              {"held_s", secs}, {"at", rfc3339(m_clock.wallNow())}});
    }
    m_shown = next;
    m_changed.notify_all();
    if (m_observer) m_observer(m_shown);
    if (!e) return std::unexpected(e.error());
    return {};
}

LineState LineHold::state() const {
    std::lock_guard lock(m_mutex);
    return m_shown;
}

bool LineHold::held() const {
    std::lock_guard lock(m_mutex);
    return m_shown.held;
}

void LineHold::waitWhileHeld(const std::atomic<bool>* stop) const {
    std::unique_lock lock(m_mutex);
    // Stop is a flag nobody signals: look at it every 100 ms while held.
    while (m_shown.held && !(stop != nullptr && stop->load())) m_changed.wait_for(lock, std::chrono::milliseconds(100));
}

Status LineHold::whenRunning(const std::atomic<bool>* stop, const std::function<Status()>& start) {
    std::unique_lock lock(m_mutex);
    while (m_shown.held) {
        if (stop != nullptr && stop->load()) return fail(Errc::cancelled, "the run was stopped while the line was held");
        m_changed.wait_for(lock, std::chrono::milliseconds(100));
    }
    return start();
}

void LineHold::operatorResume() {
    std::lock_guard lock(m_mutex);
    ++m_resumes;
    m_changed.notify_all();
}

std::uint64_t LineHold::operatorResumes() const {
    std::lock_guard lock(m_mutex);
    return m_resumes;
}

void LineHold::setObserver(Observer o) {
    std::lock_guard lock(m_mutex);
    m_observer = std::move(o);
}

}  // namespace tte::station
