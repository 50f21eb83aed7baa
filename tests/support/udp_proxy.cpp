// The lossy UDP proxy and load balancer (udp_proxy.h).
#include "support/udp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <vector>

namespace tte::test {

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/// The k-th uniform draw in [0, 1) for one datagram.
double draw(std::uint64_t datagramKey, unsigned k) {
    return static_cast<double>(mix(datagramKey + k * 0x632be59bd9b4e019ULL) >> 11) * 0x1.0p-53;
}

int udpSocket() {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("udp proxy: socket: ") + std::strerror(errno));
    int size = 1 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        throw std::runtime_error(std::string("udp proxy: bind: ") + std::strerror(errno));
    }
    return fd;
}

struct Flow {
    sockaddr_in client{};
    int upstream = -1;
    std::size_t server = 0;  ///< index into Impl::servers
    std::uint64_t number = 0;
    std::uint64_t count[2] = {0, 0};  ///< datagrams so far, [0] to the client, [1] to the server
    std::string fates[2];
};

struct Held {
    Clock::time_point due;
    std::uint64_t order;
    std::size_t flow;
    bool toServer;
    std::vector<std::uint8_t> bytes;
    bool operator>(const Held& o) const { return due != o.due ? due > o.due : order > o.order; }
};

}  // namespace

struct UdpProxy::Impl {
    LinkFaults faults;
    std::uint64_t seed;
    std::vector<sockaddr_in> servers;
    std::vector<bool> live;
    std::size_t nextServer = 0;  ///< round robin for new flows
    int listener = -1, wake = -1;
    std::uint16_t port = 0;
    mutable std::mutex mutex;  // counters and flows' fates, read by the test thread
    ProxyCounters counters;
    std::vector<Flow> flows;
    std::map<std::uint64_t, std::size_t> byClient;
    std::priority_queue<Held, std::vector<Held>, std::greater<>> held;
    std::uint64_t order = 0;
    std::thread thread;

    void run();
    void receive(int fd, std::size_t flow, bool toServer);
    void decide(std::size_t flow, bool toServer, std::vector<std::uint8_t> bytes);
    void deliver(const Held& h);
    std::size_t flowOf(const sockaddr_in& client);
    std::size_t pickServer();
    void serverRefused(std::size_t flow);
    bool follow(Flow& f);
};

UdpProxy::UdpProxy(std::uint16_t serverPort, LinkFaults faults, std::uint64_t seed)
    : UdpProxy(std::vector<std::uint16_t>{serverPort}, faults, seed) {}

UdpProxy::UdpProxy(const std::vector<std::uint16_t>& serverPorts, LinkFaults faults, std::uint64_t seed)
    : m_impl(std::make_unique<Impl>()) {
    auto& m = *m_impl;
    if (serverPorts.empty()) throw std::runtime_error("udp proxy: no server port");
    m.faults = faults;
    m.seed = seed;
    for (auto port : serverPorts) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        m.servers.push_back(a);
    }
    m.live.assign(serverPorts.size(), true);
    m.listener = udpSocket();
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(m.listener, reinterpret_cast<sockaddr*>(&a), &len);
    m.port = ntohs(a.sin_port);
    m.wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m.wake < 0) throw std::runtime_error(std::string("udp proxy: eventfd: ") + std::strerror(errno));
    m.thread = std::thread([&m] { m.run(); });
}

UdpProxy::~UdpProxy() {
    std::uint64_t one = 1;
    (void)!::write(m_impl->wake, &one, sizeof one);
    m_impl->thread.join();
    for (auto& f : m_impl->flows) ::close(f.upstream);
    ::close(m_impl->listener);
    ::close(m_impl->wake);
}

std::uint16_t UdpProxy::port() const { return m_impl->port; }

ProxyCounters UdpProxy::counters() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->counters;
}

std::vector<std::uint64_t> UdpProxy::flowsPerServer() const {
    std::lock_guard lock(m_impl->mutex);
    std::vector<std::uint64_t> out(m_impl->servers.size(), 0);
    for (const auto& f : m_impl->flows) out[f.server]++;
    return out;
}

std::vector<bool> UdpProxy::liveServers() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->live;
}

std::string UdpProxy::fates(std::uint64_t flow, bool toServer) const {
    std::lock_guard lock(m_impl->mutex);
    return flow < m_impl->flows.size() ? m_impl->flows[flow].fates[toServer ? 1 : 0] : std::string();
}

