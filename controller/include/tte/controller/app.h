// The Controller as a program runs it: its options, and starting and stopping everything it
// is – identity (made on first start), device store, HTTPS and CoAP/DTLS listeners, the
// status queries to the MotherShip, the ports file. tte-controller's main() only parses flags
// and waits for a signal.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tte/base/clock.h"
#include "tte/base/error.h"

namespace tte::controller {

struct ControllerOptions {
    std::string stateDir = "controller-state";
    std::string httpsListen = "127.0.0.1:8444";
    std::string coapsListen = "127.0.0.1:5685";
    long ttlSeconds = 30L * 24 * 3600;
    bool acceptUnintroduced = false;
    std::string msCaFile;
    std::vector<std::string> msConnectTo;
    long pollInterval = 5;
    int pollConcurrency = 4;
    long backoffBase = 10;
    bool noStatusQueries = false;
    std::string portsFile;  ///< written once listening: {"https", "coaps", "fingerprint"}
};

/// Where a started Controller is: "ADDR:PORT" of each listener, and the key fingerprint that
/// introducers and devices pin.
struct Ready {
    std::string https;
    std::string coaps;
    std::string fingerprint;
};

class ControllerApp {
public:
    /// Checks `options`, opens the identity and the store in the state directory, starts both
    /// listeners and (unless noStatusQueries) the status poller, writes the ports file.
    /// Errors: invalidArgument naming the option ("--https-listen must be ADDR:PORT or
    /// [IPv6]:PORT, got '…'", "--introduction-ttl must be positive", "--poll-concurrency must be
    /// at least 1"), those of loadOrCreateIdentity(), DeviceStore::open(), the listeners, and
    /// of writing the ports file.
    static Result<std::unique_ptr<ControllerApp>> start(const ControllerOptions& options, Clock& clock);
    ~ControllerApp();
    ControllerApp(const ControllerApp&) = delete;
    ControllerApp& operator=(const ControllerApp&) = delete;

    [[nodiscard]] const Ready& ready() const;
    /// Stops the poller and both listeners. Idempotent.
    void stop();

private:
    struct Parts;
    explicit ControllerApp(std::unique_ptr<Parts> parts);
    std::unique_ptr<Parts> m_parts;
};

}  // namespace tte::controller
