// Test support of the kill test: one site shared by many stations, so each fault point gets
// a station of its own without paying for a site of its own. The site (made once, by
// support/station_site.h): a local CA, one SoftHSM token, one real
// tte-mothership (SQLite, loopback port 0), one private cupsd with a PDF label queue; plus a
// small firmware packed by `tte-flash pack`. Each station (made per test): its own certificate registered
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

#include "support/station_site.h"
#include "tte/base/hex.h"

namespace tte::test {

namespace fs = std::filesystem;
using nlohmann::json;

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
    /// The same, started in the background (output in <dir>/<name>.out/.err).
    std::unique_ptr<Process> start(std::vector<std::string> args, const std::string& name);
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
    /// Makes the site (tests/support/station_site.h: CA, token, MotherShip,
    /// cupsd) and the firmware; "" or what failed.
    std::string setUp() {
        if (auto e = m_site.setUp(); !e.empty()) return e;
        std::string bin(4096, '\0');  // 4 KiB at 0x08000000, below the provisioning block
        for (std::size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<char>((i * 131 + 7) & 0xff);
        std::ofstream(path("fw.bin"), std::ios::binary) << bin;
        auto r = run({(binDir() / "tte-flash").string(), "pack", path("fw.bin").string(), "--address", "0x08000000", "-o",
                      path("fw.dfu").string()},
                     dir(), "pack");
        return r.code == 0 ? "" : "tte-flash pack: " + r.out + r.err;
    }

    /// A new station: certificate, registration, lot quota, devices, station.toml.
    std::string addStation(const StationSpec& s) {
        const fs::path d = path(s.name);
        fs::create_directories(d / "labels");
        const std::string issue = "set -e; source \"$1/scripts/lib/demo-ca.sh\"; demo_ca_issue \"$2/ca\" \"$3/station\" \"$4\"";
        if (auto r = run({"/bin/bash", "-c", issue, "demo-ca", sourceRoot().string(), dir().string(), d.string(), s.name}, d,
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
            << "[printer]\nhost = \"127.0.0.1\"\nport = " << m_site.cups().port() << "\n"
            << "[mothership]\nurl = \"https://127.0.0.1:" << m_site.mothership()->httpsPort() << "\"\nca = \""
            << m_site.caCert().string() << "\"\ncert = \"station.pem\"\nkey = \"station.key\"\n"
            << "[lot]\nid = \"lot-" << s.name << "\"\nproduct = \"tte.fault\"\npen = 32473\nfirmware = \""
            << path("fw.dfu").string() << "\"\nms_id = 1\nms_address = \"127.0.0.1\"\nms_port = "
            << m_site.mothership()->coapsPort() << "\nms_fingerprint = \"" << m_site.msFingerprint()
            << "\"\nfirst_devid = \"" << toHex(s.first, 8) << "\"\nlast_devid = \"" << toHex(s.last, 8)
            << "\"\nled_enrollment = true\nlabel_template = \"" << (sourceRoot() / "config/labels.toml").string()
            << "\"\nprinter_queue = \"" << StationSite::kQueue << "\"\n"
            << "lock = \"none\"\n"  // the test's QA verify reads the board back through the bootloader
            << s.extraLot;
        return {};
    }

    RunResult msAdmin(std::vector<std::string> args) { return m_site.msAdmin(std::move(args)); }

    /// The MotherShip's records of `lot`.
    std::vector<json> msRecords(const std::string& lot) {
        std::vector<json> out;
        for (auto& j : m_site.msRecords())
            if (j.value("lot", "") == lot) out.push_back(std::move(j));
        return out;
    }

    [[nodiscard]] fs::path dir() const { return m_site.path("."); }
    [[nodiscard]] fs::path path(const std::string& rel) const { return m_site.path(rel); }
    [[nodiscard]] PrivateCupsd& cups() const { return m_site.cups(); }

private:
    // The site's own station (st1, one device) stays unused; each test adds its own.
    StationSite m_site{StationSiteOptions{1, 1, "lot-unused", "00000f00", "00000fff"}};
};

inline fs::path Station::dir() const { return m_site.path(m_spec.name); }

inline RunResult Station::provision(std::vector<std::string> args, std::vector<std::string> env) {
    std::vector<std::string> argv = {(binDir() / "tte-provision").string(), "--config", (dir() / "station.toml").string(),
                                     "--sim", (dir() / "sim").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    env.push_back("SOFTHSM2_CONF=" + m_site.path("softhsm/softhsm2.conf").string());
    return run(argv, dir(), "provision", std::chrono::seconds(60), env);
}

inline std::unique_ptr<Process> Station::start(std::vector<std::string> args, const std::string& name) {
    std::vector<std::string> argv = {(binDir() / "tte-provision").string(), "--config", (dir() / "station.toml").string(),
                                     "--sim", (dir() / "sim").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Process>(argv, dir(), name,
                                     std::vector<std::string>{"SOFTHSM2_CONF=" + m_site.path("softhsm/softhsm2.conf").string()});
}

inline std::vector<json> Station::journal() {
    auto r = provision({"journal", "export"});
    EXPECT_EQ(r.code, 0) << r.err;
    auto lines = jsonLines(r.out);
    if (!lines.empty()) lines.erase(lines.begin());
    return lines;
}

}  // namespace tte::test
