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
#include <set>

#include "support/fakes/station.h"
#include "support/fakes/station_site.h"
#include "tte/labels/label_template.h"
#include "tte/labels/layout.h"
#include "tte/labels/render.h"
#include "tte/station/parts.h"

namespace tte::gui::testing {

/// Holds writeAndVerify() while closed, halfway through writing (the seat shows half of the
/// bytes written); counts the slots waiting there. `ports`: only these are held (all if empty).
class GatedFlasher final : public station::DeviceFlasher {
public:
    explicit GatedFlasher(station::fakes::FakeFlasher& inner) : m_inner(inner) {}
    Result<station::FirmwareImage> loadFirmware(const std::string& path) override { return m_inner.loadFirmware(path); }
    Result<std::vector<std::string>> slots() override { return m_inner.slots(); }
    Status writeAndVerify(const std::string& slot, std::span<const station::FlashSegment> segments,
                          const station::FlashProgressFn& progress = {}) override {
        bool held = false;
        return m_inner.writeAndVerify(slot, segments, [&](const station::FlashProgress& p) {
            if (progress) progress(p);
            if (held || p.stage != station::FlashProgress::Stage::writing || p.done == 0) return;
            held = true;
            std::unique_lock lock(m_mutex);
            if (!ports.empty() && !ports.contains(slot)) return;
            ++m_waiting;
            m_cv.wait(lock, [&] { return m_open; });
            --m_waiting;
        });
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
    std::set<std::string> ports;  ///< set before the run

private:
    station::fakes::FakeFlasher& m_inner;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_open = true;
    int m_waiting = 0;
};

/// The fake printer whose labels are also rendered as the real station renders them
/// (tte::labels with config/labels.toml, PNG in the site's labels/ folder): the window's label
/// preview shows a real label. Scan-back is the fake's.
class PreviewPrinter final : public station::LabelPrinter {
public:
    PreviewPrinter(station::fakes::FakePrinter& inner, std::string dir) : m_inner(inner), m_dir(std::move(dir)) {
        std::filesystem::create_directories(m_dir);
    }
    Result<station::PrintedLabel> print(const station::DeviceLabel& label) override { return rendered(label, m_inner.print(label)); }
    Result<Secret> scanBack(const station::PrintedLabel& printed) override { return m_inner.scanBack(printed); }
    Result<int> submit(const station::DeviceLabel& label) override { return m_inner.submit(label); }
    Result<station::LabelJobState> jobState(int job) override { return m_inner.jobState(job); }
    station::PrinterCondition printerCondition() override { return m_inner.printerCondition(); }
    Result<station::PrintedLabel> collect(const station::DeviceLabel& label, int job) override {
        return rendered(label, m_inner.collect(label, job));
    }
    Status cancel(int job) override { return m_inner.cancel(job); }

private:
    Result<station::PrintedLabel> rendered(const station::DeviceLabel& label, Result<station::PrintedLabel> printed) {
        if (!printed) return printed;
        static const auto templates = labels::loadLabelTemplates(TTE_SOURCE_DIR "/config/labels.toml");
        if (!templates) return std::unexpected(templates.error());
        labels::DeviceLabel content{Secret(label.url.view()), label.devId, "tte-000001.net", label.lot, "2026-12-03"};
        auto layout = labels::layoutDeviceLabel(templates->device, content);
        if (!layout) return std::unexpected(layout.error());
        auto raster = labels::renderRaster(*layout);
        if (!raster) return std::unexpected(raster.error());
        auto png = labels::encodePng(*raster);
        if (!png) return std::unexpected(png.error());
        const std::string path = m_dir + "/" + printed->job + ".png";
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(png->data()),
                                                    static_cast<std::streamsize>(png->size()));
        printed->artefact = path;
        return printed;
    }

    station::fakes::FakePrinter& m_inner;
    std::string m_dir;
};

/// Everything that outlives one opening of the station config.
struct FakeSite {
    explicit FakeSite(int devices)
        : flasher(ports(devices)), gate(flasher), preview(printer, dir + "/labels"), ms(keys, {"lot-a", 0x100, 0x2ff, 0}) {
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
    PreviewPrinter preview;  ///< what the station prints on (the fake, plus a rendered PNG)
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
    Result<station::LabelPrinter*> printer() override { return &m_site.preview; }
    station::BlockEncoder& encoder() override { return m_site.encoder; }
    station::MotherShipClient& mothership() override { return m_site.ms; }
    Result<station::Pipeline*> pipeline() override {
        auto j = journal();
        if (!j) return std::unexpected(j.error());
        std::lock_guard lock(m_mutex);
        if (!m_pipeline)
            m_pipeline = std::make_unique<station::Pipeline>(
                m_config, **j, station::PipelinePorts{m_site.keys, m_site.gate, m_site.preview, m_site.encoder, m_site.clock});
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
