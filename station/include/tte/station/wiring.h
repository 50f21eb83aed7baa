// The composition root of tte-provision and tte-station: builds the real adapters (token,
// libusb flasher or simulator directory, CUPS label printer, HTTPS clients) from the station config.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "tte/base/clock.h"
#include "tte/station/config.h"
#include "tte/station/journal.h"
#include "tte/station/parts.h"
#include "tte/station/pipeline.h"
#include "tte/station/ports.h"
#include "tte/station/uploader.h"

namespace tte::hsm {
class KeyStore;
}
namespace tte::flasher {
class DeviceSource;
}
namespace tte::labels {
class PrintQueue;
struct LabelTemplates;
}

namespace tte::station {

/// Everything a command may need; parts are made on first use so that e.g. `journal verify`
/// needs neither a flasher nor a printer.
class Wiring final : public StationParts {
public:
    Wiring(StationConfig config, std::string simDir);
    ~Wiring() override;

    const StationConfig& config() const override { return m_config; }
    Clock& clock() override { return m_clock; }
    /// True when the devices are the simulated ones of `--sim DIR`, false for USB.
    bool simulated() const { return !m_simDir.empty(); }
    Result<StationKeys*> keys() override;
    Result<Journal*> journal() override;
    Result<DeviceFlasher*> flasher() override;
    Result<LabelPrinter*> printer() override;
    BlockEncoder& encoder() override;
    MotherShipClient& mothership() override;
    ControllerClient& controller();
    Result<Pipeline*> pipeline() override;
    Result<Uploader*> uploader() override;
    bool needsPin() override;
    Status signIn(const Secret& pin) override;

private:
    /// Opens the token with `pin`, or the PIN file when null. A PIN file's PIN the token
    /// refused is not tried again by this Wiring (each wrong try counts towards locking the
    /// token): later calls return that refusal. Errors: as keys().
    Status openStore(const Secret* pin);
    /// The RFC 7512 URI of the key object `object` in the station's token.
    std::string keyUri(const std::string& object) const;

    StationConfig m_config;
    std::string m_simDir;
    SystemClock m_clock;
    std::unique_ptr<Clock> m_flashClock;  // virtual time for the simulator's flash timings
    std::unique_ptr<hsm::KeyStore> m_store;
    std::optional<Error> m_pinFileRefused;  // the token refused the PIN file's PIN
    std::unique_ptr<StationKeys> m_keys;
    std::unique_ptr<Journal> m_journal;
    std::unique_ptr<flasher::DeviceSource> m_source;
    std::unique_ptr<DeviceFlasher> m_flasher;
    std::unique_ptr<labels::LabelTemplates> m_templates;
    std::unique_ptr<labels::PrintQueue> m_queue;
    std::unique_ptr<LabelPrinter> m_printer;
    std::unique_ptr<BlockEncoder> m_encoder;
    std::unique_ptr<MotherShipClient> m_ms;
    std::unique_ptr<ControllerClient> m_controller;
    std::unique_ptr<Pipeline> m_pipeline;
    std::unique_ptr<Uploader> m_uploader;
};

/// --check-config of tte-provision and tte-station: loads station.toml and the label template
/// it names (lot.label_template), strictly, and starts nothing. Errors: io, invalidArgument with
/// every problem of both files, one `FILE:LINE: key: reason` per line.
Status checkConfigFiles(const std::string& path);

/// The fault hook of the fault tests: TTE_STATION_FAULT=<point>[:<n>] kills the process
/// with SIGKILL the n-th time (default 1) the pipeline or uploader reaches <point>.
std::function<void(std::string_view)> faultHookFromEnv();

}  // namespace tte::station
