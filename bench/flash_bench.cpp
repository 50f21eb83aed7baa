// flash_bench: how close the DfuSe host comes to the flash's own erase + program time, and
// how gang flashing scales with slots. Runs on the simulated STM32F405 with datasheet
// typical timings on virtual clocks (docs/FLASHER.md, "Benchmark model"):
//  - every slot has its own ManualClock shared by its host thread and its simulated device,
//    so a slot's virtual time = device busy time (erase, program) + full-speed USB time of
//    every control transfer + poll slack (bwPollTimeout is whole ms) ;
//  - the host CPU time of the slot's thread (protocol work, measured) is added to it;
//  - gang time = max over slots; gang throughput = devices / gang time.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "report.h"
#include "tte/flasher/gang.h"
#include "tte/flasher/stm32_sim.h"

namespace {

using namespace tte;
using namespace tte::flasher;

/// One simulated device per port path, each on its own virtual clock.
class BenchDevices final : public DeviceSource {
public:
    explicit BenchDevices(int n) {
        for (int i = 1; i <= n; ++i) m_clocks["1-1." + std::to_string(i)] = std::make_unique<ManualClock>();
    }
    Result<std::vector<UsbIdentity>> list() override {
        std::vector<UsbIdentity> out;
        for (const auto& [port, clock] : m_clocks) out.push_back(identity(port));
        return out;
    }
    Result<std::unique_ptr<DfuTransport>> open(std::string_view port) override {
        auto it = m_clocks.find(std::string(port));
        if (it == m_clocks.end()) return fail(Errc::notFound, "no bench device at " + std::string(port));
        return std::unique_ptr<DfuTransport>(std::make_unique<SimulatedStm32>(*it->second, identity(it->first)));
    }
    Clock& clock(const std::string& port) { return *m_clocks.at(port); }
    std::vector<std::string> ports() const {
        std::vector<std::string> out;
        for (const auto& [port, clock] : m_clocks) out.push_back(port);
        return out;
    }

private:
    static UsbIdentity identity(const std::string& port) {
        return UsbIdentity{kStVendorId, kStDfuProductId, 0x2200, port, "FFFFFFFEFFFF", "STM32  BOOTLOADER"};
    }
    std::map<std::string, std::unique_ptr<ManualClock>> m_clocks;
};

double seconds(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

/// Runs a gang of n slots; returns the gang time in seconds (max over slots of virtual + CPU).
double gangSeconds(int n, const std::vector<Segment>& image, bool verify) {
    BenchDevices devices(n);
    GangFlasher gang(devices, [&](const std::string& port) -> Clock& { return devices.clock(port); });
    WriteOptions options;
    options.verify = verify;
    const auto ports = devices.ports();
    double worst = 0;
    for (const auto& r : gang.write(ports, image, options)) {
        if (!r.result) {
            std::fprintf(stderr, "flash_bench: %s\n", r.result.error().toString().c_str());
            std::exit(1);
        }
        worst = std::max(worst, seconds(r.result->elapsed + r.cpuTime));
    }
    return worst;
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = bench::parseOptions(argc, argv);
    const std::size_t size = options.smoke ? 32 * 1024 : 256 * 1024;
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i * 131 + 7);
    const std::vector<Segment> image{{0x08000000, bytes}};

    // The bound: what the flash itself needs (datasheet typical), and the payload's bus time.
    Stm32Flash flash;
    std::chrono::nanoseconds erase{0};
    auto sectors = flash.layout().sectorsFor(0x08000000, size);
    if (!sectors) return 1;
    for (const auto& s : *sectors) erase += Stm32Flash::eraseTime(s.size, FlashTiming::typical);
    const auto program = Stm32Flash::programTime(size, FlashTiming::typical);
    const SimBehaviour usb;
    const auto wire = static_cast<std::int64_t>((size + 63) / 64) * usb.usbPerPacket;
    const double pure = seconds(erase + program);
    const double pureWithWire = seconds(erase + program + wire);

    const double single = gangSeconds(1, image, false);
    const double singleVerified = gangSeconds(1, image, true);
    const std::string kb = std::to_string(size / 1024) + " KiB";
    std::vector<bench::Figure> figures;
    figures.push_back({"write " + kb + " (erase+download), 1 slot", single, "s", "pure erase + program (typical)", pure,
                       single / pure, 1.05});
    figures.push_back({"write " + kb + ", protocol overhead", single, "s", "erase + program + payload USB time",
                       pureWithWire, single / pureWithWire, 1.05});
    figures.push_back({"write+verify " + kb + ", 1 slot", singleVerified, "s", "pure erase + program (typical)", pure,
                       singleVerified / pure, 1.2});
    const std::vector<int> gangs = options.smoke ? std::vector<int>{1, 2} : std::vector<int>{1, 2, 4, 8, 16};
    for (int n : gangs) {
        const double t = gangSeconds(n, image, true);
        const double throughput = n / t;
        const double bound = n / singleVerified;  // 1 slot's throughput x N
        figures.push_back({"gang " + std::to_string(n) + " slots, write+verify", throughput, "dev/s",
                           "1 slot x " + std::to_string(n), bound, throughput / bound, 0.9});
    }
    bench::print(figures, options);
    if (!options.json) {
        std::printf("\nModel: each slot's simulated STM32F405 and its host thread share one virtual clock: device\n"
                    "busy time (datasheet typical erase/program), full-speed USB time per control transfer\n"
                    "(%lld us + %lld us per 64-byte packet) and bwPollTimeout slack (whole ms); the slot's thread\n"
                    "CPU time is added. Gang time = max over slots (each slot on its own USB port or TT).\n",
                    static_cast<long long>(usb.usbPerTransfer.count() / 1000),
                    static_cast<long long>(usb.usbPerPacket.count() / 1000));
    }
    return 0;
}
