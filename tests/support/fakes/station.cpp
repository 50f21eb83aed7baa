// The fakes of station.h.
#include "support/fakes/station.h"

#include <algorithm>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cctype>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "tte/base/hex.h"
#include "tte/protocol/crypto.h"
#include "tte/protocol/fingerprint.h"

namespace tte::station::fakes {
namespace {

std::vector<std::uint8_t> hmac(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
    std::vector<std::uint8_t> out(32);
    unsigned int len = 32;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len);
    return out;
}

std::vector<std::uint8_t> be32(std::string_view prefix, std::uint32_t v) {
    std::vector<std::uint8_t> d(prefix.begin(), prefix.end());
    for (int s = 24; s >= 0; s -= 8) d.push_back(static_cast<std::uint8_t>(v >> s));
    return d;
}

std::vector<std::uint8_t> spki(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(key, &der);
    std::vector<std::uint8_t> out(der, der + n);
    OPENSSL_free(der);
    return out;
}

std::vector<std::uint8_t> bytesOf(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

FakeKeys::FakeKeys() : m_stationKey(EVP_EC_gen("P-256")), m_lotKey(32), m_queueKey(32) {
    RAND_bytes(m_lotKey.data(), 32);
    RAND_bytes(m_queueKey.data(), 32);
}

FakeKeys::FakeKeys(const std::string& dir) : m_stationKey(nullptr), m_lotKey(32), m_queueKey(32) {
    const std::string pem = dir + "/fake-station.pem";
    const std::string secrets = dir + "/fake-secrets.bin";
    if (FILE* f = std::fopen(pem.c_str(), "r")) {
        m_stationKey = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        std::ifstream in(secrets, std::ios::binary);
        in.read(reinterpret_cast<char*>(m_lotKey.data()), 32);
        in.read(reinterpret_cast<char*>(m_queueKey.data()), 32);
        return;
    }
    m_stationKey = EVP_EC_gen("P-256");
    RAND_bytes(m_lotKey.data(), 32);
    RAND_bytes(m_queueKey.data(), 32);
    FILE* f = std::fopen(pem.c_str(), "w");
    PEM_write_PrivateKey(f, static_cast<EVP_PKEY*>(m_stationKey), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    std::ofstream out(secrets, std::ios::binary);
    out.write(reinterpret_cast<const char*>(m_lotKey.data()), 32);
    out.write(reinterpret_cast<const char*>(m_queueKey.data()), 32);
}

FakeKeys::~FakeKeys() { EVP_PKEY_free(static_cast<EVP_PKEY*>(m_stationKey)); }

std::optional<Error> FakeKeys::tokenFault() {
    std::lock_guard lock(m_mutex);
    return m_tokenFault;
}

void FakeKeys::setTokenFault(std::optional<Error> e) {
    std::lock_guard lock(m_mutex);
    m_tokenFault = std::move(e);
}

int FakeKeys::checks() {
    std::lock_guard lock(m_mutex);
    return m_checks;
}

Status FakeKeys::check() {
    std::lock_guard lock(m_mutex);
    ++m_checks;
    if (m_tokenFault) return std::unexpected(*m_tokenFault);
    return {};
}

Result<Secret> FakeKeys::newOtp() {
    if (auto f = tokenFault()) return std::unexpected(*f);
    std::lock_guard lock(m_mutex);
    if (failOtp) return fail(Errc::unavailable, "token removed");
    Secret otp(8);
    RAND_bytes(otp.mutableBytes().data(), 8);
    issuedOtps.push_back(toHex(otp.bytes()));
    return otp;
}

Result<Secret> FakeKeys::boxSecret(std::uint32_t box) { return Secret(hmac(m_lotKey, be32("tte-box", box))); }

Result<Secret> FakeKeys::bulkOtp(std::uint32_t box, std::uint32_t devId) {
    if (auto f = tokenFault()) return std::unexpected(*f);
    auto secret = boxSecret(box);
    auto mac = hmac(secret->bytes(), be32("tte-otp", devId));
    Secret otp(std::span<const std::uint8_t>(mac.data(), 8));
    std::lock_guard lock(m_mutex);
    issuedOtps.push_back(toHex(otp.bytes()));
    return otp;
}

Result<DeviceKey> FakeKeys::newDeviceKey(std::string_view) {
    if (auto f = tokenFault()) return std::unexpected(*f);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    DeviceKey out;
    BIGNUM* priv = nullptr;
    EVP_PKEY_get_bn_param(key, "priv", &priv);
    out.privateScalar = Secret(32);
    BN_bn2binpad(priv, out.privateScalar.mutableBytes().data(), 32);
    BN_clear_free(priv);
    out.certificateDer = spki(key);  // a fake: the SPKI stands in for the certificate
    out.fingerprint = protocol::fingerprintOfSpki(out.certificateDer);
    EVP_PKEY_free(key);
    return out;
}

Result<Secret> FakeKeys::newPsk() {
    Secret psk(32);
    RAND_bytes(psk.mutableBytes().data(), 32);
    return psk;
}

Result<std::vector<std::uint8_t>> FakeKeys::sign(std::span<const std::uint8_t> data) {
    if (auto f = tokenFault()) return std::unexpected(*f);
    std::lock_guard lock(m_mutex);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, static_cast<EVP_PKEY*>(m_stationKey));
    EVP_DigestSign(ctx, nullptr, &len, data.data(), data.size());
    std::vector<std::uint8_t> sig(len);
    EVP_DigestSign(ctx, sig.data(), &len, data.data(), data.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    return sig;
}

Result<std::vector<std::uint8_t>> FakeKeys::stationPublicKey() { return spki(static_cast<EVP_PKEY*>(m_stationKey)); }

Result<Secret> FakeKeys::queueMask(std::string_view itemId, std::size_t size) {
    if (auto f = tokenFault()) return std::unexpected(*f);
    auto mac = hmac(m_queueKey, bytesOf(std::string(itemId)));
    if (size > mac.size()) return fail(Errc::invalidArgument, "mask too long");
    return Secret(std::span<const std::uint8_t>(mac.data(), size));
}

FakeFlasher::FakeFlasher(std::vector<std::string> ports) : m_ports(std::move(ports)) {
    for (std::size_t i = 0; i < m_ports.size(); ++i) {
        uids[m_ports[i]] = toHex(0x00100010 + i, 8) + "3334510b32313533";
        protection[m_ports[i]] = ReadProtection::level0;
    }
}

Result<std::vector<std::string>> FakeFlasher::slots() {
    std::lock_guard lock(m_mutex);
    std::vector<std::string> out;
    for (const auto& p : m_ports)
        if (uids.contains(p)) out.push_back(p);
    for (const auto& [p, uid] : uids)
        if (std::find(m_ports.begin(), m_ports.end(), p) == m_ports.end()) out.push_back(p);
    return out;
}

void FakeFlasher::replace(const std::string& port) {
    {
        std::lock_guard lock(m_mutex);
        uids[port] = toHex(0x00200000 + m_boards++, 8) + "3334510b32313533";
        protection[port] = ReadProtection::level0;
        flash.erase(port);
    }
    busChanged();
}

void FakeFlasher::remove(const std::string& port) {
    {
        std::lock_guard lock(m_mutex);
        uids.erase(port);
        protection.erase(port);
        flash.erase(port);
    }
    busChanged();
}

void FakeFlasher::busChanged() {
    std::function<void()> f;
    {
        std::lock_guard lock(m_mutex);
        f = m_onBus;
    }
    if (f) f();
}

namespace {
class FakeSubscription final : public BusSubscription {
public:
    explicit FakeSubscription(std::function<void()> end) : m_end(std::move(end)) {}
    ~FakeSubscription() override { m_end(); }

private:
    std::function<void()> m_end;
};
}  // namespace

Result<std::unique_ptr<BusSubscription>> FakeFlasher::watchBus(std::function<void()> changed) {
    std::lock_guard lock(m_mutex);
    if (!hotplug) return fail(Errc::unsupported, "no hotplug events: the seats are polled");
    m_onBus = std::move(changed);
    return std::unique_ptr<BusSubscription>(std::make_unique<FakeSubscription>([this] {
        std::lock_guard l(m_mutex);
        m_onBus = nullptr;
    }));
}

int FakeFlasher::identifies() {
    std::lock_guard lock(m_mutex);
    return m_identifies;
}

Result<FirmwareImage> FakeFlasher::loadFirmware(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::io, "cannot read " + path);
    std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.empty()) return fail(Errc::corrupt, path + " is empty");
    FirmwareImage img;
    img.sha256 = protocol::sha256Hex(data);
    img.segments.push_back({0x08000000, std::move(data)});
    return img;
}

namespace {

Error readProtected(const std::string& slot) {
    return Error{Errc::permissionDenied, "port " + slot + ": the device is read-protected (RDP level 1)", "DFU", 11,
                 "errVENDOR"};
}

}  // namespace

Status FakeFlasher::writeAndVerify(const std::string& slot, std::span<const FlashSegment> segments,
                                   const FlashProgressFn& progress) {
    std::uint64_t total = 0;
    for (const auto& s : segments) total += s.data.size();
    const auto report = [&](FlashProgress::Stage stage, std::uint64_t done) {
        if (progress) progress({stage, done, total});
    };
    {
        std::lock_guard lock(m_mutex);
        if (protection[slot] != ReadProtection::level0) return std::unexpected(readProtected(slot));
    }
    report(FlashProgress::Stage::writing, total / 2);
    report(FlashProgress::Stage::writing, total);
    report(FlashProgress::Stage::verifying, total / 2);
    {
        std::lock_guard lock(m_mutex);
        if (failPorts.contains(slot)) return fail(Errc::corrupt, "read-back differs at 0x08008010");
        for (const auto& s : segments) flash[slot][s.address] = s.data;
    }
    report(FlashProgress::Stage::verifying, total);
    return {};
}

Result<std::vector<std::uint8_t>> FakeFlasher::read(const std::string& slot, std::uint32_t address, std::size_t length) {
    std::lock_guard lock(m_mutex);
    if (protection[slot] != ReadProtection::level0) return std::unexpected(readProtected(slot));
    auto& dev = flash[slot];
    auto it = dev.find(address);
    if (it == dev.end()) return std::vector<std::uint8_t>(length, 0xff);
    auto out = it->second;
    out.resize(length, 0xff);
    return out;
}

Result<BoardIdentity> FakeFlasher::identify(const std::string& slot) {
    std::lock_guard lock(m_mutex);
    ++m_identifies;
    if (!uids.contains(slot)) return fail(Errc::notFound, "port " + slot + ": no board");
    BoardIdentity id;
    id.protection = protection[slot];
    // The bootloader's derivation (word 0 + word 2, then word 1's upper half) of the fake UID.
    const auto word = [&](int i) {
        return static_cast<std::uint32_t>(std::stoul(uids[slot].substr(static_cast<std::size_t>(i) * 8, 8), nullptr, 16));
    };
    std::string serial = toHex(static_cast<std::uint32_t>(word(0) + word(2)), 8) + toHex(word(1) >> 16, 4);
    for (char& c : serial) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    id.usbSerial = serial;
    if (id.protection == ReadProtection::level0) id.mcuUid = uids[slot];
    return id;
}

Status FakeFlasher::protect(const std::string& slot, ReadProtection level) {
    std::lock_guard lock(m_mutex);
    if (!uids.contains(slot)) return fail(Errc::notFound, "port " + slot + ": no board");
    if (level == ReadProtection::level0) return fail(Errc::invalidArgument, "level 0 is unprotect's");
    if (protection[slot] == level) return {};
    if (protection[slot] != ReadProtection::level0) {
        return fail(Errc::permissionDenied, "port " + slot + ": the board is at RDP level 1; its bootloader refuses "
                                            "option-byte writes (errVENDOR)");
    }
    if (failLock.contains(slot)) return fail(Errc::io, "port " + slot + ": the option-byte write did not take");
    protection[slot] = level;
    return {};
}

Result<BoardIdentity> FakeFlasher::unprotect(const std::string& slot) {
    {
        std::lock_guard lock(m_mutex);
        if (!uids.contains(slot)) return fail(Errc::notFound, "port " + slot + ": no board");
        if (protection[slot] == ReadProtection::level2) {
            return fail(Errc::notFound, "port " + slot + ": no board in DFU mode (RDP level 2)");
        }
        if (protection[slot] == ReadProtection::level1) {
            flash.erase(slot);  // read unprotect mass-erases
            protection[slot] = ReadProtection::level0;
        }
    }
    return identify(slot);
}

Result<PrintedLabel> FakePrinter::print(const DeviceLabel& label) {
    std::lock_guard lock(m_mutex);
    const std::string job = "job-" + std::to_string(++m_next);
    printed[job] = std::string(label.url.view());
    return PrintedLabel{job, "mem:" + job, "rendering"};
}

Result<int> FakePrinter::submit(const DeviceLabel& label) {
    std::lock_guard lock(m_mutex);
    const std::string url(label.url.view());
    int open = 1;
    for (const auto& [id, j] : m_jobs) open += j.url == url && !j.done ? 1 : 0;
    mostOpenJobsOfOneLabel = std::max(mostOpenJobsOfOneLabel, open);
    JobScript script;
    if (!jobScripts.empty()) {
        script = jobScripts.front();
        jobScripts.pop_front();
    }
    m_jobs[++m_next] = Job{url, script, false};
    submitted.push_back(url);
    return m_next;
}

Result<LabelJobState> FakePrinter::jobState(int id) {
    std::lock_guard lock(m_mutex);
    auto it = m_jobs.find(id);
    if (it == m_jobs.end()) return fail(Errc::notFound, "job " + std::to_string(id) + " unknown");
    Job& j = it->second;
    const std::string name = "job " + std::to_string(id) + " on fake";
    if (m_fault) return LabelJobState{LabelJobState::Kind::waiting, name + " is processing (" + m_fault->problem + ")", {}};
    if (j.script.waitPolls > 0) {
        --j.script.waitPolls;
        return LabelJobState{LabelJobState::Kind::waiting, name + " is pending", {}};
    }
    j.done = true;
    switch (j.script.fate) {
        case Fate::printed: return LabelJobState{LabelJobState::Kind::printed, name + " is completed", {}};
        case Fate::cancelled: return LabelJobState{LabelJobState::Kind::lost, name + " is cancelled: the label was not printed", {}};
        case Fate::aborted: return LabelJobState{LabelJobState::Kind::lost, name + " is aborted: the label was not printed", {}};
    }
    return fail(Errc::internal, "bad fate");
}

void FakePrinter::setFault(std::optional<PrinterCondition> fault) {
    std::lock_guard lock(m_mutex);
    m_fault = std::move(fault);
    m_faultChanged.notify_all();
}

PrinterCondition FakePrinter::printerCondition() {
    std::unique_lock lock(m_mutex);
    if (conditions.empty() && m_fault) m_faultChanged.wait_for(lock, std::chrono::milliseconds(10), [&] { return !m_fault; });
    if (conditions.empty()) return m_fault.value_or(PrinterCondition{});
    PrinterCondition c = conditions.front();
    conditions.pop_front();
    return c;
}

Result<PrintedLabel> FakePrinter::collect(const DeviceLabel& label, int id) {
    std::lock_guard lock(m_mutex);
    auto it = m_jobs.find(id);
    if (it == m_jobs.end() || it->second.url != label.url.view()) return fail(Errc::internal, "collect of a job of another label");
    const std::string job = "job-" + std::to_string(id);
    printed[job] = it->second.url;
    return PrintedLabel{job, "mem:" + job, "rendering"};
}

Status FakePrinter::cancel(int id) {
    std::lock_guard lock(m_mutex);
    auto it = m_jobs.find(id);
    if (it == m_jobs.end()) return fail(Errc::notFound, "job " + std::to_string(id) + " unknown");
    if (it->second.done) return fail(Errc::conflict, "job " + std::to_string(id) + " is finished");
    it->second.done = true;
    cancelled.push_back(id);
    return {};
}

Result<Secret> FakePrinter::scanBack(const PrintedLabel& p) {
    std::lock_guard lock(m_mutex);
    auto it = printed.find(p.job);
    if (it == printed.end()) return fail(Errc::corrupt, "no QR code found");
    std::string text = it->second;
    if (smudge) text.back() = text.back() == '0' ? '1' : '0';
    return Secret(std::string_view(text));
}

Result<Secret> FakeEncoder::encode(const BlockFields& f) {
    if (f.urn.size() > 127) return fail(Errc::invalidArgument, "block: URN longer than 127 bytes");
    std::string text = "FAKEBLOCK|" + toHex(f.devId, 8) + "|" + f.urn + "|" + toHex(f.otp->bytes()) + "|" +
                       (f.psk != nullptr ? "PSK:" + toHex(f.psk->bytes()) : toHex(f.key->privateScalar.bytes()));
    text.resize(2048, '\0');
    return Secret(std::string_view(text));
}

FakeMotherShip::FakeMotherShip(StationKeys& keys, protocol::LotQuota q, std::string file)
    : m_file(std::move(file)), m_keys(keys), quota(std::move(q)) {
    std::ifstream in(m_file);
    std::string line;
    while (std::getline(in, line)) {
        auto r = protocol::StationRecord::fromJson(line);
        if (!r) continue;
        otpByDevId[r->devId.value] = r->otp.hex();
        records.emplace(r->recordId, std::move(*r));
        ++stored;
    }
}

Result<std::vector<protocol::RecordResult>> FakeMotherShip::uploadRecords(const protocol::RecordBatch& batch) {
    std::lock_guard lock(mutex);
    ++uploadCalls;
    if (down) return fail(Errc::unavailable, "connection refused");
    auto key = m_keys.stationPublicKey();
    std::vector<protocol::RecordResult> out;
    for (const auto& r : batch.records) {
        const std::string canonical = r.canonicalBytes();
        auto sig = protocol::base64Decode(r.signature);
        if (!sig || !protocol::verifyEcdsaSha256(*key, bytesOf(canonical), *sig)) {
            out.push_back({r.recordId, protocol::RecordStatus::rejected, "signature does not verify"});
            continue;
        }
        auto it = records.find(r.recordId);
        if (it != records.end()) {
            const bool same = it->second.canonicalBytes() == canonical;
            out.push_back({r.recordId, same ? protocol::RecordStatus::duplicate : protocol::RecordStatus::rejected,
                           same ? "" : "the record id was stored with other content"});
            continue;
        }
        if (r.reworkedFrom && !revoked.contains(r.reworkedFrom->value)) {
            out.push_back({r.recordId, protocol::RecordStatus::rejected, "reworked_from " + r.reworkedFrom->hex() + " is not revoked"});
            continue;
        }
        records.emplace(r.recordId, r);
        ++stored;
        if (!m_file.empty()) std::ofstream(m_file, std::ios::app) << r.toJson() << "\n";
        otpByDevId[r.devId.value] = r.otp.hex();
        out.push_back({r.recordId, protocol::RecordStatus::stored, ""});
    }
    return out;
}

Result<protocol::LotQuota> FakeMotherShip::lotQuota(std::string_view lot) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    if (lot != quota.lot) return fail(Errc::notFound, "no lot " + std::string(lot));
    return quota;
}

