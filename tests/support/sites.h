// Test support for the customer-side integration tests: a real tte-mothership (local CA,
// station registered, records uploaded through the station API, via the MotherShip's own
// test support) and a real tte-controller, both on loopback port 0 in a temp dir.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/temp_dir.h"
#include "support/mothership.h"

namespace tte::test {

/// What a test may change of the site's MotherShip.
struct MotherShipSiteOptions {
    /// [limits] max_failures_per_client: a test whose Controller asks about Dev IDs the
    /// MotherShip does not know (each a failure from 127.0.0.1) raises it.
    int maxFailuresPerClient = 1000;
};

class MotherShipSite {
public:
    explicit MotherShipSite(MotherShipSiteOptions options = {}) : pki(test::makePki(dir)) {
        auto ms = test::binary("tte-mothership");
        EXPECT_EQ(test::runShell(ms + " admin keygen otp --out " + dir.file("otp.key")).exitCode, 0);
        test::writeFile(dir.file("ms.toml"),
                          "ms_id = 1\nlog_level = \"info\"\n"
                          "[https]\nlisten = \"127.0.0.1:0\"\ncert = \"" + pki.tlsCert + "\"\nkey = \"" + pki.tlsKey + "\"\nthreads = 2\n"
                          "[coaps]\nlisten = \"127.0.0.1:0\"\ncert = \"" + pki.dtlsCert + "\"\nkey = \"" + pki.dtlsKey + "\"\n"
                          "[database]\nurl = \"sqlite://" + dir.file("registry.db") + "\"\n"
                          "[otp_hash]\nkey_file = \"" + dir.file("otp.key") + "\"\n"
                          "[limits]\nmax_failures_per_device = 5\nmax_failures_per_client = " +
                              std::to_string(options.maxFailuresPerClient) + "\nwindow_s = 600\nlockout_s = 600\n");
        admin("station add --cert " + pki.stationCert + " --name station-1");
        admin("lot set --lot lot-1 --first 00000100 --last 000001ff");
        start();
    }

    void start() { server = std::make_unique<test::ServerProcess>(dir.file("ms.toml"), dir); }
    void stop() { server.reset(); }

    void admin(const std::string& args) {
        auto r = test::runShell(test::binary("tte-mothership") + " --config " + dir.file("ms.toml") + " admin " + args);
        EXPECT_EQ(r.exitCode, 0) << args << "\n" << r.output;
    }

    /// Uploads the signed record of a DTLS-PSK device (PROTOCOL §11) with its PSK; expects it stored.
    void uploadPsk(std::uint32_t devId, std::uint64_t otp, const std::string& fingerprint, const std::string& pskHex) {
        nlohmann::json records = nlohmann::json::array(
            {test::signedRecord(pki.stationKey, "station-1", devId, otp, fingerprint, ++seq, "lot-1", std::nullopt,
                                std::nullopt, pskHex)});
        test::HttpCall call{"POST", "/api/v1/records", nlohmann::json{{"records", records}}.dump(), "application/json", "",
                            pki.stationCert, pki.stationKey};
        auto r = test::https(server->httpsPort(), pki.caCert, call);
        ASSERT_EQ(r.status, 200) << r.body << r.error;
        ASSERT_EQ(nlohmann::json::parse(r.body)["results"][0]["status"], "stored") << r.body;
    }

    /// Uploads signed station records (devid, otp, device fingerprint) and expects each stored.
    void upload(const std::vector<std::tuple<std::uint32_t, std::uint64_t, std::string>>& devices) {
        nlohmann::json records = nlohmann::json::array();
        for (const auto& [devId, otp, fp] : devices) records.push_back(test::signedRecord(pki.stationKey, "station-1", devId, otp, fp, ++seq));
        test::HttpCall call{"POST", "/api/v1/records", nlohmann::json{{"records", records}}.dump(), "application/json", "",
                              pki.stationCert, pki.stationKey};
        auto r = test::https(server->httpsPort(), pki.caCert, call);
        ASSERT_EQ(r.status, 200) << r.body << r.error;
        const auto doc = nlohmann::json::parse(r.body);
        for (const auto& res : doc["results"]) ASSERT_EQ(res["status"], "stored") << res;
    }

