// Test support of the kill test: one site shared by many stations, so each fault point gets
// a station of its own without paying for a site of its own. The site (made once): a local
// CA (scripts/lib/demo-ca.sh), one SoftHSM token (scripts/hsm-init), one real tte-mothership
// (SQLite, loopback port 0), one private cupsd with a PDF label queue, a small firmware
// packed by `tte-flash pack`. Each station (made per test): its own certificate registered
// at the MotherShip under its own name, its own lot and Dev ID range (the MotherShip's quota
// set with `tte-mothership admin lot set`), its own simulated devices (`tte-flash sim
// create`), journal, labels directory and station.toml. tte-provision runs as a child process.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "integration/support/process.h"
#include "labels/private_cupsd.h"
#include "mothership/test_support.h"
#include "tte/base/hex.h"

namespace tte::test {

namespace fs = std::filesystem;
using nlohmann::json;

inline fs::path sourceDir() {
    const char* dir = std::getenv("TTE_SOURCE_DIR");
    return dir ? dir : ".";
}

/// Splits JSON lines (blank lines skipped); a line that is not JSON fails the test.
inline std::vector<json> jsonLines(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        auto j = json::parse(line, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << line;
        out.push_back(std::move(j));
    }
    return out;
}

struct StationSpec {
    std::string name;         ///< station id, lot "lot-<name>", directory <name>/
    std::uint32_t first = 0;  ///< the lot's Dev ID range = the MotherShip's quota for it
    std::uint32_t last = 0;
    int devices = 3;
    std::string extraLot;  ///< appended to station.toml (e.g. a [controller] table)
};

class SharedSite;

/// One station of the shared site.
class Station {
public:
    Station(SharedSite& site, StationSpec spec) : m_site(site), m_spec(std::move(spec)) {}
    /// `tte-provision --config … --sim … ARGS` with the site's token; `env` adds variables.
    RunResult provision(std::vector<std::string> args, std::vector<std::string> env = {});
    /// The journal as `tte-provision journal export` writes it (header line dropped).
    std::vector<json> journal();
    [[nodiscard]] fs::path dir() const;
    [[nodiscard]] const StationSpec& spec() const { return m_spec; }
    [[nodiscard]] std::string lot() const { return "lot-" + m_spec.name; }

private:
    SharedSite& m_site;
    StationSpec m_spec;
};

class SharedSite {
public:
    /// Makes the site and starts the MotherShip and cupsd; "" or what failed.
    std::string setUp() {
        fs::create_directories(path("mothership"));
        const std::string ca = "set -e; source \"$1/scripts/lib/demo-ca.sh\"; demo_ca_init \"$2/ca\";"
                               " demo_ca_issue \"$2/ca\" \"$2/mothership/https\" tte-000001.net tte-000001.net 127.0.0.1";
        if (auto r = run({"/bin/bash", "-c", ca, "demo-ca", sourceDir().string(), dir().string()}, dir(), "demo-ca"); r.code != 0)
            return "demo-ca.sh: " + r.out + r.err;
        if (auto r = run({"/bin/bash", (sourceDir() / "scripts/hsm-init").string(), path("softhsm").string(), "--label",
                          "tte-station"},
                         dir(), "hsm-init");
            r.code != 0)
            return "scripts/hsm-init: " + r.out + r.err;
        if (auto e = makeMotherShip(); !e.empty()) return e;
        try {
            m_ms = std::make_unique<mstest::ServerProcess>(path("mothership/ms.toml").string(), m_dir);
        } catch (const std::exception& e) {
            return e.what();
        }
        m_cups = std::make_unique<labels::testing::PrivateCupsd>(std::vector<std::pair<double, double>>{{50.0, 30.0}, {100.0, 70.0}});
        if (!m_cups->error().empty()) return "cupsd: " + m_cups->error();
        if (auto e = m_cups->addQueue(kQueue); !e.empty()) return e;
        return makeFirmware();
    }

    /// A new station: certificate, registration, lot quota, devices, station.toml.
    std::string addStation(const StationSpec& s) {
        const fs::path d = path(s.name);
        fs::create_directories(d / "labels");
        const std::string issue = "set -e; source \"$1/scripts/lib/demo-ca.sh\"; demo_ca_issue \"$2/ca\" \"$3/station\" \"$4\"";
        if (auto r = run({"/bin/bash", "-c", issue, "demo-ca", sourceDir().string(), dir().string(), d.string(), s.name}, d,
                         "demo-ca");
            r.code != 0)
            return "demo-ca.sh: " + r.out + r.err;
        if (auto r = msAdmin({"station", "add", "--cert", (d / "station.pem").string(), "--name", s.name}); r.code != 0)
            return "admin station add: " + r.err;
        if (auto r = msAdmin({"lot", "set", "--lot", "lot-" + s.name, "--first", toHex(s.first, 8), "--last", toHex(s.last, 8)});
            r.code != 0)
            return "admin lot set: " + r.err;
        if (auto r = run({(binDir() / "tte-flash").string(), "sim", "create", (d / "sim").string(), "--count",
                          std::to_string(s.devices)},
                         d, "sim-create");
            r.code != 0)
            return "tte-flash sim create: " + r.out + r.err;
        std::ofstream(d / "station.toml")
            << "[station]\nid = \"" << s.name << "\"\ndatabase = \"journal.db\"\nslots = 1\nlabels_dir = \"labels\"\n"
            << "[hsm]\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\ntoken_label = \"tte-station\"\npin_file = \""
            << path("softhsm/user-pin").string() << "\"\n"
            << "[printer]\nhost = \"127.0.0.1\"\nport = " << m_cups->port() << "\n"
            << "[mothership]\nurl = \"https://127.0.0.1:" << m_ms->httpsPort() << "\"\nca = \"" << path("ca/ca.pem").string()
            << "\"\ncert = \"station.pem\"\nkey = \"station.key\"\n"
            << "[lot]\nid = \"lot-" << s.name << "\"\nproduct = \"tte.fault\"\npen = 32473\nfirmware = \""
            << path("fw.dfu").string() << "\"\nms_id = 1\nms_address = \"127.0.0.1\"\nms_port = " << m_ms->coapsPort()
            << "\nms_fingerprint = \"" << m_msFingerprint << "\"\nfirst_devid = \"" << toHex(s.first, 8)
            << "\"\nlast_devid = \"" << toHex(s.last, 8) << "\"\nled_enrollment = true\nlabel_template = \""
            << (sourceDir() / "config/labels.toml").string() << "\"\nprinter_queue = \"" << kQueue << "\"\n"
            << s.extraLot;
        return {};
    }

