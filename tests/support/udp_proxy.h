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
//
// Given several servers it is also a UDP load balancer with source-address affinity, as a
// DTLS server farm needs one (docs/OPERATIONS.md, "Several MotherShips"): a flow is given to a
// live server when its first datagram arrives (round robin over the live ones, so a test sees
// every server used) and keeps it while that server lives, so every datagram of one DTLS
// session reaches the server that holds the session. A server is taken out when the kernel
// says its port is closed – ECONNREFUSED on a flow's connected upstream socket, which on
// loopback is the ICMP port-unreachable of the next datagram after its process died – never
// when it is merely slow, and never the last one; it is not taken back (a restarted server
// gets a new port). The flows of a server taken out move to a live one with their next
// datagram, keeping their upstream port: a device whose handshake died with its server
// starts again there.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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
    std::uint64_t serversLost = 0; ///< servers taken out (port unreachable)
    std::uint64_t flowsMoved = 0;  ///< flows moved from a server taken out to a live one
};

class UdpProxy {
public:
    /// Forwards to 127.0.0.1:`serverPort`. Throws std::runtime_error when a socket fails.
    UdpProxy(std::uint16_t serverPort, LinkFaults faults, std::uint64_t seed);
    /// A load balancer over 127.0.0.1:`serverPorts` (at least one), with source-address
    /// affinity (see above). Throws std::runtime_error when a socket fails or no port is given.
    UdpProxy(const std::vector<std::uint16_t>& serverPorts, LinkFaults faults, std::uint64_t seed);
    ~UdpProxy();
    UdpProxy(const UdpProxy&) = delete;
    UdpProxy& operator=(const UdpProxy&) = delete;

    /// The port clients send to (127.0.0.1).
    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] ProxyCounters counters() const;
    /// One letter per datagram of flow `flow` in direction `toServer`, in arrival order:
    /// '.' delivered, 'x' dropped, 'd' duplicated, 'r' reordered (the seed's decisions).
    [[nodiscard]] std::string fates(std::uint64_t flow, bool toServer) const;
    /// How many flows each server holds now (index as in the constructor's ports).
    [[nodiscard]] std::vector<std::uint64_t> flowsPerServer() const;
    /// Whether each server is still in (not found unreachable).
    [[nodiscard]] std::vector<bool> liveServers() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace tte::test
