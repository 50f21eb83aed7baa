// Message 6 (draft 2, docs/PROTOCOL.md §8): telling the Controller which device to expect,
// now over HTTPS pinned to the Controller's fingerprint, or later from a local queue file
// ("the information can be saved so it can be done far in the future").
#pragma once

#include <filesystem>
#include <string>

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

/// A file of introductions waiting to be sent (JSON, mode 0600: it holds OTPs), replaced
/// atomically on every change.
class IntroductionQueue {
public:
    explicit IntroductionQueue(std::filesystem::path file) : m_file(std::move(file)) {}

    /// Appends one. Errors: io, corrupt (the file exists but is not a queue).
    Status add(const NotifyTarget& target, const protocol::Introduction& intro);

    /// Number queued. Errors: io, corrupt.
    Result<std::size_t> size() const;

    struct FlushReport {
        std::size_t sent = 0;
        std::size_t kept = 0;    ///< still queued (Controller not reachable)
        std::size_t dropped = 0; ///< refused for good (400/409); each is in `problems`
        std::vector<std::string> problems;
    };

    /// Sends every queued introduction; removes the sent and the refused ones, keeps those
    /// that could not be delivered. Errors: io, corrupt.
    Result<FlushReport> flush(std::chrono::seconds timeout = std::chrono::seconds(20));

private:
    std::filesystem::path m_file;
};

}  // namespace tte::introducer
