// Serving and the admin commands (app.h).
#include "tte/mothership/app.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>

#include "tte/base/hex.h"
#include "tte/mothership/admin.h"
#include "tte/mothership/coap_server.h"
#include "tte/mothership/crypto.h"
#include "tte/mothership/https_server.h"
#include "tte/mothership/service.h"
#include "tte/protocol/fingerprint.h"
#include "tte/server/listen.h"
#include "tte/server/tls.h"

namespace tte::mothership {
namespace {

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<std::string> readText(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(Errc::io, "cannot read " + path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

Result<std::uint32_t> devIdOf(const std::string& text, const char* what) {
    auto id = parseHexInt(text, 8, what);
    if (!id) return std::unexpected(id.error());
    return static_cast<std::uint32_t>(*id);
}

}  // namespace

struct MotherShipApp::Parts {
    Ready ready;
    std::shared_ptr<spdlog::logger> log;
    std::unique_ptr<OtpHasher> hasher;
    std::unique_ptr<Registry> registry;
    SystemClock clock;
    Metrics metrics;
    std::unique_ptr<FailureLimiter> limiter;
    std::unique_ptr<Service> service;
    std::unique_ptr<server::HttpsServer> https;
    std::unique_ptr<CoapServer> coaps;
    std::unique_ptr<server::HttpsServer> admin;
};

MotherShipApp::MotherShipApp(std::unique_ptr<Parts> parts) : m_parts(std::move(parts)) {}

MotherShipApp::~MotherShipApp() { stop(std::chrono::milliseconds(0)); }

const Ready& MotherShipApp::ready() const { return m_parts->ready; }

void MotherShipApp::stop(std::chrono::milliseconds grace) {
    if (m_parts->admin) m_parts->admin->stop(std::chrono::milliseconds(0));
    m_parts->admin.reset();
    if (m_parts->https) m_parts->https->stop(grace);  // drain requests in flight
    if (m_parts->coaps) m_parts->coaps->stop();       // no request of a device in flight after this
    m_parts->coaps.reset();
    m_parts->https.reset();
    m_parts->registry.reset();  // the SQLite writer commits its queue before it closes
}

Result<std::unique_ptr<MotherShipApp>> MotherShipApp::start(const Config& config, std::shared_ptr<spdlog::logger> log) {
    if (auto s = validateConfig(config); !s) return std::unexpected(s.error());
    const auto https = *server::parseListenAddress(config.httpsListen, "https listen");  // checked above
    const auto coaps = *server::parseListenAddress(config.coapsListen, "coaps listen");
    const auto admin = *server::parseListenAddress(config.adminListen, "admin listen");
    auto p = std::make_unique<Parts>();
    p->log = std::move(log);
    auto hasher = config.otpKeyUri.empty() ? OtpHasher::fromFile(config.otpKeyFile) : OtpHasher::openToken(config.otpKeyUri);
    if (!hasher) return std::unexpected(hasher.error());
    p->hasher = std::make_unique<OtpHasher>(std::move(*hasher));
    // The checkpointer's trouble (SQLite), told from its own thread: the lambda keeps the logger.
    auto warn = [log = p->log](const std::string& line) { log->warn("{}", line); };
    auto registry = openRegistry(config.database, config.dbConnections,
                                 RegistryOptions{.sqliteCacheMib = config.sqliteCacheMib, .warn = warn});
    if (!registry) return std::unexpected(registry.error());
    p->registry = std::move(*registry);
    p->metrics.watchRegistry(*p->registry, p->clock);
    p->limiter = std::make_unique<FailureLimiter>(*p->registry, p->clock, config.limits);
    p->service = std::make_unique<Service>(*p->registry, *p->hasher, p->clock, *p->limiter, p->metrics,
                                           ServiceOptions{config.msId, 500});
    const HttpsOptions ho{.address = https.host,
                          .port = https.port,
                          .certFile = config.tlsCert,
                          .keyFile = config.tlsKey,
                          .threads = config.httpThreads,
                          .handlers = config.httpHandlers,
                          .bodyLimit = config.bodyLimit,
                          .headerLimit = 8192,
                          .readTimeout = std::chrono::seconds(config.readTimeoutSeconds)};
    auto httpsServer = makeHttpsServer(ho, *p->service, p->metrics, p->log);
    if (!httpsServer) return std::unexpected(httpsServer.error());
    p->https = std::move(*httpsServer);
    const CoapOptions co{coaps.host, coaps.port, config.dtlsCert, config.dtlsKey, config.coapMaxIdleSessions,
                         config.coapMaxHandshakeSessions, config.coapSessionTimeoutSeconds,
                         config.coapHandshakesPerAddressPerSecond};
    auto coapServer = CoapServer::create(co, *p->registry, p->clock, p->metrics, p->log, p->hasher.get());
    if (!coapServer) return std::unexpected(coapServer.error());
    p->coaps = std::move(*coapServer);
    // The admin listener: plain HTTP for Prometheus and probes, one thread, apart from the
    // public port and on loopback by default; a stuck scraper times out.
    server::HttpsServerOptions ao;
    ao.address = admin.host;
    ao.port = admin.port;
    ao.serverName = "tte-mothership";
    ao.threads = 1;
    ao.readTimeout = std::chrono::seconds(10);
    ao.headers = {{"Cache-Control", "no-store"}};
    auto adminListener = server::HttpsServer::createPlain(
        ao, [service = p->service.get()](const HttpRequest& r) { return service->handleAdmin(r); });
    if (!adminListener) return std::unexpected(withContext(adminListener.error(), "admin listener"));
    p->admin = std::move(*adminListener);
    if (!admin.host.starts_with("127.") && admin.host != "::1")  // an IP literal (parseListenAddress)
        p->log->warn("event=admin-listener-exposed address={} note=\"/metrics and /readyz are served without "
                     "authentication; keep this address behind a firewall\"", admin.host);
    auto dtls = server::loadCertifiedKey(config.dtlsCert, config.dtlsKey);
    if (!dtls) return std::unexpected(dtls.error());
    p->https->start();
    p->coaps->start();
    p->admin->start();
    p->ready = {protocol::formatHostPort(https.host, p->https->port()), protocol::formatHostPort(coaps.host, p->coaps->port()),
                protocol::formatHostPort(admin.host, p->admin->port()), dtls->fingerprint()};
    auto app = std::unique_ptr<MotherShipApp>(new MotherShipApp(std::move(p)));
    const Ready& r = app->ready();
    if (!config.portsFile.empty()) {
        if (auto s = server::writePortsFile(config.portsFile, {{"https", r.https},
                                                               {"coaps", r.coaps},
                                                               {"admin", r.admin},
                                                               {"fingerprint", r.fingerprint}});
            !s)
            return std::unexpected(s.error());
    }
    app->m_parts->log->info("event=ready ms={} https={} coaps={} admin={} database={}",
                            protocol::msHostName(protocol::MsId{config.msId}), r.https, r.coaps, r.admin,
                            config.database.substr(0, config.database.find('@')));
    return app;
}

namespace {

/// `admin revoke (--devid D | --box B | --lot L) --reason R`: one line per device it covered
/// (`<devid> revoked` or `<devid> already revoked`), then a count.
Status adminRevoke(Registry& reg, const AdminCommand& c, std::ostream& out) {
    const int given = !c.devId.empty() + !c.box.empty() + !c.lot.empty();
    if (given != 1) return fail(Errc::invalidArgument, "revoke needs exactly one of --devid, --box, --lot");
    if (c.reason.empty()) return fail(Errc::invalidArgument, "--reason: empty");
    if (c.reason.size() > 200) return fail(Errc::invalidArgument, "--reason: longer than 200 bytes");
    RevokeTarget target;
    if (!c.devId.empty() || !c.box.empty()) {
        const bool box = !c.box.empty();
        auto n = devIdOf(box ? c.box : c.devId, box ? "--box" : "--devid");
        if (!n) return std::unexpected(n.error());
        target = {box ? RevokeTarget::Kind::box : RevokeTarget::Kind::device, *n, {}};
    } else {
        target = {RevokeTarget::Kind::lot, 0, c.lot};
    }
    auto done = reg.revoke(target, Revocation{c.reason, "admin", std::nullopt}, nowMs());
    if (!done) return std::unexpected(done.error());
    std::vector<std::pair<std::uint32_t, const char*>> lines;
    for (auto id : done->revoked) lines.emplace_back(id, "revoked");
    for (auto id : done->alreadyRevoked) lines.emplace_back(id, "already revoked");
    std::sort(lines.begin(), lines.end());
    for (const auto& [id, what] : lines) out << toHex(id, 8) << " " << what << "\n";
    out << target.describe() << ": " << done->revoked.size() << " revoked, " << done->alreadyRevoked.size()
        << " already revoked\n";
    return {};
}

}  // namespace

Status runAdmin(const AdminCommand& c, const Config& config, std::ostream& out) {
    using Kind = AdminCommand::Kind;
    switch (c.kind) {
    case Kind::keygenOtp:
        if (auto s = writeNewKeyFile(c.out, c.force); !s) return s;
        out << "wrote " << c.out << "\n";
        return {};
    case Kind::keygenDtls: {
        struct stat st {};
        if (!c.force && ::stat(c.keyOut.c_str(), &st) == 0)
            return fail(Errc::alreadyExists, c.keyOut + " exists already (use --force to rotate)");
        const std::string cn = config.msId ? protocol::msHostName(protocol::MsId{config.msId}) : "tte-mothership";
        if (auto s = writeSelfSignedP256(c.keyOut, c.certOut, cn, 3650); !s) return s;
        auto pem = readText(c.certOut);
        if (!pem) return std::unexpected(pem.error());
        auto fp = protocol::fingerprintFromPem(*pem);
        if (!fp) return std::unexpected(fp.error());
        out << fp->hex() << "\n";
        return {};
    }
    case Kind::fingerprint: {
        auto pem = readText(c.certIn);
        if (!pem) return std::unexpected(pem.error());
        auto fp = protocol::fingerprintFromPem(*pem);
        if (!fp) return std::unexpected(fp.error());
        out << fp->hex() << "\n";
        return {};
    }
    case Kind::backup: return adminBackup(config.database, c.out);
    case Kind::restore: {
        auto summary = adminRestore(config.database, c.from, RestoreOptions{.force = c.force});
        if (!summary) return std::unexpected(summary.error());
        out << *summary << "\n";
        return {};
    }
    case Kind::copy: {
        auto summary = adminCopy(config.database, c.to, std::cerr, config.sqliteCacheMib);
        if (!summary) return std::unexpected(summary.error());
        out << *summary << "\n";
        return {};
    }
    default: break;
    }
    const auto warn = [](const std::string& line) { std::cerr << "tte-mothership: warning: " << line << "\n"; };
    auto registry = openRegistry(config.database, 1, RegistryOptions{.sqliteCacheMib = config.sqliteCacheMib, .warn = warn});
    if (!registry) return std::unexpected(registry.error());
    Registry& reg = **registry;
    switch (c.kind) {
    case Kind::stationAdd: {
        auto fp = adminStationAdd(reg, c.certIn, c.name, nowMs());
        if (!fp) return std::unexpected(fp.error());
        out << "station " << c.name << " fingerprint " << *fp << "\n";
        return {};
    }
    case Kind::stationRemove:
        if (auto s = reg.removeStation(c.name, "admin", nowMs()); !s) return s;
        out << "station " << c.name << " removed\n";
        return {};
    case Kind::stationList: return adminStationList(reg, out);
    case Kind::lotList: return adminLotList(reg, c.listFormat, out);
    case Kind::lotSet: {
        auto first = devIdOf(c.first, "--first");
        if (!first) return std::unexpected(first.error());
        auto last = devIdOf(c.last, "--last");
        if (!last) return std::unexpected(last.error());
        return reg.setLotQuota(c.lot, *first, *last);
    }
    case Kind::revoke: return adminRevoke(reg, c, out);
    case Kind::show: {
        auto id = devIdOf(c.devId, "--devid");
        if (!id) return std::unexpected(id.error());
        auto text = adminShow(reg, *id);
        if (!text) return std::unexpected(text.error());
        out << *text << "\n";
        return {};
    }
    case Kind::exportRegistry: {
        if (c.out.empty()) return adminExport(reg, c.format, out);
        std::ofstream file(c.out);
        if (!file) return fail(Errc::io, "cannot write " + c.out);
        return adminExport(reg, c.format, file);
    }
    default: return fail(Errc::internal, "unknown admin command");
    }
}

}  // namespace tte::mothership
