// Test support: a throwaway station for unit tests and the station bench – temp dir, firmware
// file, config, journal, pipeline and uploader over the fakes of fakes/station.h.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "support/fakes/station.h"
#include "support/temp_dir.h"
#include "tte/base/clock.h"
#include "tte/station/config.h"
#include "tte/station/journal.h"
#include "tte/station/pipeline.h"
#include "tte/station/uploader.h"

namespace tte::station::testing {

inline const char* kMsFingerprint = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The config text of a test lot; `extra` is appended (e.g. a [controller] table).
inline std::string configText(const std::string& extraLot = "", const std::string& extra = "") {
    return std::string(R"([station]
id = "st1"
database = "journal.db"
slots = 4
[hsm]
token_label = "tte-station"
pin_file = "user-pin"
[mothership]
url = "https://127.0.0.1:8443"
ca = "ca.pem"
cert = "station.pem"
key = "station.key"
[lot]
id = "lot-a"
product = "sensor"
pen = 32473
firmware = "fw.dfu"
ms_id = 1
ms_address = "127.0.0.1"
ms_fingerprint = ")") + kMsFingerprint + "\"\nfirst_devid = \"00000100\"\nlast_devid = \"000001ff\"\n" + extraLot + "\n" + extra;
}

struct Site {
    explicit Site(const std::string& extraLot = "", const std::string& extra = "", int devices = 20) {
        std::ofstream(dir + "/fw.dfu") << std::string(1024, 'F');
        auto c = parseConfig(configText(extraLot, extra), dir);
        EXPECT_TRUE(c) << c.error().toString();
        config = *c;
        std::vector<std::string> ports;
        for (int i = 0; i < devices; ++i) ports.push_back("1-" + std::to_string(i + 1));
        flasher = std::make_unique<fakes::FakeFlasher>(ports);
        ms = std::make_unique<fakes::FakeMotherShip>(keys, protocol::LotQuota{"lot-a", protocol::DevId{0x100}, protocol::DevId{0x2ff}, 0});
        reopen();
    }
    ~Site() {
        uploader.reset();
        pipeline.reset();
        journal.reset();
    }
    /// Closes and reopens the journal and pipeline (a station restart).
    void reopen() {
        uploader.reset();
        pipeline.reset();
        journal.reset();
        auto j = Journal::open(config.database, keys);
        EXPECT_TRUE(j) << j.error().toString();
        journal = std::move(*j);
        pipeline = std::make_unique<Pipeline>(config, *journal, PipelinePorts{keys, *flasher, printer, encoder, clock});
        uploader = std::make_unique<Uploader>(config, *journal, keys, *ms, &controller, clock);
    }
    /// As the real wiring does: the pipeline asks the MotherShip for more quota while a used-up
    /// quota holds the line, and the uploader holds the line when the MotherShip stays away.
    void wireLine() {
        uploader.reset();
        pipeline = std::make_unique<Pipeline>(config, *journal, PipelinePorts{keys, *flasher, printer, encoder, clock, ms.get()});
        uploader = std::make_unique<Uploader>(config, *journal, keys, *ms, &controller, clock);
        uploader->setLineHold(&pipeline->lineHold());
    }

    test::TempDir tmp{"station"};
    std::string dir = tmp.path().string();
    StationConfig config;
    ManualClock clock;
    fakes::FakeKeys keys;
    std::unique_ptr<fakes::FakeFlasher> flasher;
    fakes::FakePrinter printer;
    fakes::FakeEncoder encoder;
    std::unique_ptr<fakes::FakeMotherShip> ms;
    fakes::FakeController controller;
    std::unique_ptr<Journal> journal;
    std::unique_ptr<Pipeline> pipeline;
    std::unique_ptr<Uploader> uploader;
};

}  // namespace tte::station::testing
