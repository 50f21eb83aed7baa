// The lossy UDP proxy of tests/support/udp_proxy.h against plain loopback sockets: every fate
// is the seed's (same seed, same fates; another seed, others), the rates are the ones asked
// for, copies and overtaking really reach the server, and answers find their client; as a
// load balancer over several servers, each client keeps its server and the clients of a
// server whose port closed move to a live one.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/udp_proxy.h"

namespace tte::test {
namespace {

class Socket {
public:
    Socket() : m_fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    }
    ~Socket() { ::close(m_fd); }
    void close() {
        ::close(m_fd);
        m_fd = -1;
    }
    std::uint16_t port() const {
        sockaddr_in a{};
        socklen_t len = sizeof a;
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len);
        return ntohs(a.sin_port);
    }
    void sendTo(std::uint16_t port, std::uint32_t value) const {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        ASSERT_EQ(::sendto(m_fd, &value, sizeof value, 0, reinterpret_cast<sockaddr*>(&a), sizeof a), 4);
    }
    /// Every datagram waiting: (value, sender's port).
    std::vector<std::pair<std::uint32_t, std::uint16_t>> drain() const {
        std::vector<std::pair<std::uint32_t, std::uint16_t>> out;
        std::uint32_t value = 0;
        sockaddr_in from{};
        socklen_t len = sizeof from;
        while (::recvfrom(m_fd, &value, sizeof value, 0, reinterpret_cast<sockaddr*>(&from), &len) == 4) {
            out.emplace_back(value, ntohs(from.sin_port));
            len = sizeof from;
        }
        return out;
    }

private:
    int m_fd;
};

