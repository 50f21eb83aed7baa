// `tte-mothership admin` operations (admin.h).
#include "tte/mothership/admin.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tte/base/hex.h"
#include "tte/mothership/crypto.h"
#include "tte/protocol/fingerprint.h"
#include "tte/protocol/query.h"

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
             {"updated_at", d.updatedAt},          {"failures", d.failures},
             {"mcu_uid", d.mcuUid ? json(*d.mcuUid) : json(nullptr)},
             {"reworked_from", d.reworkedFrom ? json(toHex(*d.reworkedFrom, 8)) : json(nullptr)},
             {"revoked_at", d.revokedAt != 0 ? json(d.revokedAt) : json(nullptr)},
             {"revoked_by", d.state == DeviceState::revoked ? json(d.revokedBy) : json(nullptr)},
             {"revoke_reason", d.state == DeviceState::revoked ? json(d.revokeReason) : json(nullptr)},
             {"preenrolled_by", d.preEnrolledBy.empty() ? json(nullptr) : json(d.preEnrolledBy)}};
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
    auto fp = protocol::fingerprintFromPem(pem.str());
    if (!fp) return withContext(fp.error(), certFile);
    if (auto s = registry.addStation(StationRow{name, fp->hex(), pem.str(), now}); !s) return std::unexpected(s.error());
    return fp->hex();
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

Status adminLotList(Registry& registry, const std::string& format, std::ostream& out) {
    if (format != "table" && format != "jsonl") return fail(Errc::invalidArgument, "lot list format must be table or jsonl");
    auto lots = registry.lots();
    if (!lots) return std::unexpected(lots.error());
    if (format == "table") out << "lot\tfirst\tlast\tused\tcapacity\n";
    for (const auto& q : *lots) {
        const std::int64_t capacity = std::int64_t{q.last.value} - q.first.value + 1;
        if (format == "jsonl") {
            out << json{{"lot", q.lot}, {"first", q.first.hex()}, {"last", q.last.hex()}, {"used", q.used},
                        {"capacity", capacity}}.dump()
                << "\n";
        } else {
            out << q.lot << "\t" << q.first.hex() << "\t" << q.last.hex() << "\t" << q.used << "\t" << capacity
                << "\n";
        }
    }
    if (!out) return fail(Errc::io, "lot list: write failed");
    return {};
}

Status adminStationList(Registry& registry, std::ostream& out) {
    auto stations = registry.stations();
    if (!stations) return std::unexpected(stations.error());
    out << "name\tfingerprint\tadded\n";
    for (const auto& st : *stations) {
        const std::time_t t = st.addedAt / 1000;
        std::tm utc{};
        gmtime_r(&t, &utc);
        char added[32];
        std::strftime(added, sizeof added, "%Y-%m-%dT%H:%M:%SZ", &utc);
        out << st.name << "\t" << st.fingerprint << "\t" << added << "\n";
    }
    if (!out) return fail(Errc::io, "station list: write failed");
    return {};
}

namespace {

/// libpq percent-decodes URI parts; the password must be decoded for a PGPASSFILE.
Result<Secret> decodePassword(std::string_view text) {
    auto decoded = protocol::percentDecode(text);
    if (!decoded) return fail(Errc::invalidArgument, "database URL: bad percent-escape in the password");
    Secret out(*decoded);
    secureZero(decoded->data(), decoded->size());
    return out;
}

/// `*:*:*:*:password` with `\` and `:` escaped (PostgreSQL's password file format).
std::string passfileLine(std::string_view password) {
    std::string line = "*:*:*:*:";
    for (char c : password) {
        if (c == '\\' || c == ':') line += '\\';
        line += c;
    }
    return line + "\n";
}

/// A private temp dir holding a PGPASSFILE for one pg_dump run; removed on destruction.
class PassFile {
public:
    static Result<std::unique_ptr<PassFile>> create(const Secret& password) {
        std::string dir = (std::filesystem::temp_directory_path() / "tte-pgpass-XXXXXX").string();
        if (::mkdtemp(dir.data()) == nullptr) return fail(Errc::io, "cannot create a temp dir for PGPASSFILE");
        auto file = std::unique_ptr<PassFile>(new PassFile(dir));
        const int fd = ::open(file->path().c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0) return fail(Errc::io, "cannot create " + file->path());
        std::string line = passfileLine(password.view());
        const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
        secureZero(line.data(), line.size());
        ::close(fd);
        if (!ok) return fail(Errc::io, "cannot write " + file->path());
        return file;
    }
    ~PassFile() {
        std::error_code ec;
        std::filesystem::remove_all(m_dir, ec);
    }
    PassFile(const PassFile&) = delete;
    PassFile& operator=(const PassFile&) = delete;
    [[nodiscard]] std::string path() const { return m_dir + "/pgpass"; }

private:
    explicit PassFile(std::string dir) : m_dir(std::move(dir)) {}
    std::string m_dir;
};

/// Runs `program args… --dbname=URL` and waits. Errors: io (cannot start, non-zero exit).
Status spawnWait(const std::string& program, std::vector<std::string> args, const std::string& url, const PassFile* pass,
                 bool quiet) {
    args.insert(args.begin(), program);
    if (!url.empty()) args.push_back("--dbname=" + url);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        if (pass == nullptr || !std::string_view(*e).starts_with("PGPASSFILE=")) env.emplace_back(*e);
    }
    if (pass != nullptr) env.push_back("PGPASSFILE=" + pass->path());
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (quiet) posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return fail(Errc::io, "cannot run " + program + " (is postgresql-client installed?)");
    int status = 0;
    waitpid(pid, &status, 0);
    const std::string name = std::filesystem::path(program).filename().string();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail(Errc::io, name + " failed");
    return {};
}

