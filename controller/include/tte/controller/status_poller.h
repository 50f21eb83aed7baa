// Background status queries to the MotherShip (draft msg 7/8) for introduced devices the
// Controller has not heard from: bounded concurrency, exponential backoff per device.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "tte/base/clock.h"
#include "tte/client/https_client.h"
#include "tte/controller/service.h"
#include "tte/controller/store.h"

namespace tte::controller {

/// Asks the MotherShip named in the query for the device's state; returns one of
/// not-mapped, mapped, registered, revoked. Errors: whatever the transport reports.
using StatusFetcher = std::function<Result<std::string>(const StatusQuery&)>;

/// Messages 7/8 over HTTPS: GET https://<ms>/.well-known/tte/status?otp=…,devid=…
/// (protocol::buildStatusUrl), the answer read as a protocol::StatusResponse. Errors: those
/// of client::httpsRequest(), client::answerError() for a non-200 answer, corrupt for a 200
/// whose body is not a status answer, invalidArgument for a query the store holds wrongly.
StatusFetcher makeHttpsStatusFetcher(client::HttpsOptions https);

struct PollerOptions {
    int concurrency = 4;                                   ///< queries in flight at once
    std::chrono::seconds interval{5};                      ///< how often due devices are looked for
    std::chrono::seconds backoffBase{10};                  ///< first retry delay
    std::chrono::seconds backoffCap{std::chrono::hours(6)};  ///< longest delay
};

class StatusPoller {
public:
    StatusPoller(DeviceStore& store, ControllerService& service, const Clock& clock, StatusFetcher fetcher,
                 PollerOptions options)
        : m_store(store), m_service(service), m_clock(clock), m_fetch(std::move(fetcher)), m_options(options) {}
    ~StatusPoller() { stop(); }

    /// Queries every device that is due now (at most `concurrency` at a time, in parallel) and
    /// records the answers and the next query times. Returns how many were queried.
    /// Errors: io (the store).
    Result<int> pollOnce();

    /// Delay before the next query after `attempts` queries: min(cap, base * 2^(attempts-1)).
    [[nodiscard]] std::chrono::seconds backoff(int attempts) const;

    /// Runs pollOnce() every interval in a thread until stop().
    void start();
    void stop();

private:
    DeviceStore& m_store;
    ControllerService& m_service;
    const Clock& m_clock;
    StatusFetcher m_fetch;
    PollerOptions m_options;
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping = false;
};

}  // namespace tte::controller