void UdpProxy::Impl::run() {
    std::vector<pollfd> fds;
    for (;;) {
        int timeout = -1;
        if (!held.empty()) {
            auto wait = std::chrono::ceil<std::chrono::milliseconds>(held.top().due - Clock::now()).count();
            timeout = static_cast<int>(std::max<long long>(0, wait));
        }
        fds.assign({{wake, POLLIN, 0}, {listener, POLLIN, 0}});
        for (const auto& f : flows) fds.push_back({f.upstream, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) return;
        if (fds[0].revents) return;
        if (fds[1].revents) receive(listener, 0, true);
        for (std::size_t i = 2; i < fds.size(); ++i)
            if (fds[i].revents) receive(fds[i].fd, i - 2, false);
        while (!held.empty() && held.top().due <= Clock::now()) {
            deliver(held.top());
            held.pop();
        }
    }
}

std::size_t UdpProxy::Impl::flowOf(const sockaddr_in& client) {
    const std::uint64_t key = (static_cast<std::uint64_t>(client.sin_addr.s_addr) << 16) | client.sin_port;
    if (auto it = byClient.find(key); it != byClient.end()) return it->second;
    Flow f;
    f.client = client;
    f.server = pickServer();
    f.upstream = udpSocket();
    if (::connect(f.upstream, reinterpret_cast<const sockaddr*>(&servers[f.server]), sizeof(sockaddr_in)) != 0) {
        ::close(f.upstream);
        throw std::runtime_error(std::string("udp proxy: connect: ") + std::strerror(errno));
    }
    std::lock_guard lock(mutex);
    const std::size_t index = flows.size();
    f.number = index;
    flows.push_back(std::move(f));
    counters.flows = flows.size();
    byClient[key] = index;
    return index;
}

void UdpProxy::Impl::receive(int fd, std::size_t flow, bool toServer) {
    std::vector<std::uint8_t> buf(65536);
    for (;;) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) {
            // EAGAIN: drained. ECONNREFUSED on an upstream socket: its server's port is closed.
            if (errno == ECONNREFUSED && !toServer) serverRefused(flow);
            return;
        }
        if (toServer) flow = flowOf(from);
        decide(flow, toServer, std::vector<std::uint8_t>(buf.begin(), buf.begin() + n));
    }
}

void UdpProxy::Impl::decide(std::size_t flow, bool toServer, std::vector<std::uint8_t> bytes) {
    Flow& f = flows[flow];
    const std::uint64_t key = mix(seed ^ mix((f.number << 1) | (toServer ? 1 : 0)) ^ mix(~f.count[toServer ? 1 : 0]));
    f.count[toServer ? 1 : 0]++;
    const auto delay = [&](double u) {
        const auto span = faults.delayMax - faults.delayMin;
        return faults.delayMin + std::chrono::milliseconds(static_cast<long long>(u * static_cast<double>(span.count() + 1)));
    };
    const auto now = Clock::now();
    char fate = '.';
    std::lock_guard lock(mutex);
    counters.received++;
    if (draw(key, 0) < faults.loss) {
        fate = 'x';
        counters.dropped++;
    } else {
        Held h{now + delay(draw(key, 1)), order++, flow, toServer, bytes};
        if (draw(key, 2) < faults.reorder) {
            h.due += faults.reorderHold;
            fate = 'r';
            counters.reordered++;
        }
        if (draw(key, 3) < faults.duplicate) {
            held.push(Held{now + delay(draw(key, 4)), order++, flow, toServer, std::move(bytes)});
            fate = 'd';
            counters.duplicated++;
        }
        held.push(std::move(h));
    }
    f.fates[toServer ? 1 : 0] += fate;
}

std::size_t UdpProxy::Impl::pickServer() {
    for (std::size_t i = 0; i < servers.size(); ++i) {
        const std::size_t s = (nextServer + i) % servers.size();
        if (live[s]) {
            nextServer = s + 1;
            return s;
        }
    }
    return 0;  // unreachable: the last server is never taken out
}

// The flow's server answered "port unreachable": take it out unless it is the last one.
void UdpProxy::Impl::serverRefused(std::size_t flow) {
    const std::size_t s = flows[flow].server;
    std::lock_guard lock(mutex);
    if (!live[s] || std::count(live.begin(), live.end(), true) < 2) return;
    live[s] = false;
    counters.serversLost++;
}

// Moves a flow whose server was taken out to a live one; false when the socket refuses.
bool UdpProxy::Impl::follow(Flow& f) {
    std::lock_guard lock(mutex);
    if (live[f.server]) return true;
    const std::size_t s = pickServer();
    if (::connect(f.upstream, reinterpret_cast<const sockaddr*>(&servers[s]), sizeof(sockaddr_in)) != 0) return false;
    f.server = s;
    counters.flowsMoved++;
    return true;
}

void UdpProxy::Impl::deliver(const Held& h) {
    Flow& f = flows[h.flow];
    if (h.toServer) {
        if (!follow(f)) return;
        if (::send(f.upstream, h.bytes.data(), h.bytes.size(), 0) < 0 && errno == ECONNREFUSED) {
            // The error of an earlier datagram, reported now: this one was not sent.
            serverRefused(h.flow);
            if (follow(f)) (void)::send(f.upstream, h.bytes.data(), h.bytes.size(), 0);
        }
    } else {
        (void)::sendto(listener, h.bytes.data(), h.bytes.size(), 0, reinterpret_cast<const sockaddr*>(&f.client), sizeof f.client);
    }
    std::lock_guard lock(mutex);
    counters.delivered++;
}

}  // namespace tte::test