    /// `tte-mothership --config … admin ARGS` (beside the running server: SQLite WAL).
    RunResult msAdmin(std::vector<std::string> args) {
        std::vector<std::string> argv = {(binDir() / "tte-mothership").string(), "--config",
                                         path("mothership/ms.toml").string(), "admin"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, dir(), "ms-admin");
    }

    /// The MotherShip's records of `lot` (`admin export --format jsonl`).
    std::vector<json> msRecords(const std::string& lot) {
        auto r = msAdmin({"export", "--format", "jsonl"});
        EXPECT_EQ(r.code, 0) << r.err;
        std::vector<json> out;
        for (auto& j : jsonLines(r.out))
            if (j.value("lot", "") == lot) out.push_back(std::move(j));
        return out;
    }

    [[nodiscard]] const fs::path& dir() const { return m_dir.path(); }
    [[nodiscard]] fs::path path(const std::string& rel) const { return dir() / rel; }
    static constexpr const char* kQueue = "tte-labels";

private:
    std::string makeMotherShip() {
        const auto ms = (binDir() / "tte-mothership").string();
        auto dtls = run({ms, "--ms-id", "1", "admin", "keygen", "dtls", "--key", path("mothership/dtls.key").string(), "--cert",
                         path("mothership/dtls.pem").string()},
                        dir(), "ms-keygen");
        if (dtls.code != 0 || dtls.out.size() < 64) return "keygen dtls: " + dtls.err;
        m_msFingerprint = dtls.out.substr(0, 64);
        auto otp = run({ms, "admin", "keygen", "otp", "--out", path("mothership/otp.key").string()}, dir(), "ms-keygen");
        if (otp.code != 0) return "keygen otp: " + otp.err;
        const auto p = [&](const char* rel) { return path(rel).string(); };
        std::ofstream(path("mothership/ms.toml"))
            << "ms_id = 1\nlog_level = \"warn\"\n[https]\nlisten = \"127.0.0.1:0\"\ncert = \"" << p("mothership/https.pem")
            << "\"\nkey = \"" << p("mothership/https.key") << "\"\nthreads = 2\n[coaps]\nlisten = \"127.0.0.1:0\"\ncert = \""
            << p("mothership/dtls.pem") << "\"\nkey = \"" << p("mothership/dtls.key") << "\"\n[database]\nurl = \"sqlite://"
            << p("mothership/registry.db") << "\"\n[otp_hash]\nkey_file = \"" << p("mothership/otp.key") << "\"\n";
        return {};
    }

    /// 4 KiB of firmware at 0x08000000 (below the provisioning block), packed as DfuSe.
    std::string makeFirmware() {
        std::string bin(4096, '\0');
        for (std::size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<char>((i * 131 + 7) & 0xff);
        std::ofstream(path("fw.bin"), std::ios::binary) << bin;
        auto r = run({(binDir() / "tte-flash").string(), "pack", path("fw.bin").string(), "--address", "0x08000000", "-o",
                      path("fw.dfu").string()},
                     dir(), "pack");
        return r.code == 0 ? "" : "tte-flash pack: " + r.out + r.err;
    }

    mstest::TempDir m_dir;
    std::unique_ptr<mstest::ServerProcess> m_ms;
    std::unique_ptr<labels::testing::PrivateCupsd> m_cups;
    std::string m_msFingerprint;
};

inline fs::path Station::dir() const { return m_site.path(m_spec.name); }

inline RunResult Station::provision(std::vector<std::string> args, std::vector<std::string> env) {
    std::vector<std::string> argv = {(binDir() / "tte-provision").string(), "--config", (dir() / "station.toml").string(),
                                     "--sim", (dir() / "sim").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    env.push_back("SOFTHSM2_CONF=" + m_site.path("softhsm/softhsm2.conf").string());
    return run(argv, dir(), "provision", std::chrono::seconds(60), env);
}

inline std::vector<json> Station::journal() {
    auto r = provision({"journal", "export"});
    EXPECT_EQ(r.code, 0) << r.err;
    auto lines = jsonLines(r.out);
    if (!lines.empty()) lines.erase(lines.begin());
    return lines;
}

}  // namespace tte::test
