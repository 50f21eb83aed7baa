// The parts of mothership_bench shared between its files: the DTLS bounds (raw OpenSSL
// handshakes and connection memory) and a libcoap client fleet that enrolls many devices.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tte::bench {

/// The key files of one side of a DTLS connection (PEM).
struct KeyPair {
    std::string cert;
    std::string key;
};

/// Complete DTLS 1.2 handshakes per second between two OpenSSL objects over memory BIOs in
/// this thread (both sides' work), mutual certificates as the MotherShip uses them; 0 when
/// one failed.
double rawDtlsHandshakesPerSecond(const KeyPair& server, const KeyPair& client, int count);

/// Growth of this process's RSS per server-side DTLS connection kept open after a raw
/// handshake (the client objects are freed), in bytes; measured over `count` connections.
/// Meaningful only in a process that has not freed much before: freed heap is resident and
/// taken again without growth (after 2,000 other connections freed, 16 KiB instead of 50).
/// mothership_bench runs it in a child forked at its start.
double rawDtlsBytesPerConnection(const KeyPair& server, const KeyPair& client, int count);

/// What a round of enrollments did.
struct EnrollRun {
    int served = 0;     ///< answered 2.05 with the controller
    int refused = 0;    ///< answered with another code
    int retried = 0;    ///< sessions that failed (DTLS error, no answer in 10 s) and were started again
    double seconds = 0;
};

/// A libcoap client (one context, one thread) acting as many devices, all with one key,
/// pinning the MotherShip's DTLS fingerprint as a device does.
class DeviceFleet {
public:
    DeviceFleet(std::uint16_t port, KeyPair device, std::string serverFingerprint);
    ~DeviceFleet();
    DeviceFleet(const DeviceFleet&) = delete;
    DeviceFleet& operator=(const DeviceFleet&) = delete;

    /// Enrolls every URN (new DTLS session + GET /.well-known/tte?urn=…), at most `inFlight`
    /// sessions unanswered at once, until all are answered or `limit` has passed. A session
    /// that fails, or has no answer 10 s after it started, is started again (as a device
    /// retries). With `keepOpen` the sessions stay open until closeAll().
    EnrollRun enroll(const std::vector<std::string>& urns, std::size_t inFlight, std::chrono::seconds limit,
                     bool keepOpen);
    /// Closes the sessions kept open.
    void closeAll();
    /// Closes every session, also those of attempts still unanswered, and ends what libcoap
    /// still had to retransmit for them (before the server under test stops).
    void abandon();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// VmRSS of a process from /proc/<pid>/status, in bytes (0 when unreadable).
std::size_t residentBytes(int pid);

}  // namespace tte::bench
