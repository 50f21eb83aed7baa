// Test support: a userspace UDP proxy on loopback that loses, duplicates, delays and reorders
// datagrams between clients (devices) and one server (a MotherShip's or Controller's CoAP/DTLS
// port), so tests see what a lossy radio link does to the protocol.
//
// It listens on 127.0.0.1:0 and gives every client address its own upstream socket, as a NAT
// does, so the server sees one peer per client. One thread, poll(2)-driven: the poll timeout is
// the time to the next held datagram, so nothing sleeps. Every fate is drawn from a hash of
// (seed, direction, flow number, datagram number in its flow): with the same seed, a flow's
// n-th datagram meets the same fate in every run, whatever the other flows do and however the
// threads are scheduled (flows are numbered in the order their first datagram arrives).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace tte::test {

/// What happens to datagrams, each direction alike. Probabilities are 0..1 per datagram.
struct LinkFaults {
    double loss = 0;       ///< dropped
    double duplicate = 0;  ///< sent twice (the copy with its own delay)
    double reorder = 0;    ///< held back `reorderHold` more, so later datagrams overtake it
    std::chrono::milliseconds delayMin{0}, delayMax{0};  ///< every datagram: uniform in [min, max]
    std::chrono::milliseconds reorderHold{40};
};

struct ProxyCounters {
    std::uint64_t received = 0;    ///< datagrams in, both directions
    std::uint64_t dropped = 0;
    std::uint64_t duplicated = 0;  ///< extra copies sent
    std::uint64_t reordered = 0;
    std::uint64_t delivered = 0;   ///< datagrams out, copies included
    std::uint64_t flows = 0;       ///< client addresses seen
};

class UdpProxy {
public:
    /// Forwards to 127.0.0.1:`serverPort`. Throws std::runtime_error when a socket fails.
    UdpProxy(std::uint16_t serverPort, LinkFaults faults, std::uint64_t seed);
    ~UdpProxy();
    UdpProxy(const UdpProxy&) = delete;
    UdpProxy& operator=(const UdpProxy&) = delete;

    /// The port clients send to (127.0.0.1).
    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] ProxyCounters counters() const;
    /// One letter per datagram of flow `flow` in direction `toServer`, in arrival order:
    /// '.' delivered, 'x' dropped, 'd' duplicated, 'r' reordered (the seed's decisions).
    [[nodiscard]] std::string fates(std::uint64_t flow, bool toServer) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace tte::test
