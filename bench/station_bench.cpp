// station_bench: what the station itself costs per device – journal (SQLite, fsync), keys,
// signatures, record, queue, upload, and the host side of the DfuSe protocol against the
// STM32F405 simulator – as a ratio to the simulated time of flashing a 256 KiB image (the
// erase/program/USB time a real line waits for). The simulated time passes on a ManualClock,
// so the wall time of a run is the station's own work. Then devices/hour for 1, 4, 8 slots:
// slots × 3600 / (flash time + overhead per device), against the bound slots × 3600 / flash time.
// Keys, printer and MotherShip are the in-memory fakes of tests/support/fakes (their real
// counterparts have their own benches).
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <random>

#include "report.h"
#include "support/fakes/station.h"
#include "support/fakes/station_site.h"
#include "tte/flasher/dfu_file.h"
#include "tte/flasher/sim_directory.h"
#include "tte/flasher/stm32_sim.h"
#include "tte/flasher/transport.h"
#include "tte/station/adapters/flasher_devices.h"

namespace {

using namespace tte;
using namespace tte::station;

/// A transport that borrows a simulated device kept by the source.
class Borrowed final : public flasher::DfuTransport {
public:
    explicit Borrowed(flasher::SimulatedStm32& d) : m_d(d) {}
    const flasher::UsbIdentity& identity() const override { return m_d.identity(); }
    Result<std::vector<flasher::DfuAltSetting>> altSettings() override { return m_d.altSettings(); }
    Result<flasher::DfuFunctional> functional() override { return m_d.functional(); }
    Status claim(std::uint8_t i, std::uint8_t a) override { return m_d.claim(i, a); }
    Result<std::size_t> controlOut(const flasher::ControlSetup& s, std::span<const std::uint8_t> d,
                                   std::chrono::milliseconds t) override {
        return m_d.controlOut(s, d, t);
    }
    Result<std::size_t> controlIn(const flasher::ControlSetup& s, std::span<std::uint8_t> d,
                                  std::chrono::milliseconds t) override {
        return m_d.controlIn(s, d, t);
    }

private:
    flasher::SimulatedStm32& m_d;
};

class MemorySource final : public flasher::DeviceSource {
public:
    MemorySource(Clock& clock, int count) {
        for (int i = 1; i <= count; ++i) {
            // Each board its own unique ID and the bootloader serial derived from it, as on a line.
            const flasher::McuUid uid = flasher::randomMcuUid();
            auto board = std::make_unique<flasher::SimulatedStm32>(clock, flasher::bootloaderIdentity("1-" + std::to_string(i), uid));
            board->flash().setUid(uid);
            m_devices.emplace(board->identity().portPath, std::move(board));
        }
    }
    Result<std::vector<flasher::UsbIdentity>> list() override {
        std::vector<flasher::UsbIdentity> out;
        for (auto& [p, d] : m_devices) out.push_back(d->identity());
        return out;
    }
    Result<std::unique_ptr<flasher::DfuTransport>> open(std::string_view port) override {
        auto it = m_devices.find(std::string(port));
        if (it == m_devices.end()) return fail(Errc::notFound, "no device");
        it->second->replug();
        return std::unique_ptr<flasher::DfuTransport>(new Borrowed(*it->second));
    }

private:
    std::map<std::string, std::unique_ptr<flasher::SimulatedStm32>> m_devices;
};

struct RunResult {
    double wallPerDevice = 0;   ///< s of station work per device (wall, simulated waits excluded)
    double flashPerDevice = 0;  ///< s of simulated flash time per device
};

RunResult runLot(int devices, int slots, const std::string& firmware) {
    tte::station::testing::Site site("", "", 0);
    site.config.lot.firmware = firmware;
    ManualClock flashClock;
    MemorySource source(flashClock, devices);
    FlasherDevices flasher(source, flashClock);
    Pipeline pipeline(site.config, *site.journal, PipelinePorts{site.keys, flasher, site.printer, site.encoder, site.clock});
    if (auto s = pipeline.openLot(*site.ms->lotQuota("lot-a")); !s) {
        std::fprintf(stderr, "station_bench: %s\n", s.error().toString().c_str());
        std::exit(1);
    }
    const auto start = std::chrono::steady_clock::now();
    auto r = pipeline.run(devices, slots, {});
    (void)site.uploader->drain(std::chrono::seconds(10));
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r || r->committed != devices) {
        std::fprintf(stderr, "station_bench: run failed: %s\n",
                     r ? (r->failures.empty() ? "?" : r->failures[0].c_str()) : r.error().toString().c_str());
        std::exit(1);
    }
    const double flash = std::chrono::duration<double>(flashClock.now().time_since_epoch()).count();
    return {wall / devices, flash / devices};
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = bench::parseOptions(argc, argv);
    tte::test::TempDir tmp("station-bench");
    const std::string dir = tmp.path().string();
    std::vector<std::uint8_t> image(256 * 1024);
    std::mt19937 rng(1);
    for (auto& b : image) b = static_cast<std::uint8_t>(rng());
    // 256 KiB does not fit below the block (0x08008000): place it in sectors 5-6 for the bench.
    auto dfu = flasher::serializeDfuFile(flasher::dfuFileForImage(0x08020000, image));
    const std::string firmware = dir + "/fw256k.dfu";
    (void)flasher::writeFileBytes(firmware, *dfu);

    const int devices = options.smoke ? 2 : 16;
    std::vector<bench::Figure> figures;
    const RunResult one = runLot(devices, 1, firmware);
    figures.push_back({"station overhead per device", one.wallPerDevice * 1000, "ms", "simulated flash time of a 256 KiB image",
                       one.flashPerDevice * 1000, one.wallPerDevice / one.flashPerDevice, 0.05});
    for (int slots : {1, 4, 8}) {
        const RunResult r = slots == 1 ? one : runLot(options.smoke ? slots : devices, slots, firmware);
        // A slot's cycle: its flash time plus the station work; overlapping slots share the host.
        const double perDevice = r.flashPerDevice / slots + r.wallPerDevice;
        const double perHour = 3600.0 / perDevice;
        const double bound = 3600.0 * slots / r.flashPerDevice;
        figures.push_back({"devices/hour, " + std::to_string(slots) + " slot" + (slots > 1 ? "s" : ""), perHour,
                           "devices/h", "slots x 3600 / flash time", bound, perHour / bound, 0.95});
    }
    bench::print(figures, options);
    return 0;
}
