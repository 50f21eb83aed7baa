// The composition root of tte-provision and tte-station (see wiring.h).
#include "tte/station/wiring.h"

#include <csignal>
#include <cstdlib>
#include <mutex>

#include "tte/flasher/sim_directory.h"
#include "tte/flasher/usb_transport.h"
#include "tte/hsm/pkcs11_key_store.h"
#include "tte/labels/cups_print_queue.h"
#include "tte/labels/label_template.h"
#include "tte/station/adapters/flasher_devices.h"
#include "tte/station/adapters/hsm_keys.h"
#include "tte/station/adapters/https_clients.h"
#include "tte/station/adapters/labels_printer.h"
#include "tte/station/adapters/protocol_block.h"
#include "tte/station/adapters/token_tls_key.h"
#include "tte/protocol/ids.h"

namespace tte::station {

Wiring::Wiring(StationConfig config, std::string simDir) : m_config(std::move(config)), m_simDir(std::move(simDir)) {}
Wiring::~Wiring() {
    m_uploader.reset();
    m_pipeline.reset();
    m_journal.reset();
}

std::string Wiring::keyUri(const std::string& object) const {
    return "pkcs11:token=" + m_config.tokenLabel + ";object=" + object;
}

Status Wiring::openStore(const Secret* pin) {
    if (pin == nullptr && m_pinFileRefused) return std::unexpected(*m_pinFileRefused);
    hsm::Pkcs11Options o;
    o.modulePath = m_config.pkcs11Module;
    o.tokenUri = "pkcs11:token=" + m_config.tokenLabel;
    if (!m_config.pinFile.empty()) o.pinSource = "file:" + m_config.pinFile;
    o.pin = pin;
    auto store = hsm::Pkcs11KeyStore::open(o);
    if (!store) {
        const Error& e = store.error();
        if (e.domain == "PKCS#11" && (e.code == Errc::unauthenticated || e.code == Errc::permissionDenied ||
                                      e.code == Errc::invalidArgument)) {
            // What the token tells after a refused login: tries left, locked.
            auto state = hsm::tokenLoginState(m_config.pkcs11Module, m_config.tokenLabel);
            Error refusal{e.code, "HSM token " + m_config.tokenLabel + ": " +
                                      hsm::loginRefusal(e, state ? std::optional(*state) : std::nullopt),
                          e.domain, e.nativeCode, e.nativeName};
            if (pin == nullptr) {
                // The status probes ask for the keys every second: never burn the token's tries.
                refusal.message += "; the PIN of " + m_config.pinFile + " is not tried again until the station is reopened";
                m_pinFileRefused = refusal;
            }
            return std::unexpected(std::move(refusal));
        }
        return withContext(e, "HSM token " + m_config.tokenLabel);
    }
    m_store = std::move(*store);
    return {};
}

bool Wiring::needsPin() {
    if (m_store || !m_config.pinFile.empty()) return false;
    auto state = hsm::tokenLoginState(m_config.pkcs11Module, m_config.tokenLabel);
    return !state || state->loginRequired;  // a token that cannot be asked: keys() says why after the PIN
}

Status Wiring::signIn(const Secret& pin) {
    if (m_store) return {};
    // Only the token's answer to the PIN: the rest of the station (its keys, the station key
    // file, the journal) is checked after the sign-in and reported as "Station not ready".
    return openStore(&pin);
}

Result<StationKeys*> Wiring::keys() {
    if (m_keys) return m_keys.get();
    if (!m_store) {
        if (m_config.pinFile.empty() && needsPin())
            return fail(Errc::unauthenticated, "HSM token " + m_config.tokenLabel +
                                                   " needs its PIN and hsm.pin_file is not set: sign in with the PIN");
        if (auto s = openStore(nullptr); !s) return std::unexpected(s.error());
    }
    // The station's own HMAC keys are made on first use (non-extractable, in the token).
    for (const auto& label : {m_config.queueKey, m_config.lotKey}) {
        auto made = m_store->createHmacKey(keyUri(label));
        if (!made && made.error().code != Errc::alreadyExists) return withContext(made.error(), "HSM key " + label);
    }
    HsmKeyNames names{keyUri(m_config.lotKey), keyUri(m_config.queueKey),
                      m_config.identityKey.empty() ? "" : keyUri(m_config.identityKey), m_config.stationKey};
    auto keys = makeHsmStationKeys(*m_store, names, m_clock);
    if (!keys) return std::unexpected(keys.error());
    m_keys = std::move(*keys);
    return m_keys.get();
}

Result<Journal*> Wiring::journal() {
    if (m_journal) return m_journal.get();
    auto k = keys();
    if (!k) return std::unexpected(k.error());
    auto j = Journal::open(m_config.database, **k);
    if (!j) return std::unexpected(j.error());
    m_journal = std::move(*j);
    m_journal->setClock(m_clock);
    return m_journal.get();
}

Result<DeviceFlasher*> Wiring::flasher() {
    if (m_flasher) return m_flasher.get();
    if (m_simDir.empty()) {
        // Boards in the fixture's USB ports, in their ROM bootloader; flash timings are real.
        m_flashClock = std::make_unique<SystemClock>();
        auto usb = flasher::UsbDeviceSource::create();
        if (!usb) return withContext(usb.error(), "USB");
        m_source = std::move(*usb);
    } else {
        // Simulated erase/program times pass on a virtual clock: the run is as fast as the host.
        m_flashClock = std::make_unique<ManualClock>();
        m_source = std::make_unique<flasher::SimDirectory>(m_simDir, *m_flashClock);
    }
    m_flasher = std::make_unique<FlasherDevices>(*m_source, *m_flashClock);
    return m_flasher.get();
}

Result<LabelPrinter*> Wiring::printer() {
    if (m_printer) return m_printer.get();
    if (m_config.lot.labelTemplate.empty()) return fail(Errc::invalidArgument, "config: lot.label_template is not set");
    if (m_config.lot.printerQueue.empty()) return fail(Errc::invalidArgument, "config: lot.printer_queue is not set");
    auto t = loadTemplates(m_config.lot.labelTemplate);
    if (!t) return std::unexpected(t.error());
    m_templates = std::move(*t);
    labels::CupsEndpoint ep;
    ep.host = m_config.printerHost;
    ep.port = m_config.printerPort;
    ep.queue = m_config.lot.printerQueue;
    auto q = labels::CupsPrintQueue::connect(ep);
    if (!q) return withContext(q.error(), "printer " + ep.queue);
    m_queue = std::move(*q);
    auto printer = std::make_unique<LabelsPrinter>(*m_templates, *m_queue, m_clock,
                                                   protocol::msHostName(protocol::MsId{m_config.lot.msId}), m_config.labelsDir);
    printer->setServerName("CUPS at " + ep.host + ":" + std::to_string(ep.port));
    m_printer = std::move(printer);
    return m_printer.get();
}

BlockEncoder& Wiring::encoder() {
    if (!m_encoder) m_encoder = std::make_unique<ProtocolBlockEncoder>();
    return *m_encoder;
}

MotherShipClient& Wiring::mothership() {
    if (m_ms) return *m_ms;
    TlsClientConfig tls;
    tls.baseUrl = m_config.msUrl;
    tls.caFile = m_config.msCa;
    tls.certFile = m_config.stationCert;
    tls.keyFile = m_config.stationKey;
    if (!m_config.identityKey.empty()) {  // the identity key stays in the token
        auto k = keys();
        auto key = k ? TokenTlsKey::open(*m_store, keyUri(m_config.identityKey))
                     : std::unexpected(k.error());
        if (key) tls.tokenKey = std::move(*key);
        else tls.keyError = key.error();
    }
    m_ms = makeHttpsMotherShip(std::move(tls));
    return *m_ms;
}

ControllerClient& Wiring::controller() {
    if (!m_controller) m_controller = makeHttpsController(m_config.lot.controllerCa);
    return *m_controller;
}

Result<Pipeline*> Wiring::pipeline() {
    if (m_pipeline) return m_pipeline.get();
    auto k = keys();
    auto j = journal();
    auto f = flasher();
    auto p = printer();
    for (const Error* e : {k ? nullptr : &k.error(), j ? nullptr : &j.error(), f ? nullptr : &f.error(),
                           p ? nullptr : &p.error()})
        if (e) return std::unexpected(*e);
    m_pipeline = std::make_unique<Pipeline>(m_config, **j, PipelinePorts{**k, **f, **p, encoder(), m_clock, &mothership()});
    if (m_uploader) m_uploader->setLineHold(&m_pipeline->lineHold());
    return m_pipeline.get();
}

Result<Uploader*> Wiring::uploader() {
    if (m_uploader) return m_uploader.get();
    auto k = keys();
    if (!k) return std::unexpected(k.error());
    auto j = journal();
    if (!j) return std::unexpected(j.error());
    m_uploader = std::make_unique<Uploader>(m_config, **j, **k, mothership(),
                                            m_config.lot.controller ? &controller() : nullptr, m_clock);
    if (m_pipeline) m_uploader->setLineHold(&m_pipeline->lineHold());  // the MotherShip out of reach holds the line
    return m_uploader.get();
}

std::function<void(std::string_view)> faultHookFromEnv() {
    const char* env = std::getenv("TTE_STATION_FAULT");
    if (!env || !*env) return {};
    std::string spec(env);
    int n = 1;
    if (auto colon = spec.find(':'); colon != std::string::npos) {
        n = std::atoi(spec.c_str() + colon + 1);
        spec.resize(colon);
    }
    auto count = std::make_shared<std::pair<std::mutex, int>>();
    return [spec, n, count](std::string_view point) {
        if (point != spec) return;
        std::lock_guard lock(count->first);
        if (++count->second == n) std::raise(SIGKILL);
    };
}

Status checkConfigFiles(const std::string& path) {
    auto config = loadConfig(path);
    if (!config) return std::unexpected(config.error());
    if (config->lot.labelTemplate.empty()) return {};
    if (auto t = loadTemplates(config->lot.labelTemplate); !t) return std::unexpected(t.error());
    return {};
}

}  // namespace tte::station
