// `tte-mothership admin` operations (admin.h).
#include "tte/mothership/admin.h"

#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tte/base/hex.h"
#include "tte/mothership/crypto.h"

extern char** environ;

namespace tte::mothership {

using nlohmann::json;

namespace {

json deviceJson(const DeviceRow& d) {
    json out{{"devid", toHex(d.devId, 8)},        {"urn", d.urn},
             {"fingerprint", d.fingerprint},       {"lot", d.lot},
             {"box", d.box ? json(toHex(*d.box, 8)) : json(nullptr)},
             {"station", d.station},               {"record_id", d.recordId},
             {"signature", d.signature},           {"firmware_sha256", d.firmwareSha256},
             {"created", d.created},               {"state", std::string(stateName(d.state))},
             {"cip", d.controller ? json(d.controller->ip) : json(nullptr)},
             {"cport", d.controller ? json(d.controller->port) : json(nullptr)},
             {"cfingerprint", d.controller ? json(d.controller->fingerprint) : json(nullptr)},
             {"description", d.description},       {"inserted_at", d.insertedAt},
             {"updated_at", d.updatedAt},          {"failures", d.failures}};
    return out;
}

std::string csvField(const json& v) {
    std::string s = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

}  // namespace

Result<std::string> adminStationAdd(Registry& registry, const std::string& certFile, const std::string& name,
                                    std::int64_t now) {
    if (name.empty() || name.size() > 64) return fail(Errc::invalidArgument, "station name must be 1 to 64 characters");
    std::ifstream in(certFile);
    if (!in) return fail(Errc::io, "cannot read " + certFile);
    std::stringstream pem;
    pem << in.rdbuf();
    auto fp = fingerprintOfPem(pem.str());
    if (!fp) return withContext(fp.error(), certFile);
    if (auto s = registry.addStation(StationRow{name, *fp, pem.str(), now}); !s) return std::unexpected(s.error());
    return *fp;
}

Result<std::string> adminShow(Registry& registry, std::uint32_t devId) {
    auto d = registry.device(devId);
    if (!d) return std::unexpected(d.error());
    auto trail = registry.audit(devId);
    if (!trail) return std::unexpected(trail.error());
    json out = deviceJson(*d);
    out["audit"] = json::array();
    for (const auto& e : *trail)
        out["audit"].push_back({{"at", e.at}, {"event", e.event}, {"client", e.client}, {"detail", e.detail}});
    return out.dump(2);
}

Status adminExport(Registry& registry, const std::string& format, std::ostream& out) {
    if (format != "csv" && format != "jsonl") return fail(Errc::invalidArgument, "export format must be csv or jsonl");
    bool header = format == "csv";
    return registry.forEachDevice([&](const DeviceRow& d) -> Status {
        const json j = deviceJson(d);
        if (format == "jsonl") {
            out << j.dump() << "\n";
        } else {
            if (header) {
                bool first = true;
                for (const auto& [k, v] : j.items()) out << (first ? "" : ",") << k, first = false;
                out << "\n";
                header = false;
            }
            bool first = true;
            for (const auto& [k, v] : j.items()) out << (first ? "" : ",") << csvField(v), first = false;
            out << "\n";
        }
        if (!out) return fail(Errc::io, "export: write failed");
        return {};
    });
}

Status adminBackup(const std::string& databaseUrl, const std::string& out) {
    if (databaseUrl.starts_with("postgresql://") || databaseUrl.starts_with("postgres://")) {
        // pg_dump takes one consistent snapshot; passwords belong in PGPASSFILE, not the URL.
        std::vector<std::string> args{"pg_dump", "--format=custom", "--file=" + out, "--dbname=" + databaseUrl};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        if (posix_spawnp(&pid, "pg_dump", nullptr, nullptr, argv.data(), environ) != 0)
            return fail(Errc::io, "cannot run pg_dump (is postgresql-client installed?)");
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail(Errc::io, "pg_dump failed");
        return {};
    }
    auto registry = openRegistry(databaseUrl, 1);
    if (!registry) return std::unexpected(registry.error());
    return (*registry)->backup(out);
}

}  // namespace tte::mothership
