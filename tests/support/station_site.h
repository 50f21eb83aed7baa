// Test support: a whole provisioning-station site, made as scripts/demo makes it, for the
// integration and fault tests of tte-provision: a local CA (scripts/lib/demo-ca.sh), a
// SoftHSM token (scripts/hsm-init; the user PIN in a file, never in argv), a real
// tte-mothership (SQLite, loopback port 0, the station registered and its lot set with
// `tte-mothership admin`), a private cupsd with a PDF label queue, simulated STM32F405
// devices (`tte-flash sim create`) and station.toml. tte-provision runs as a child process
// with the site's SOFTHSM2_CONF. Everything lives in one temp dir, removed afterwards.
//
//   tte::test::StationSite site({.devices = 6});
//   ASSERT_EQ(site.setUp(), "");
//   auto r = site.provision({"run", "--count", "6"});
//   auto devices = site.provisionedDevices();   // read back from the simulated flash
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/temp_dir.h"
#include "support/cupsd.h"
#include "support/mothership.h"
#include "tte/base/hex.h"
#include "tte/protocol/enrollment_url.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/freestanding/block.h"

namespace tte::test {

namespace fs = std::filesystem;

/// The QR code of an image, decoded by zbar's own tool.
inline std::string zbar(const fs::path& image, const fs::path& outDir) {
    auto r = run({"/usr/bin/zbarimg", "--nodbus", "--raw", "-q", image.string()}, outDir, "zbarimg");
    return r.code == 0 ? r.out.substr(0, r.out.find('\n')) : "zbarimg exit " + std::to_string(r.code) + ": " + r.err;
}

/// The QR code of a label PDF, rasterized at the printer's 203 dpi as TOOLS.md describes.
inline std::string zbarPdf(const fs::path& pdf, const fs::path& outDir) {
    const auto png = outDir / (pdf.stem().string() + "-pdf");
    auto r = run({"/usr/bin/pdftoppm", "-r", "203", "-mono", "-png", "-singlefile", pdf.string(), png.string()}, outDir,
                 "pdftoppm");
    if (r.code != 0) return "pdftoppm exit " + std::to_string(r.code) + ": " + r.err;
    return zbar(png.string() + ".png", outDir);
}

struct StationSiteOptions {
    int devices = 20;                  ///< simulated devices in sim/ (tte-flash sim create)
    int slots = 4;                     ///< station.slots
    std::string lot = "line-lot";
    std::string firstDevId = "00000100";  ///< the lot's range, also the MotherShip's quota
    std::string lastDevId = "000001ff";
    /// lot.lock: "none" keeps boards readable for tests that read the flash back through the
    /// bootloader; "" leaves the key out (the default, rdp1).
    std::string lock = "none";
    /// [[seat]] name/port pairs; none: the old `slots` form.
    std::vector<std::pair<std::string, std::string>> seats = {};
    /// Appended to station.toml after the lot (e.g. a pre-enrolled lot's [controller] table).
    std::string extra = {};
    int msHoldAfterS = 0;  ///< mothership.hold_after_s (0: the default)
    bool pinFile = true;   ///< hsm.pin_file names the token's user PIN; false: tte-provision asks for it
    /// hsm.module: the PKCS#11 module the station loads (e.g. p11-kit's client in front of a
    /// `p11-kit server` exporting the site's SoftHSM token).
    std::string pkcs11Module = "/usr/lib/softhsm/libsofthsm2.so";
};

/// One simulated device as read back from its flash image (the station's provisioning block).
struct SimDevice {
    std::string port;        ///< port path, e.g. "1-3"
    fs::path flash;          ///< its 1 MiB flash image (sim/<port>.flash)
    std::uint32_t devId = 0;
    std::string devIdHex;    ///< 8 lower-case hex digits
    std::string urn;
    std::string fingerprint; ///< SHA-256 of the device certificate's SPKI
    std::string msAddress;
    std::uint16_t msPort = 0;
    std::string msFingerprint;
    std::string enrollmentUrl;  ///< built from the block's OTP and Dev ID: secret test data
};

class StationSite {
public:
    explicit StationSite(StationSiteOptions options = {}) : m_o(std::move(options)) {}
    ~StationSite() {
        m_ms.reset();
        m_cups.reset();
    }
    StationSite(const StationSite&) = delete;
    StationSite& operator=(const StationSite&) = delete;

