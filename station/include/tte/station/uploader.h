// Store-and-forward upload: drains the journal's queue to the MotherShip (records, boxes,
// mappings) and to a pre-enrolled lot's controller (introductions), in batches, with capped
// exponential backoff on the injected Clock. Record ids make every upload idempotent, and an
// item is settled (journalled, OTP cleared) only after the peer acknowledged it, so a crash
// at any point leads to a re-send that the MotherShip answers `duplicate`: never twice in effect.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "tte/base/clock.h"
#include "tte/station/config.h"
#include "tte/station/journal.h"
#include "tte/station/line_hold.h"
#include "tte/station/ports.h"

namespace tte::station {

/// Points at which the Uploader's fault hook is called: after the MotherShip answered a record
/// batch, and after the peer acknowledged a mapping, introduction or box, each before the
/// answer is settled in the journal.
inline constexpr const char* kUploadFaultPoints[] = {"uploaded", "delivered"};

struct UploadPolicy {
    std::size_t batch = 100;  ///< records per POST (the API takes up to 500)
    Clock::Duration base = std::chrono::seconds(1);
    Clock::Duration cap = std::chrono::seconds(60);
};

/// What the operator sees of the queue.
struct Backlog {
    int pending = 0;
    int done = 0;
    int rejected = 0;
    int failures = 0;             ///< consecutive failed attempts
    std::string lastError;        ///< "" when the last attempt succeeded
    Clock::Duration retryIn{0};   ///< until the next attempt (0 = now)
};

class Uploader {
public:
    using FaultHook = std::function<void(std::string_view point)>;

    Uploader(const StationConfig& config, Journal& journal, StationKeys& keys, MotherShipClient& ms,
             ControllerClient* controller, Clock& clock, UploadPolicy policy = {});

    /// One pass over what is due: record batches, then mappings, introductions and boxes.
    /// Returns how many items were settled. When a peer is unreachable the pass stops and
    /// the next one waits min(cap, base·2^n); the error is returned and shown in backlog().
    Result<int> drainOnce();

    /// Repeats drainOnce() until nothing is pending or `timeout` of clock time passed.
    /// Errors: timeout with the last peer error.
    Status drain(Clock::Duration timeout);

    /// Runs drains in the background until stop() (the CLI's `run`): wakes on poke().
    void serve();
    void poke();
    void stop();

    Result<Backlog> backlog();
    void setFaultHook(FaultHook h) { m_fault = std::move(h); }
    /// The line this uploader holds (reason mothership) once records have waited while every
    /// upload failed for config.msHoldAfterS: a record is not live before the MotherShip has
    /// it. Released by the first upload that goes through. `hold` must outlive the uploader.
    void setLineHold(LineHold* hold) { m_hold = hold; }

private:
    Result<int> drainRecords();
    Result<int> drainOthers(const std::string& kind);
    Status sendOther(const QueueItem& item);
    Result<protocol::Otp> unseal(const QueueItem& item);
    /// The PSK a DTLS-PSK device's record item seals after its OTP; nullopt for other items.
    Result<std::optional<protocol::Psk>> unsealPsk(const QueueItem& item);
    Status reject(const std::string& id, const std::string& message);
    /// `mothership`: the failed peer is the MotherShip (not a pre-enrolled lot's controller).
    void noteFailure(const Error& e, bool mothership = true);
    /// Holds or releases the line for the MotherShip (setLineHold) by how long uploads fail.
    void updateHold();

    const StationConfig& m_config;
    Journal& m_journal;
    StationKeys& m_keys;
    MotherShipClient& m_ms;
    ControllerClient* m_controller;
    Clock& m_clock;
    UploadPolicy m_policy;
    FaultHook m_fault;

    std::mutex m_mutex;  // guards the fields below
    std::condition_variable m_cv;
    bool m_stop = false;
    bool m_poked = false;
    int m_failures = 0;
    std::string m_lastError;
    Clock::TimePoint m_next{};
    std::optional<Clock::TimePoint> m_failingSince;  // the first failed upload since the last that went through
    std::string m_failingError;                      // … and its error
    LineHold* m_hold = nullptr;
};

}  // namespace tte::station
