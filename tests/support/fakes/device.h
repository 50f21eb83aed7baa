// Fakes for the seams of the device's enrollment core (tte/device/enrollment.h): a scripted
// transport, a NOR-flash NVM that can lose power after any byte, a manual clock and a
// scripted random source. For unit tests only.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "tte/device/enrollment.h"
#include "tte/protocol/freestanding/block.h"

namespace tte::device::test {

/// One request the transport saw.
struct SeenRequest {
    bool post = false;
    std::string host;
    std::uint16_t port = 0;
    Fingerprint pinned{};
    std::string path;
    std::string query;
    std::uint16_t accept = 0;
    std::uint16_t contentFormat = 0;
    std::vector<std::uint8_t> payload;
    std::size_t certificateSize = 0;
    std::uint64_t atMs = 0;
};

/// One scripted answer.
struct Reply {
    TransportStatus status = TransportStatus::answered;
    std::uint8_t code = kCoapContent;
    std::vector<std::uint8_t> payload;
    std::uint16_t contentFormat = kContentFormatCbor;
};

class ManualClock final : public Clock {
public:
    std::uint64_t nowMs() override { return m_now; }
    void sleepUntilMs(std::uint64_t deadlineMs) override {
        sleeps.push_back(deadlineMs > m_now ? deadlineMs - m_now : 0);
        m_now = deadlineMs > m_now ? deadlineMs : m_now;
    }
    std::vector<std::uint64_t> sleeps;

private:
    std::uint64_t m_now = 1000;
};

/// Returns the scripted values in turn, then `fallback`.
class ScriptedRandom final : public Random {
public:
    std::uint32_t next() override {
        if (values.empty()) {
            return fallback;
        }
        const std::uint32_t v = values.front();
        values.pop_front();
        return v;
    }
    std::deque<std::uint32_t> values;
    std::uint32_t fallback = 0xFFFFFFFF;
};

/// Answers GETs from `getReplies` and POSTs from `postReplies` in turn; when a list runs dry
/// it answers "no answer".
class ScriptedTransport final : public Transport {
public:
    explicit ScriptedTransport(Clock& clock) : m_clock(clock) {}

    TransportResult get(const Credentials& self, const Endpoint& server, const Fingerprint& pinned, const char* path,
                        const char* query, std::uint16_t accept, Buffer& response) override {
        SeenRequest r{false, server.host, server.port, pinned, path, query, accept, 0, {}, self.certificate.size(),
                      m_clock.nowMs()};
        requests.push_back(r);
        return answer(getReplies, response);
    }

    TransportResult post(const Credentials& self, const Endpoint& server, const Fingerprint& pinned, const char* path,
                         std::uint16_t contentFormat, std::span<const std::uint8_t> payload,
                         Buffer& response) override {
        SeenRequest r{true, server.host, server.port, pinned, path, "", 0, contentFormat,
                      {payload.begin(), payload.end()}, self.certificate.size(), m_clock.nowMs()};
        requests.push_back(r);
        return answer(postReplies, response);
    }

    std::deque<Reply> getReplies;
    std::deque<Reply> postReplies;
    std::vector<SeenRequest> requests;

private:
    static TransportResult answer(std::deque<Reply>& replies, Buffer& response) {
        if (replies.empty()) {
            return {TransportStatus::noAnswer, 0, kNoContentFormat};
        }
        Reply reply = replies.front();
        replies.pop_front();
        if (reply.payload.size() > response.storage.size()) {
            return {TransportStatus::tooLarge, 0, kNoContentFormat};
        }
        if (!reply.payload.empty()) {
            std::memcpy(response.storage.data(), reply.payload.data(), reply.payload.size());
        }
        response.size = reply.payload.size();
        return {reply.status, reply.code, reply.contentFormat};
    }

    Clock& m_clock;
};

/// NOR flash: erased to 0xFF, programming only clears bits, byte by byte in ascending order.
/// With `powerCutAfter` set, the power fails once that many more bytes were programmed: the
/// rest of the write is lost and program() reports failed. The next program() has power again.
class FakeNvm final : public Nvm {
public:
    FakeNvm() { bytes.fill(0xFF); }

    std::span<const std::uint8_t> contents() const override { return bytes; }

    NvmStatus program(std::size_t offset, std::span<const std::uint8_t> data) override {
        if (offset > bytes.size() || data.size() > bytes.size() - offset) {
            return NvmStatus::outOfRange;
        }
        for (std::size_t i = 0; i < data.size(); ++i) {
            if (powerCutAfter && *powerCutAfter == 0) {
                powerCutAfter.reset();
                return NvmStatus::failed;
            }
            if (powerCutAfter) {
                --*powerCutAfter;
            }
            bytes[offset + i] &= data[i];
            ++programmed;
        }
        if (powerCutAfter && *powerCutAfter == 0) {
            powerCutAfter.reset();  // the power fails just after the last byte: the write is whole
        }
        return NvmStatus::ok;
    }

    std::array<std::uint8_t, protocol::kNvmSize> bytes{};
    std::optional<std::size_t> powerCutAfter;
    std::size_t programmed = 0;
};

/// A valid provisioning block for Dev ID abcdef01 of MS 1.
inline protocol::ProvisioningBlock sampleBlock() {
    protocol::ProvisioningBlock b;
    b.msId = 1;
    b.devId = 0xabcdef01;
    b.msPort = 5684;
    b.flags = protocol::kBlockFlagLed;
    std::strcpy(b.msAddress, "127.0.0.1");
    for (std::size_t i = 0; i < 32; ++i) {
        b.msFingerprint[i] = static_cast<std::uint8_t>(0xA0 + i);
    }
    std::strcpy(b.devUrn, "urn:dev:ops:32473-Sensor.v1-00000000abcdef01");
    b.otp = 0x123456789abcdef0ULL;
    b.privateKey[31] = 7;
    b.certLength = 5;
    const std::uint8_t cert[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    std::memcpy(b.cert, cert, sizeof cert);
    return b;
}

inline std::array<std::uint8_t, protocol::kBlockSize> encode(const protocol::ProvisioningBlock& b) {
    std::array<std::uint8_t, protocol::kBlockSize> out{};
    if (protocol::encodeBlock(b, out) != protocol::BlockError::ok) {
        out.fill(0);
    }
    return out;
}

}  // namespace tte::device::test