    /// Makes the whole site and starts the MotherShip and cupsd; "" or what failed.
    std::string setUp() {
        for (const char* sub : {"station", "labels", "mothership"}) fs::create_directories(m_dir.path() / sub);
        if (auto e = makeCertificates(); !e.empty()) return e;
        auto hsm = run({"/bin/bash", (sourceRoot() / "scripts/hsm-init").string(), path("softhsm").string(), "--label",
                        "tte-station"},
                       m_dir.path(), "hsm-init");
        if (hsm.code != 0) return "scripts/hsm-init: " + hsm.out + hsm.err;
        if (auto e = makeMotherShip(); !e.empty()) return e;
        if (auto e = startMotherShip(); !e.empty()) return e;
        if (auto r = msAdmin({"station", "add", "--cert", path("station/station.pem").string(), "--name", "st1"}); r.code != 0)
            return "admin station add: " + r.out + r.err;
        if (auto r = msAdmin({"lot", "set", "--lot", m_o.lot, "--first", m_o.firstDevId, "--last", m_o.lastDevId}); r.code != 0)
            return "admin lot set: " + r.out + r.err;
        m_cups = std::make_unique<PrivateCupsd>(
            std::vector<std::pair<double, double>>{{50.0, 30.0}, {100.0, 70.0}});
        if (!m_cups->error().empty()) return "cupsd: " + m_cups->error();
        if (auto e = m_cups->addQueue(kQueue); !e.empty()) return e;
        auto sim = run({(binDir() / "tte-flash").string(), "sim", "create", path("sim").string(), "--count",
                        std::to_string(m_o.devices)},
                       m_dir.path(), "sim-create");
        if (sim.code != 0) return "tte-flash sim create: " + sim.out + sim.err;
        writeStationConfig();
        return {};
    }

    /// Text appended to station.toml from now on (setUp() and every rewrite), e.g. [controller].
    void setExtraConfig(std::string text) { m_o.extra = std::move(text); }

    /// A second station certificate from the site's CA (`station/<name>.pem`, `.key`), registered
    /// at the MotherShip under `name`; "" or what failed.
    std::string addStation(const std::string& name) {
        const std::string script = "set -e; source \"$1/scripts/lib/demo-ca.sh\"; demo_ca_issue \"$2/ca\" \"$2/station/$3\" $3";
        auto r = run({"/bin/bash", "-c", script, "demo-ca", sourceRoot().string(), m_dir.path().string(), name}, m_dir.path(),
                     "demo-ca");
        if (r.code != 0) return "demo-ca.sh: " + r.out + r.err;
        auto add = msAdmin({"station", "add", "--cert", path("station/" + name + ".pem").string(), "--name", name});
        return add.code == 0 ? "" : "admin station add: " + add.out + add.err;
    }

    /// (Re)starts the MotherShip on fresh loopback ports (same database) and rewrites
    /// station.toml so the station follows its HTTPS port; "" or why not.
    std::string startMotherShip() {
        try {
            m_ms = std::make_unique<test::ServerProcess>(path("mothership/ms.toml").string(), m_dir);
        } catch (const std::exception& e) {
            return e.what();
        }
        if (m_coapsPort == 0) m_coapsPort = m_ms->coapsPort();
        if (fs::exists(path("station/station.toml"))) writeStationConfig();
        return {};
    }
    /// SIGTERM to the MotherShip; its database stays.
    void stopMotherShip() { m_ms.reset(); }
    /// Starts the MotherShip stopped by stopMotherShip() again on the ports it had (same
    /// database), as ops would restart it: the station's config is not touched. "" or why not.
    std::string restartMotherShipOnSamePorts(std::uint16_t https, std::uint16_t coaps) {
        const auto file = path("mothership/ms.toml");
        std::ifstream in(file);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const std::string any = "listen = \"127.0.0.1:0\"";
        for (std::uint16_t port : {https, coaps}) {
            const auto at = text.find(any);
            if (at == std::string::npos) return "ms.toml has no listen on port 0 left";
            text.replace(at, any.size(), "listen = \"127.0.0.1:" + std::to_string(port) + "\"");
        }
        std::ofstream(file) << text;
        try {
            m_ms = std::make_unique<test::ServerProcess>(file.string(), m_dir);
        } catch (const std::exception& e) {
            return e.what();
        }
        return {};
    }
    /// The running MotherShip's HTTPS and CoAPS ports (0 when stopped).
    [[nodiscard]] std::uint16_t msHttpsPort() const { return m_ms ? m_ms->httpsPort() : 0; }
    [[nodiscard]] std::uint16_t msCoapsPort() const { return m_ms ? m_ms->coapsPort() : 0; }

