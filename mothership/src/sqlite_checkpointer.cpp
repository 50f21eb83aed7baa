// SQLite's checkpointer (sqlite_checkpointer.h).
#include "sqlite_checkpointer.h"

namespace tte::mothership {

SqliteCheckpointer::SqliteCheckpointer(sqlite3* connection, std::string path,
                                       std::function<void(const std::string&)> warn)
    : m_db(connection), m_path(std::move(path)), m_warn(std::move(warn)), m_thread([this] { loop(); }) {}

SqliteCheckpointer::~SqliteCheckpointer() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wanted.notify_all();
    m_thread.join();
}

void SqliteCheckpointer::committed(int frames) {
    m_logFrames = frames;
    if (frames < kCheckpointFrames) return;
    {
        std::lock_guard lock(m_mutex);
        m_due = true;
    }
    m_wanted.notify_one();
}

WalState SqliteCheckpointer::state() const {
    std::lock_guard lock(m_stateMutex);
    return m_state;
}

/// PASSIVE: copies the frames no reader still needs, waits for nobody and blocks nobody. The
/// writer starts the log again from its beginning once a checkpoint has copied all of it.
/// A failure (the disk) is tried again at the next commit's request; the log keeps every
/// commit meanwhile.
void SqliteCheckpointer::loop() {
    for (;;) {
        {
            std::unique_lock lock(m_mutex);
            m_wanted.wait(lock, [this] { return m_stopping || m_due; });
            if (m_stopping) return;
            m_due = false;
        }
        int frames = 0;
        int copied = 0;
        const int rc = sqlite3_wal_checkpoint_v2(m_db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
        const auto warnings = note(rc, frames, copied);
        if (m_warn)
            for (const auto& warning : warnings) m_warn(warning);
    }
}

/// The lines: the first failure of a run of them, the first success after one, and a log that
/// stays past kLogWarnFrames (once, and again after it fell below half of that). A success
/// after failures that still leaves the log held tells both.
std::vector<std::string> SqliteCheckpointer::note(int rc, int frames, int copied) {
    // SQLITE_BUSY: another connection (an operator's sqlite3 shell) was checkpointing.
    if (rc == SQLITE_BUSY) return {};
    std::lock_guard lock(m_stateMutex);
    ++m_state.checkpoints;
    if (rc != SQLITE_OK) {
        // A failed checkpoint tells no counts: the log as the last commit left it, none of it
        // known to be in the database file.
        m_state.frames = m_logFrames;
        m_state.uncopied = m_state.frames;
        ++m_state.failures;
        const bool first = m_state.lastError.empty();
        m_state.lastError = std::string(sqlite3_errmsg(m_db)) + " (" + sqlite3_errstr(rc) + ")";
        if (!first) return {};
        return {"event=registry-checkpoint-failed database=" + m_path + " error=\"" + m_state.lastError +
                "\" note=\"commits stay in the write-ahead log, which grows until a checkpoint succeeds; "
                "tried again at every commit\""};
    }
    m_state.frames = frames;
    m_state.uncopied = frames - copied;
    std::vector<std::string> lines;
    if (!m_state.lastError.empty()) {
        lines.push_back("event=registry-checkpoint-recovered database=" + m_path +
                        " failures=" + std::to_string(m_state.failures));
        m_state.lastError.clear();
    }
    if (m_state.uncopied >= kLogWarnFrames && !m_logWarned) {
        m_logWarned = true;
        lines.push_back("event=registry-log-growing database=" + m_path + " frames=" + std::to_string(frames) +
                        " uncopied=" + std::to_string(m_state.uncopied) +
                        " note=\"a reader's snapshot keeps the checkpoint from copying the write-ahead log into the "
                        "database file: a long read (an admin export, a sqlite3 shell in a transaction)\"");
    } else if (m_state.uncopied < kLogWarnFrames / 2) {
        m_logWarned = false;
    }
    return lines;
}

}  // namespace tte::mothership