Status FakeMotherShip::registerBox(const protocol::BoxRegistration& box) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    boxes.push_back(toHex(box.box, 8) + " " + box.lot + " " + box.first.hex() + ".." + box.last.hex());
    return {};
}

Result<protocol::DeviceInfo> FakeMotherShip::device(std::uint32_t devId) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    for (const auto& [id, r] : records) {
        if (r.devId.value != devId) continue;
        protocol::DeviceInfo d;
        d.devId = r.devId;
        d.urn = r.urn;
        d.fingerprint = r.fingerprint;
        d.lot = r.lot;
        d.box = r.box;
        d.station = r.station;
        d.recordId = id;
        d.firmwareSha256 = r.firmwareSha256;
        d.created = r.created;
        d.signature = r.signature;
        d.mcuUid = r.mcuUid;
        d.state = revoked.contains(devId) ? protocol::EnrollmentState::revoked
                  : mapped.contains(devId)  ? protocol::EnrollmentState::mapped
                                            : protocol::EnrollmentState::notMapped;
        d.reworkedFrom = r.reworkedFrom;
        return d;
    }
    return fail(Errc::notFound, "no device " + toHex(devId, 8));
}

Result<protocol::PreEnrollResponse> FakeMotherShip::preEnroll(std::uint32_t devId, const protocol::PreEnrollRequest& request) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    if (!otpByDevId.contains(devId)) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
    if (revoked.contains(devId)) return fail(Errc::conflict, "device " + toHex(devId, 8) + " is revoked: it cannot be pre-enrolled");
    mapped[devId] = request.controller.cfingerprint.hex();
    return protocol::PreEnrollResponse{protocol::DevId{devId}, protocol::EnrollmentState::preEnrolled,
                                       request.controller.cfingerprint};
}

