// The station's surroundings for the window tests: the in-memory fakes of tests/station
// (token, flasher, printer, MotherShip) in a temp dir with a station.toml, a flasher gate that
// holds every slot at the flash step until the test opens it (a deterministic mid-run), and
// StationParts over them with the real journal, pipeline and uploader.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>

#include "support/fakes/station.h"
#include "support/fakes/station_site.h"
#include "tte/station/parts.h"

namespace tte::gui::testing {

/// Holds writeAndVerify() while closed; counts the slots waiting there.
class GatedFlasher final : public station::DeviceFlasher {
public:
    explicit GatedFlasher(station::fakes::FakeFlasher& inner) : m_inner(inner) {}
    Result<station::FirmwareImage> loadFirmware(const std::string& path) override { return m_inner.loadFirmware(path); }
    Result<std::vector<std::string>> slots() override { return m_inner.slots(); }
    Status writeAndVerify(const std::string& slot, std::span<const station::FlashSegment> segments,
                          const station::FlashProgressFn& progress = {}) override {
        {
            std::unique_lock lock(m_mutex);
            ++m_waiting;
            m_cv.wait(lock, [&] { return m_open; });
            --m_waiting;
        }
        return m_inner.writeAndVerify(slot, segments, progress);
    }
    Result<std::vector<std::uint8_t>> read(const std::string& slot, std::uint32_t address, std::size_t length) override {
        return m_inner.read(slot, address, length);
    }
    Result<station::BoardIdentity> identify(const std::string& slot) override { return m_inner.identify(slot); }
    Status protect(const std::string& slot, station::ReadProtection level) override {
        return m_inner.protect(slot, level);
    }
    Result<station::BoardIdentity> unprotect(const std::string& slot) override { return m_inner.unprotect(slot); }
    void close() {
        std::lock_guard lock(m_mutex);
        m_open = false;
    }
    void open() {
        std::lock_guard lock(m_mutex);
        m_open = true;
        m_cv.notify_all();
    }
    int waiting() {
        std::lock_guard lock(m_mutex);
        return m_waiting;
    }

private:
    station::fakes::FakeFlasher& m_inner;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_open = true;
    int m_waiting = 0;
};

/// Everything that outlives one opening of the station config.
struct FakeSite {
    explicit FakeSite(int devices) : flasher(ports(devices)), gate(flasher), ms(keys, {"lot-a", 0x100, 0x2ff, 0}) {
        std::ofstream(dir + "/fw.dfu") << std::string(1024, 'F');
    }
    ~FakeSite() {
        gate.open();
    }
    static std::vector<std::string> ports(int n) {
        std::vector<std::string> p;
        for (int i = 1; i <= n; ++i) p.push_back("1-" + std::to_string(i));
        return p;
    }
    /// Writes station.toml (the unit tests' lot, 4 slots) and returns its path.
    std::string writeConfig(const std::string& text = station::testing::configText()) const {
        const std::string path = dir + "/station.toml";
        std::ofstream(path) << text;
        return path;
    }

    test::TempDir tmp{"gui"};
    std::string dir = tmp.path().string();
    ManualClock clock;
    station::fakes::FakeKeys keys;
    station::fakes::FakeFlasher flasher;
    GatedFlasher gate;
    station::fakes::FakePrinter printer;
    station::fakes::FakeEncoder encoder;
    station::fakes::FakeMotherShip ms;
};

/// The station's parts over a FakeSite: real journal (SQLite in the site's dir), pipeline, uploader.
class FakeParts final : public station::StationParts {
public:
    FakeParts(station::StationConfig config, FakeSite& site) : m_config(std::move(config)), m_site(site) {}
    ~FakeParts() override {
        m_uploader.reset();
        m_pipeline.reset();
        m_journal.reset();
    }
    const station::StationConfig& config() const override { return m_config; }
    Clock& clock() override { return m_site.clock; }
    Result<station::StationKeys*> keys() override { return &m_site.keys; }
    Result<station::Journal*> journal() override {
        std::lock_guard lock(m_mutex);
        if (!m_journal) {
            auto j = station::Journal::open(m_config.database, m_site.keys);
            if (!j) return std::unexpected(j.error());
            m_journal = std::move(*j);
        }
        return m_journal.get();
    }
    Result<station::DeviceFlasher*> flasher() override { return &m_site.gate; }
    Result<station::LabelPrinter*> printer() override { return &m_site.printer; }
    station::BlockEncoder& encoder() override { return m_site.encoder; }
    station::MotherShipClient& mothership() override { return m_site.ms; }
    Result<station::Pipeline*> pipeline() override {
        auto j = journal();
        if (!j) return std::unexpected(j.error());
        std::lock_guard lock(m_mutex);
        if (!m_pipeline)
            m_pipeline = std::make_unique<station::Pipeline>(
                m_config, **j, station::PipelinePorts{m_site.keys, m_site.gate, m_site.printer, m_site.encoder, m_site.clock});
        return m_pipeline.get();
    }
    Result<station::Uploader*> uploader() override {
        auto j = journal();
        if (!j) return std::unexpected(j.error());
        std::lock_guard lock(m_mutex);
        if (!m_uploader)
            m_uploader = std::make_unique<station::Uploader>(m_config, **j, m_site.keys, m_site.ms, nullptr, m_site.clock);
        return m_uploader.get();
    }

private:
    station::StationConfig m_config;
    FakeSite& m_site;
    std::mutex m_mutex;
    std::unique_ptr<station::Journal> m_journal;
    std::unique_ptr<station::Pipeline> m_pipeline;
    std::unique_ptr<station::Uploader> m_uploader;
};

}  // namespace tte::gui::testing
