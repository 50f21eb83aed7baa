// Shared helpers for the flasher tests: a simulated STM32F405 on a manual clock, a device
// source over one in-process board, and images.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tte/base/clock.h"
#include "tte/flasher/flasher.h"
#include "tte/flasher/stm32_sim.h"

namespace tte::flasher::testing {

/// An STM32F4's unique ID published with its bootloader serial (libopencm3 issue #760:
/// "UID 012: 002d0030 3334510b 32313533, SerialNumber: 325E35633334").
inline McuUid sampleUid() { return McuUid{{0x002d0030, 0x3334510b, 0x32313533}}; }

/// The bootloader identity of a board carrying sampleUid() (serial 325E35633334).
inline UsbIdentity simIdentity(std::string port = "1-1.1") { return bootloaderIdentity(std::move(port), sampleUid()); }

/// A simulated board whose chip carries `uid` and whose bootloader reports the matching serial.
inline std::unique_ptr<SimulatedStm32> makeBoard(Clock& clock, const McuUid& uid = sampleUid(),
                                                 std::string port = "1-1.1", SimBehaviour behaviour = {}) {
    auto board = std::make_unique<SimulatedStm32>(clock, bootloaderIdentity(std::move(port), uid), behaviour);
    board->flash().setUid(uid);
    return board;
}

/// A DeviceSource over in-process boards, one per port: open() lends the board for a new USB
/// session once it is present again (a board that reset re-enumerates; `stayAway` keeps it
/// away; `swap` puts another board into the port at its next re-enumeration).
class BoardSource final : public DeviceSource {
public:
    void add(SimulatedStm32& board) { m_boards.push_back(&board); }
    Result<std::vector<UsbIdentity>> list() override {
        std::vector<UsbIdentity> out;
        for (auto* b : m_boards) out.push_back(b->identity());
        return out;
    }
    Result<std::unique_ptr<DfuTransport>> open(std::string_view port) override {
        for (auto*& b : m_boards) {
            if (b->identity().portPath != port) continue;
            if (!b->present()) {
                if (stayAway) return fail(Errc::notFound, "nothing at " + std::string(port));
                if (swap) b = std::exchange(swap, nullptr);
                b->replug();
                if (!b->present()) return fail(Errc::notFound, "not in DFU mode at " + std::string(port));
            }
            ++opens;
            return std::unique_ptr<DfuTransport>(std::make_unique<Lent>(*b));
        }
        return fail(Errc::notFound, "no board at " + std::string(port));
    }

    bool stayAway = false;
    SimulatedStm32* swap = nullptr;
    int opens = 0;

private:
    /// A handle on a board this source keeps.
    class Lent final : public DfuTransport {
    public:
        explicit Lent(SimulatedStm32& b) : m_b(b) {}
        const UsbIdentity& identity() const override { return m_b.identity(); }
        Result<std::vector<DfuAltSetting>> altSettings() override { return m_b.altSettings(); }
        Result<DfuFunctional> functional() override { return m_b.functional(); }
        Status claim(std::uint8_t i, std::uint8_t a) override { return m_b.claim(i, a); }
        Result<std::size_t> controlOut(const ControlSetup& s, std::span<const std::uint8_t> d,
                                       std::chrono::milliseconds t) override {
            return m_b.controlOut(s, d, t);
        }
        Result<std::size_t> controlIn(const ControlSetup& s, std::span<std::uint8_t> d,
                                      std::chrono::milliseconds t) override {
            return m_b.controlIn(s, d, t);
        }

    private:
        SimulatedStm32& m_b;
    };
    std::vector<SimulatedStm32*> m_boards;
};

/// Deterministic pseudo-random bytes (a different stream per seed).
inline std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::uint8_t> out(n);
    std::uint32_t x = seed * 2654435761U + 1;
    for (auto& b : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<std::uint8_t>(x);
    }
    return out;
}

/// Firmware (3000 bytes at 0x08000000) plus a 2048-byte provisioning block at 0x08008000.
inline std::vector<Segment> smallImage(std::uint32_t seed = 1) {
    return {Segment{0x08000000, pattern(3000, seed)}, Segment{0x08008000, pattern(2048, seed + 100)}};
}


inline WriteOptions opts(bool verify, bool leave = false) {
    WriteOptions o;
    o.verify = verify;
    o.leave = leave;
    return o;
}

inline SimFaults unplugAt(std::size_t i) { SimFaults f; f.unplugAt = i; return f; }
inline SimFaults stallAt(std::size_t i) { SimFaults f; f.stallAt = i; return f; }
inline SimFaults timeoutAt(std::size_t i) { SimFaults f; f.timeoutAt = i; return f; }
inline SimFaults corruptUploadAt(std::size_t i) { SimFaults f; f.corruptUploadAt = i; return f; }
inline SimBehaviour behaviour(FlashTiming timing, bool wpError = false) {
    SimBehaviour b;
    b.timing = timing;
    b.writeProtectReportsError = wpError;
    return b;
}

}  // namespace tte::flasher::testing
