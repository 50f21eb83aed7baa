// Message 6 (draft 2, docs/PROTOCOL.md §8): telling the Controller which device to expect,
// now over HTTPS pinned to the Controller's fingerprint, or later ("the information can be
// saved so it can be done far in the future"): a queue directory keeps every introduction
// not yet delivered until `tte-introducer flush` sends it.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tte/base/error.h"
#include "tte/client/https_client.h"
#include "tte/protocol/controller_messages.h"

namespace tte::introducer {

/// Where introductions go: the Controller's URL (https://ADDR:PORT/tte/v1/introductions) and
/// the fingerprint its HTTPS key must have.
struct NotifyTarget {
    std::string url;
    protocol::Fingerprint fingerprint;
};

/// POSTs one introduction. Errors: conflict (409: the URN is introduced with another key),
/// invalidArgument (400, with the Controller's message), unavailable (other statuses, or no
/// connection), unauthenticated (the Controller's key is not the pinned one), timeout.
Status sendIntroduction(const NotifyTarget& target, const protocol::Introduction& intro,
                        std::chrono::seconds timeout = std::chrono::seconds(20));

/// The queue directory used when no --queue is given (XDG Base Directory Specification):
/// $XDG_STATE_HOME/tte/introductions, or ~/.local/state/tte/introductions when XDG_STATE_HOME
/// is unset, empty or not absolute (the spec says to ignore a relative one). `env` looks a
/// variable up (std::getenv in the program). Errors: notFound when neither XDG_STATE_HOME
/// nor HOME names an absolute directory.
Result<std::filesystem::path> defaultQueueDir(const std::function<const char*(const char*)>& env);

/// Introductions waiting to be sent: a directory (mode 0700) with one file per device,
/// `<ms host>-<devid>.json` (mode 0600: they hold OTPs), each written atomically (temp file,
/// fsync, rename, directory fsync) – docs/PROTOCOL.md §8.1. A file is removed only once the
/// Controller took the introduction; nothing else is ever deleted.
class IntroductionQueue {
public:
    explicit IntroductionQueue(std::filesystem::path dir) : m_dir(std::move(dir)) {}

    [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }

    /// Keeps one introduction (replacing one queued earlier for the same device); makes the
    /// directory and missing parents with mode 0700. Returns the file. Errors: io;
    /// permissionDenied when the directory is open to other users or not the caller's;
    /// invalidArgument when the path is a file (e.g. a queue file of an earlier version).
    Result<std::filesystem::path> add(const NotifyTarget& target, const protocol::Introduction& intro);

    /// One file of the queue as read.
    struct Entry {
        std::string file;  ///< name inside the directory
        std::optional<NotifyTarget> target;
        std::optional<protocol::Introduction> introduction;
        std::string problem;  ///< why the file is malformed (then target/introduction are empty)
    };

    /// Every queued file, by name (temp files of an interrupted write are not entries). A
    /// missing directory is an empty queue. Errors: io, permissionDenied, invalidArgument
    /// as add().
    Result<std::vector<Entry>> entries() const;

    /// What flush() did with one file.
    struct Flushed {
        enum class Outcome { sent, kept, refused, malformed };
        std::string file;
        std::string urn;   ///< empty for a malformed file
        std::string url;   ///< where it went
        Outcome outcome = Outcome::kept;
        std::string message;  ///< the reason when not sent
    };
    struct FlushReport {
        std::vector<Flushed> entries;
        [[nodiscard]] std::size_t sent() const;
        [[nodiscard]] std::size_t remaining() const { return entries.size() - sent(); }
    };

    /// Sends every queued introduction and removes each file the Controller took (201; a
    /// repeated one is answered as done). Files that could not be delivered (no connection,
    /// timeout, 5xx), that the Controller refused (400, 409) and malformed ones stay,
    /// reported by name. Errors: as entries().
    Result<FlushReport> flush(std::chrono::seconds timeout = std::chrono::seconds(20));

private:
    Status checkDirectory(bool create) const;

    std::filesystem::path m_dir;
};

/// Name of a flush outcome: sent, kept, refused, malformed.
std::string_view flushOutcomeName(IntroductionQueue::Flushed::Outcome outcome);

}  // namespace tte::introducer