    /// The registry as `admin export --format jsonl`, by Dev ID.
    std::map<std::uint32_t, nlohmann::json> registryRows() {
        auto r = test::runShell(test::binary("tte-mothership") + " --config " + dir.file("ms.toml") + " admin export --format jsonl");
        EXPECT_EQ(r.exitCode, 0) << r.output;
        std::map<std::uint32_t, nlohmann::json> out;
        std::istringstream lines(r.output);
        for (std::string line; std::getline(lines, line);) {
            auto j = nlohmann::json::parse(line, nullptr, false);
            if (!j.is_discarded() && j.contains("devid"))
                out[static_cast<std::uint32_t>(std::stoul(j["devid"].get<std::string>(), nullptr, 16))] = j;
        }
        return out;
    }

    /// A read-only query of the SQLite registry through the sqlite3 tool; its output.
    std::string sql(const std::string& query) {
        auto r = test::runShell("sqlite3 -readonly " + dir.file("registry.db") + " \"" + query + "\"");
        EXPECT_EQ(r.exitCode, 0) << r.output;
        return r.output;
    }

    /// How many audit entries of `event` each Dev ID has.
    std::map<std::uint32_t, int> auditCount(const std::string& event) {
        std::map<std::uint32_t, int> out;
        std::istringstream lines(sql("SELECT devid, count(*) FROM audit WHERE event = '" + event + "' GROUP BY devid"));
        for (std::string line; std::getline(lines, line);) {
            const auto bar = line.find('|');
            if (bar != std::string::npos) out[static_cast<std::uint32_t>(std::stoul(line.substr(0, bar)))] = std::stoi(line.substr(bar + 1));
        }
        return out;
    }

    [[nodiscard]] std::string connectTo() const { return "tte-000001.net:443:127.0.0.1:" + std::to_string(server->httpsPort()); }

    test::TempDir dir;
    test::Pki pki;
    std::unique_ptr<test::ServerProcess> server;
    std::uint64_t seq = 0;
};

struct ControllerProcess {
    std::unique_ptr<Process> proc;
    std::string https, coaps, fingerprint;
    [[nodiscard]] std::string notifyUrl() const { return "https://" + https + "/tte/v1/introductions"; }
};

/// Starts tte-controller with its state in `dir`/<state> (default: `dir`/<name>), ports 0 (or
/// those of `again`: the same Controller started again where it was), and waits for its
/// ports file.
inline ControllerProcess startController(const std::filesystem::path& dir, const std::string& name,
                                         std::vector<std::string> extra = {}, const std::string& state = "",
                                         const ControllerProcess* again = nullptr) {
    auto ports = dir / (name + ".ports.json");
    std::filesystem::remove(ports);
    std::vector<std::string> argv = {(binDir() / "tte-controller").string(), "--state-dir",
                                     (dir / (state.empty() ? name : state)).string(),
                                     "--https-listen", again != nullptr ? again->https : "127.0.0.1:0",
                                     "--coaps-listen", again != nullptr ? again->coaps : "127.0.0.1:0",
                                     "--ports-file", ports.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ControllerProcess c;
    c.proc = std::make_unique<Process>(argv, dir, name);
    EXPECT_TRUE(waitFor([&] { return std::filesystem::exists(ports) || c.proc->exited(); })) << c.proc->err();
    auto doc = nlohmann::json::parse(readText(ports), nullptr, false);
    if (doc.is_discarded()) {
        ADD_FAILURE() << "tte-controller did not start: " << c.proc->err();
        return c;
    }
    c.https = doc["https"];
    c.coaps = doc["coaps"];
    c.fingerprint = doc["fingerprint"];
    return c;
}

}  // namespace tte::test