    /// `tte-provision --config station/station.toml --sim sim ARGS…` with the site's token.
    RunResult provision(std::vector<std::string> args, std::vector<std::string> env = {},
                        std::chrono::milliseconds deadline = std::chrono::seconds(120)) {
        std::vector<std::string> argv = {(binDir() / "tte-provision").string(), "--config",
                                         path("station/station.toml").string(), "--sim", path("sim").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        env.push_back("SOFTHSM2_CONF=" + path("softhsm/softhsm2.conf").string());
        return run(argv, m_dir.path(), "provision", deadline, env);
    }

    /// `tte-mothership --config … admin ARGS…` (works while the server runs: SQLite WAL).
    RunResult msAdmin(std::vector<std::string> args) {
        std::vector<std::string> argv = {(binDir() / "tte-mothership").string(), "--config",
                                         path("mothership/ms.toml").string(), "admin"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, m_dir.path(), "ms-admin");
    }

    /// Every record of the MotherShip's registry (`admin export --format jsonl`).
    std::vector<nlohmann::json> msRecords() {
        std::vector<nlohmann::json> out;
        auto r = msAdmin({"export", "--format", "jsonl"});
        EXPECT_EQ(r.code, 0) << r.err;
        std::istringstream in(r.out);
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) out.push_back(nlohmann::json::parse(line));
        return out;
    }

    /// The station's journal as `tte-provision journal export` writes it (one object per entry).
    std::vector<nlohmann::json> journalEntries() {
        std::vector<nlohmann::json> out;
        auto r = provision({"journal", "export"});
        EXPECT_EQ(r.code, 0) << r.err;
        std::istringstream in(r.out);
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) out.push_back(nlohmann::json::parse(line));
        return out;
    }