/// A file `out` is written through: a private (0600) temp file beside it, renamed onto
/// `out` by commit(), removed when not committed. A failed backup leaves the last one.
class PrivateOutput {
public:
    static Result<PrivateOutput> create(const std::string& out) {
        std::string tmp = out + ".tmp-XXXXXX";
        const int fd = ::mkstemp(tmp.data());  // mode 0600
        if (fd < 0) return failNative(Errc::io, "cannot create " + tmp + ": " + std::strerror(errno), "errno", errno);
        ::close(fd);
        return PrivateOutput(out, std::move(tmp));
    }
    PrivateOutput(PrivateOutput&& o) noexcept : m_out(std::move(o.m_out)), m_tmp(std::exchange(o.m_tmp, {})) {}
    PrivateOutput& operator=(PrivateOutput&&) = delete;
    ~PrivateOutput() {
        if (!m_tmp.empty()) ::unlink(m_tmp.c_str());
    }
    [[nodiscard]] const std::string& path() const { return m_tmp; }
    Status commit() {
        if (::chmod(m_tmp.c_str(), 0600) != 0 || std::rename(m_tmp.c_str(), m_out.c_str()) != 0)
            return failNative(Errc::io, "cannot write " + m_out + ": " + std::strerror(errno), "errno", errno);
        m_tmp.clear();
        return {};
    }

private:
    PrivateOutput(std::string out, std::string tmp) : m_out(std::move(out)), m_tmp(std::move(tmp)) {}
    std::string m_out;
    std::string m_tmp;
};

}  // namespace

Result<PostgresTarget> splitPostgresPassword(std::string_view url) {
    const std::size_t schemeEnd = url.find("://");
    if (schemeEnd == std::string_view::npos) return PostgresTarget{std::string(url), std::nullopt};
    PostgresTarget target;
    const std::size_t start = schemeEnd + 3;
    const std::size_t authorityEnd = std::min(url.find_first_of("/?", start), url.size());
    const std::string_view authority = url.substr(start, authorityEnd - start);
    std::string rebuilt(url.substr(0, start));
    const std::size_t at = authority.rfind('@');
    const std::size_t colon = at == std::string_view::npos ? at : authority.substr(0, at).find(':');
    if (colon != std::string_view::npos) {
        auto password = decodePassword(authority.substr(colon + 1, at - colon - 1));
        if (!password) return std::unexpected(password.error());
        target.password = std::move(*password);
        rebuilt += std::string(authority.substr(0, colon)) + std::string(authority.substr(at));
    } else {
        rebuilt += authority;
    }
    std::string_view rest = url.substr(authorityEnd);
    const std::size_t q = rest.find('?');
    rebuilt += rest.substr(0, q);
    if (q != std::string_view::npos) {
        std::string query;
        std::string_view params = rest.substr(q + 1);
        while (!params.empty()) {
            const std::size_t amp = std::min(params.find('&'), params.size());
            const std::string_view param = params.substr(0, amp);
            params.remove_prefix(std::min(amp + 1, params.size()));
            if (param.starts_with("password=")) {
                auto password = decodePassword(param.substr(9));
                if (!password) return std::unexpected(password.error());
                target.password = std::move(*password);
                continue;
            }
            if (!query.empty()) query += '&';
            query += param;
        }
        if (!query.empty()) rebuilt += "?" + query;
    }
    target.url = std::move(rebuilt);
    return target;
}

Status runPostgresTool(const std::string& program, const std::string& databaseUrl, std::vector<std::string> args,
                       bool quiet) {
    if (databaseUrl.empty()) return spawnWait(program, std::move(args), "", nullptr, quiet);
    // The tool's argv is visible to every user (ps), so a password goes to a private
    // PGPASSFILE instead.
    auto target = splitPostgresPassword(databaseUrl);
    if (!target) return std::unexpected(target.error());
    std::unique_ptr<PassFile> pass;
    if (target->password) {
        auto created = PassFile::create(*target->password);
        if (!created) return std::unexpected(created.error());
        pass = std::move(*created);
    }
    return spawnWait(program, std::move(args), target->url, pass.get(), quiet);
}

std::optional<std::string> sqliteFileOf(std::string_view url) {
    constexpr std::string_view scheme = "sqlite://";
    if (!url.starts_with(scheme)) return std::nullopt;
    const std::string_view path = url.substr(scheme.size());
    if (path.empty() || path == ":memory:") return std::nullopt;
    return std::string(path);
}

Status adminBackup(const std::string& databaseUrl, const std::string& out, const std::string& pgDump) {
    auto file = PrivateOutput::create(out);
    if (!file) return std::unexpected(file.error());
    if (isPostgresUrl(databaseUrl)) {
        // pg_dump takes one consistent snapshot; it writes into the 0600 file made for it.
        if (auto s = runPostgresTool(pgDump, databaseUrl, {"--format=custom", "--file=" + file->path()}); !s) return s;
        return file->commit();
    }
    auto registry = openRegistry(databaseUrl, 1);
    if (!registry) return std::unexpected(registry.error());
    if (auto s = (*registry)->backup(file->path()); !s) return s;
    return file->commit();
}

}  // namespace tte::mothership