/// Sends 0..n-1 through a proxy one at a time (each decided before the next is sent), waits
/// until every surviving datagram and copy reached the server, and returns what it received.
void sendThrough(UdpProxy& proxy, const Socket& client, const Socket& server, std::uint32_t n,
                 std::vector<std::uint32_t>& got) {
    for (std::uint32_t i = 0; i < n; ++i) {
        client.sendTo(proxy.port(), i);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (proxy.counters().received != i + 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
        ASSERT_EQ(proxy.counters().received, i + 1) << "the proxy did not take datagram " << i;
        for (auto [v, port] : server.drain()) got.push_back(v);  // before the socket's buffer fills
    }
    EXPECT_TRUE(waitFor([&] {
        for (auto [v, port] : server.drain()) got.push_back(v);
        const auto c = proxy.counters();
        return got.size() == c.received - c.dropped + c.duplicated && c.delivered == got.size();
    })) << got.size() << " received " << proxy.counters().received << " dropped " << proxy.counters().dropped << " dup "
        << proxy.counters().duplicated << " delivered " << proxy.counters().delivered;
}

TEST(UdpProxy, TheSeedDecidesEveryFate) {
    const LinkFaults faults{.loss = 0.2, .duplicate = 0.05, .reorder = 0.1, .delayMin = {}, .delayMax = {}, .reorderHold = std::chrono::milliseconds(5)};
    std::string runs[3];
    const std::uint64_t seeds[3] = {7, 7, 8};
    for (int r = 0; r < 3; ++r) {
        Socket server, client;
        UdpProxy proxy(server.port(), faults, seeds[r]);
        std::vector<std::uint32_t> got;
        sendThrough(proxy, client, server, 300, got);
        runs[r] = proxy.fates(0, true);
        EXPECT_EQ(runs[r].size(), 300u);
    }
    EXPECT_EQ(runs[0], runs[1]);
    EXPECT_NE(runs[0], runs[2]);
}

TEST(UdpProxy, RatesCopiesAndOvertakingAreReal) {
    Socket server, client;
    UdpProxy proxy(server.port(),
                   {.loss = 0.2, .duplicate = 0.1, .reorder = 0.2, .delayMin = {}, .delayMax = std::chrono::milliseconds(1),
                    .reorderHold = std::chrono::milliseconds(20)},
                   42);
    constexpr std::uint32_t n = 2000;
    std::vector<std::uint32_t> got;
    sendThrough(proxy, client, server, n, got);
    const auto c = proxy.counters();
    EXPECT_NEAR(static_cast<double>(c.dropped) / n, 0.2, 0.03);
    EXPECT_NEAR(static_cast<double>(c.duplicated) / (n - c.dropped), 0.1, 0.03);
    EXPECT_NEAR(static_cast<double>(c.reordered) / (n - c.dropped), 0.2, 0.03);
    std::set<std::uint32_t> distinct(got.begin(), got.end());
    EXPECT_EQ(distinct.size(), n - c.dropped);
    EXPECT_EQ(got.size() - distinct.size(), c.duplicated);
    std::size_t overtaken = 0;
    for (std::size_t i = 1; i < got.size(); ++i) overtaken += got[i] < got[i - 1];
    EXPECT_GT(overtaken, c.reordered / 2) << "held datagrams must arrive after later ones";
}

TEST(UdpProxy, EachClientIsItsOwnPeerAndGetsItsAnswers) {
    Socket server, a, b;
    UdpProxy proxy(server.port(), {}, 1);
    a.sendTo(proxy.port(), 1);
    b.sendTo(proxy.port(), 2);
    std::vector<std::pair<std::uint32_t, std::uint16_t>> seen;
    ASSERT_TRUE(waitFor([&] {
        for (auto x : server.drain()) seen.push_back(x);
        return seen.size() == 2;
    }));
    EXPECT_NE(seen[0].second, seen[1].second) << "one upstream socket per client";
    for (auto [value, port] : seen) server.sendTo(port, value + 100);
    std::vector<std::pair<std::uint32_t, std::uint16_t>> atA, atB;
    ASSERT_TRUE(waitFor([&] {
        for (auto x : a.drain()) atA.push_back(x);
        for (auto x : b.drain()) atB.push_back(x);
        return atA.size() == 1 && atB.size() == 1;
    }));
    EXPECT_EQ(atA[0].first, 101u);
    EXPECT_EQ(atB[0].first, 102u);
    EXPECT_EQ(atA[0].second, proxy.port());
    EXPECT_EQ(proxy.counters().flows, 2u);
}

/// Every client's datagrams go to one server, the same every time, and the servers share the
/// clients; a server whose socket closed is taken out, and its clients move, keeping their
/// upstream port, to the live ones – which the others never do.
TEST(UdpBalancer, EachClientKeepsItsServerUntilTheServerDies) {
    std::vector<std::unique_ptr<Socket>> servers;
    for (int i = 0; i < 3; ++i) servers.push_back(std::make_unique<Socket>());
    UdpProxy balancer({servers[0]->port(), servers[1]->port(), servers[2]->port()}, {}, 1);
    std::vector<std::unique_ptr<Socket>> clients;
    for (int i = 0; i < 9; ++i) clients.push_back(std::make_unique<Socket>());
    // value = client * 100 + round; which server saw which client, from which upstream port.
    std::map<std::uint32_t, std::set<std::size_t>> serversOf;
    std::map<std::uint32_t, std::set<std::uint16_t>> upstreamOf;
    std::size_t seen = 0;
    const auto collect = [&](std::size_t expected) {
        return waitFor([&] {
            for (std::size_t s = 0; s < servers.size(); ++s)
                for (auto [value, port] : servers[s]->drain()) {
                    serversOf[value / 100].insert(s);
                    upstreamOf[value / 100].insert(port);
                    ++seen;
                }
            return seen == expected;
        });
    };
    for (std::uint32_t round = 0; round < 3; ++round)
        for (std::uint32_t c = 0; c < clients.size(); ++c) clients[c]->sendTo(balancer.port(), c * 100 + round);
    ASSERT_TRUE(collect(27)) << seen;
    for (auto& [client, set] : serversOf) EXPECT_EQ(set.size(), 1u) << "client " << client << " went to several servers";
    EXPECT_EQ(balancer.flowsPerServer(), (std::vector<std::uint64_t>{3, 3, 3}));
    // Server 1 dies: its clients' next datagrams find its port closed; they move.
    const auto before = serversOf;
    const auto upstreamBefore = upstreamOf;
    servers[1]->close();
    for (std::uint32_t round = 3; round < 6; ++round) {
        for (std::uint32_t c = 0; c < clients.size(); ++c) clients[c]->sendTo(balancer.port(), c * 100 + round);
        ASSERT_TRUE(waitFor([&] { return balancer.counters().received == 9 * (round + 1); }));
    }
    ASSERT_TRUE(waitFor([&] { return balancer.counters().flowsMoved == 3; })) << balancer.counters().flowsMoved;
    EXPECT_EQ(balancer.liveServers(), (std::vector<bool>{true, false, true}));
    EXPECT_EQ(balancer.counters().serversLost, 1u);
    EXPECT_EQ(balancer.flowsPerServer()[1], 0u);
    // The moved clients' later datagrams arrive at a live server; the others never moved.
    for (std::uint32_t c = 0; c < clients.size(); ++c) clients[c]->sendTo(balancer.port(), c * 100 + 6);
    serversOf.clear();
    seen = 0;
    std::map<std::uint32_t, std::pair<std::size_t, std::uint16_t>> lastHop;  // client → (server, upstream port)
    ASSERT_TRUE(waitFor([&] {
        for (std::size_t s : {std::size_t{0}, std::size_t{2}})
            for (auto [v, p] : servers[s]->drain()) {
                serversOf[v / 100].insert(s);
                if (v % 100 == 6) {
                    ++seen;
                    lastHop[v / 100] = {s, p};
                }
            }
        return seen == 9;
    }));
    std::uint32_t moved = 99;
    for (auto& [client, set] : before) {
        if (*set.begin() != 1) EXPECT_EQ(serversOf[client], set) << "client " << client << " moved from a live server";
        else {
            EXPECT_EQ(serversOf[client].count(1), 0u);
            moved = client;
        }
    }
    ASSERT_NE(moved, 99u);
    // The moved client keeps its upstream port, and its new server's answer reaches it.
    EXPECT_EQ(upstreamBefore.at(moved).count(lastHop[moved].second), 1u);
    servers[lastHop[moved].first]->sendTo(lastHop[moved].second, 777);
    std::vector<std::pair<std::uint32_t, std::uint16_t>> got;
    ASSERT_TRUE(waitFor([&] {
        for (auto x : clients[moved]->drain()) got.push_back(x);
        return !got.empty();
    }));
    EXPECT_EQ(got[0], (std::pair<std::uint32_t, std::uint16_t>{777, balancer.port()}));
}

}  // namespace
}  // namespace tte::test