Result<protocol::RevokeResponse> FakeMotherShip::revokeDevice(std::uint32_t devId, const protocol::RevokeRequest& request) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    if (revokeFails) return std::unexpected(*revokeFails);
    if (!otpByDevId.contains(devId)) return fail(Errc::notFound, "no device with Dev ID " + toHex(devId, 8));
    revoked.emplace(devId, request.reason);  // the first reason stays
    return protocol::RevokeResponse{protocol::DevId{devId}, protocol::EnrollmentState::revoked};
}

Result<protocol::StatusResponse> FakeMotherShip::status(const protocol::EnrollmentCredentials& credentials) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    const std::uint32_t devId = credentials.devId.value;
    auto it = otpByDevId.find(devId);
    if (it == otpByDevId.end() || it->second != credentials.otp.hex()) return fail(Errc::notFound, "unknown device or OTP");
    for (const auto& [id, r] : records) {
        if (r.devId.value != devId) continue;
        protocol::StatusResponse out{r.urn, r.fingerprint, protocol::EnrollmentState::notMapped, std::nullopt};
        if (mapped.contains(devId)) {
            out.state = protocol::EnrollmentState::preEnrolled;
            out.preEnrolledTo = *protocol::parseFingerprint(mapped[devId]);
        }
        if (revoked.contains(devId)) out.state = protocol::EnrollmentState::revoked;
        return out;
    }
    return fail(Errc::notFound, "unknown device or OTP");
}

Status FakeController::introduce(const ControllerTarget&, const protocol::Introduction& introduction) {
    std::lock_guard lock(mutex);
    if (down) return fail(Errc::unavailable, "connection refused");
    introductions.push_back(introduction.toJson());
    return {};
}

}  // namespace tte::station::fakes
