// SQLite's checkpointer (sqlite_checkpointer.cpp): a thread with a connection of its own that
// copies the write-ahead log back into the database file when a commit asks for it, so that no
// commit waits for those writes, and that keeps what each checkpoint did (WalState) and tells
// its trouble as log lines.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tte/mothership/registry.h"

namespace tte::mothership {

class SqliteCheckpointer {
public:
    /// Frames in the log (pages of about 4 KiB) after which a commit asks for a checkpoint:
    /// SQLite's own automatic checkpoint, which this replaces, starts at the same count.
    static constexpr int kCheckpointFrames = 1000;
    /// Frames left in the log after a checkpoint (64 MiB) past which it warns: a reader's
    /// snapshot keeps it from copying them, and the log grows while that lasts.
    static constexpr int kLogWarnFrames = 16 * kCheckpointFrames;

    /// Checkpoints `path` through `connection` (open, not used by anyone else; it outlives
    /// this) on a thread of its own; `warn` (when set) is told of its trouble on that thread.
    SqliteCheckpointer(sqlite3* connection, std::string path, std::function<void(const std::string&)> warn);
    /// Stops the thread (a checkpoint under way ends first).
    ~SqliteCheckpointer();
    SqliteCheckpointer(const SqliteCheckpointer&) = delete;
    SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

    /// Told by the writer after each commit (sqlite3_wal_hook) with the log's size: asks for a
    /// checkpoint from kCheckpointFrames on.
    void committed(int frames);
    [[nodiscard]] WalState state() const;

private:
    void loop();
    /// Keeps what a checkpoint left for state(); returns the log lines it deserves (none, one,
    /// or two: a recovery that still leaves the log held).
    std::vector<std::string> note(int rc, int frames, int copied);

    sqlite3* m_db;
    std::string m_path;
    std::function<void(const std::string&)> m_warn;
    std::mutex m_mutex;
    std::condition_variable m_wanted;
    bool m_due = false;
    bool m_stopping = false;
    std::atomic<int> m_logFrames{0};  ///< the log's frames after the last commit
    mutable std::mutex m_stateMutex;
    WalState m_state;
    bool m_logWarned = false;  ///< the growing log was told of, and has not fallen back since
    std::thread m_thread;      ///< last: started once everything it uses is made
};

}  // namespace tte::mothership