    /// The devices in sim/ whose flash holds a valid provisioning block, by Dev ID.
    std::vector<SimDevice> provisionedDevices() const {
        std::vector<SimDevice> out;
        for (const auto& e : fs::directory_iterator(path("sim"))) {
            if (e.path().extension() != ".flash") continue;
            auto d = readDevice(e.path());
            if (d) out.push_back(std::move(*d));
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.devId < b.devId; });
        return out;
    }

    /// The device's flash block decoded; nullopt for a blank or invalid block.
    static std::optional<SimDevice> readDevice(const fs::path& flash) {
        const std::string bytes = readText(flash);
        constexpr std::size_t kBlockOffset = 0x8000;  // PROTOCOL.md §9: the block at 0x08008000
        if (bytes.size() < kBlockOffset + protocol::kBlockSize) return std::nullopt;
        protocol::ProvisioningBlock b;
        auto span = std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()) + kBlockOffset, protocol::kBlockSize);
        if (protocol::decodeBlock(span, b) != protocol::BlockError::ok) return std::nullopt;
        SimDevice d;
        d.port = flash.stem().string();
        d.flash = flash;
        d.devId = b.devId;
        d.devIdHex = toHex(b.devId, 8);
        d.urn = b.devUrn;
        d.msAddress = b.msAddress;
        d.msPort = b.msPort;
        d.msFingerprint = toHex(std::span<const std::uint8_t>(b.msFingerprint, 32));
        auto fp = protocol::fingerprintFromDer(std::span<const std::uint8_t>(b.cert, b.certLength));
        d.fingerprint = fp ? fp->hex() : "";
        d.enrollmentUrl = protocol::buildEnrollmentUrl({protocol::MsId{b.msId}, protocol::Otp(b.otp), protocol::DevId{b.devId}});
        protocol::wipeBlock(b);
        return d;
    }

    [[nodiscard]] fs::path path(const std::string& rel) const { return m_dir.path() / rel; }
    [[nodiscard]] fs::path caCert() const { return path("ca/ca.pem"); }
    [[nodiscard]] fs::path labelsDir() const { return path("labels"); }
    [[nodiscard]] const std::string& msFingerprint() const { return m_msFingerprint; }
    [[nodiscard]] test::ServerProcess* mothership() const { return m_ms.get(); }
    [[nodiscard]] PrivateCupsd& cups() const { return *m_cups; }
    [[nodiscard]] const StationSiteOptions& options() const { return m_o; }
    /// For `--connect-to` of the introducer and curl: the MotherShip's host name on loopback.
    [[nodiscard]] std::string connectTo() const {
        return "tte-000001.net:443:127.0.0.1:" + std::to_string(m_ms ? m_ms->httpsPort() : 0);
    }
    /// `tte-introducer enroll` from the label image of device `devIdHex`, reaching this site's
    /// MotherShip; `extra`: the Controller and the rest of the introducer's arguments.
    test::RunResult introduce(const std::string& devIdHex, const std::vector<std::string>& extra,
                              const std::string& name = "introducer") const {
        std::vector<std::string> argv = {(test::binDir() / "tte-introducer").string(), "enroll", "--qr-image",
                                         (labelsDir() / (devIdHex + ".png")).string(), "--cacert", caCert().string(),
                                         "--connect-to", connectTo()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return test::run(argv, path("."), name);
    }
    static constexpr const char* kQueue = "tte-labels";

private:
    std::string makeCertificates() {
        // The demo's own CA functions: the MotherShip's HTTPS certificate names its host and
        // 127.0.0.1 (the station's URL), the station's is its client certificate.
        const std::string script =
            "set -e; source \"$1/scripts/lib/demo-ca.sh\"; demo_ca_init \"$2/ca\";"
            " demo_ca_issue \"$2/ca\" \"$2/mothership/https\" tte-000001.net tte-000001.net 127.0.0.1;"
            " demo_ca_issue \"$2/ca\" \"$2/station/station\" st1";
        auto r = run({"/bin/bash", "-c", script, "demo-ca", sourceRoot().string(), m_dir.path().string()}, m_dir.path(),
                     "demo-ca");
        return r.code == 0 ? "" : "demo-ca.sh: " + r.out + r.err;
    }

    std::string makeMotherShip() {
        const auto ms = (binDir() / "tte-mothership").string();
        auto dtls = run({ms, "--ms-id", "1", "admin", "keygen", "dtls", "--key", path("mothership/dtls.key").string(),
                         "--cert", path("mothership/dtls.pem").string()},
                        m_dir.path(), "ms-keygen");
        if (dtls.code != 0) return "keygen dtls: " + dtls.err;
        m_msFingerprint = dtls.out.substr(0, 64);
        auto otp = run({ms, "admin", "keygen", "otp", "--out", path("mothership/otp.key").string()}, m_dir.path(), "ms-keygen");
        if (otp.code != 0) return "keygen otp: " + otp.err;
        const auto p = [&](const char* rel) { return path(rel).string(); };
        std::ofstream(path("mothership/ms.toml"))
            << "ms_id = 1\nlog_level = \"info\"\n"
            << "[https]\nlisten = \"127.0.0.1:0\"\ncert = \"" << p("mothership/https.pem") << "\"\nkey = \""
            << p("mothership/https.key") << "\"\nthreads = 2\n"
            << "[coaps]\nlisten = \"127.0.0.1:0\"\ncert = \"" << p("mothership/dtls.pem") << "\"\nkey = \""
            << p("mothership/dtls.key") << "\"\n"
            << "[database]\nurl = \"sqlite://" << p("mothership/registry.db") << "\"\n"
            << "[otp_hash]\nkey_file = \"" << p("mothership/otp.key") << "\"\n";
        return {};
    }

    void writeStationConfig() {
        const auto p = [&](const char* rel) { return path(rel).string(); };
        std::ofstream(path("station/station.toml"))
            << "[station]\nid = \"st1\"\ndatabase = \"journal.db\"\nslots = " << m_o.slots
            << "\nlabels_dir = \"" << p("labels") << "\"\n"
            << "[hsm]\nmodule = \"" << m_o.pkcs11Module << "\"\ntoken_label = \"tte-station\"\n"
            << (m_o.pinFile ? "pin_file = \"" + p("softhsm/user-pin") + "\"\n" : std::string())
            << "lot_key = \"lot-key\"\nqueue_key = \"queue-key\"\n"
            << "[printer]\nhost = \"127.0.0.1\"\nport = " << cupsPort() << "\n"
            << "[mothership]\nurl = \"https://127.0.0.1:" << (m_ms ? m_ms->httpsPort() : 9) << "\"\nca = \""
            << p("ca/ca.pem") << "\"\ncert = \"station.pem\"\nkey = \"station.key\"\n"
            << (m_o.msHoldAfterS > 0 ? "hold_after_s = " + std::to_string(m_o.msHoldAfterS) + "\n" : std::string())
            << "[lot]\nid = \"" << m_o.lot << "\"\nproduct = \"tte.line\"\npen = 32473\nfirmware = \""
            << firmwareDfu() << "\"\nms_id = 1\nms_address = \"127.0.0.1\"\nms_port = " << m_coapsPort
            << "\nms_fingerprint = \"" << m_msFingerprint << "\"\nfirst_devid = \"" << m_o.firstDevId
            << "\"\nlast_devid = \"" << m_o.lastDevId << "\"\nbox_size = 0\nled_enrollment = true\n"
            << "label_template = \"" << (sourceRoot() / "config/labels.toml").string() << "\"\nprinter_queue = \""
            << kQueue << "\"\n" << (m_o.lock.empty() ? std::string() : "lock = \"" + m_o.lock + "\"\n") << m_o.extra;
        for (const auto& [name, port] : m_o.seats)
            std::ofstream(path("station/station.toml"), std::ios::app)
                << "[[seat]]\nname = \"" << name << "\"\nport = \"" << port << "\"\n";
    }
    [[nodiscard]] int cupsPort() const { return m_cups ? m_cups->port() : 9; }

    static std::string firmwareDfu() {
        const char* dfu = std::getenv("TTE_FIRMWARE_DFU");
        return dfu ? dfu : "";
    }

    StationSiteOptions m_o;
    test::TempDir m_dir;
    std::unique_ptr<test::ServerProcess> m_ms;
    std::unique_ptr<PrivateCupsd> m_cups;
    std::string m_msFingerprint;
    std::uint16_t m_coapsPort = 0;
};

}  // namespace tte::test
